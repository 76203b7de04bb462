// A strict, click-like parser driven by grammar.json (a copy of the real CLI's
// option table). Unknown options, missing values and bad choices fail exactly
// where click fails: exit 2 with `Usage: ...` and `Error: ...` on stderr.
import fs from 'node:fs'
import path from 'node:path'

export class UsageError extends Error {
  constructor(message, command) {
    super(message)
    this.command = command
  }
}

function keyOf(decl) {
  const long = decl.opts.find((o) => o.startsWith('--')) ?? decl.opts[0]
  return long.replace(/^-+/, '').replace(/-/g, '_')
}

function displayNames(decl) {
  return decl.opts.map((o) => `'${o}'`).join(' / ')
}

// click prints a required argument bare, an optional one in brackets: `CLUSTER [JOBS]...`.
function argLabel(d) {
  const name = `${d.arg.toUpperCase()}${d.nargs === -1 ? '...' : ''}`
  return d.required ? name : `[${d.arg.toUpperCase()}]${d.nargs === -1 ? '...' : ''}`
}

export function usageLine(grammar, command) {
  const decls = grammar[command] ?? []
  const args = decls
    .filter((d) => 'arg' in d)
    .map((d) => argLabel(d))
  const sub = Object.keys(grammar).some((k) => k.startsWith(command ? `${command} ` : '') && k !== command && k !== '')
  const parts = ['sky', command, '[OPTIONS]', ...args].filter(Boolean)
  if (sub && args.length === 0) parts.push('COMMAND [ARGS]...')
  return `Usage: ${parts.join(' ')}`
}

function parseDotenv(file) {
  const out = {}
  for (const raw of fs.readFileSync(file, 'utf8').split(/\r?\n/)) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line)
    if (!m) continue
    let v = m[2]
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1)
    out[m[1]] = v
  }
  return out
}

function convert(decl, raw, env, command) {
  const bad = (msg) => new UsageError(`Invalid value for ${displayNames(decl)}: ${msg}`, command)
  switch (decl.type) {
    case 'integer':
      if (!/^[-+]?\d+$/.test(raw.trim())) throw bad(`'${raw}' is not a valid integer.`)
      return Number.parseInt(raw, 10)
    case 'int-or-none':
      if (raw.toLowerCase() === 'none') return null
      if (!/^[-+]?\d+$/.test(raw.trim())) throw bad(`'${raw}' is not a valid integer.`)
      return Number.parseInt(raw, 10)
    case 'float':
      if (Number.isNaN(Number(raw)) || raw.trim() === '') throw bad(`'${raw}' is not a valid float.`)
      return Number(raw)
    case 'choice':
      if (!decl.choices.includes(raw)) {
        throw bad(`'${raw}' is not one of ${decl.choices.map((c) => `'${c}'`).join(', ')}.`)
      }
      return raw
    case 'directory': {
      let st
      try {
        st = fs.statSync(raw)
      } catch {
        throw bad(`Directory '${raw}' does not exist.`)
      }
      if (!st.isDirectory()) throw bad(`Directory '${raw}' is a file.`)
      return raw
    }
    case '_parse_env_var':
    case '_parse_secret_var': {
      const eq = raw.indexOf('=')
      if (eq === -1) {
        // Bare KEY: the value comes from the caller's environment, as the real CLI does.
        if (env[raw] !== undefined) return [raw, env[raw]]
        throw bad(`${raw} is not set in local environment and does not have a value (e.g. KEY=VALUE).`)
      }
      return [raw.slice(0, eq), raw.slice(eq + 1)]
    }
    case '_parse_dotenv_file':
      try {
        return parseDotenv(raw)
      } catch {
        throw bad(`File '${raw}' does not exist.`)
      }
    default:
      return raw
  }
}

/**
 * Resolve the command path and parse its options.
 * Returns { command, opts, args, help } or throws UsageError.
 */
export function parseArgv(grammar, argv, env = process.env) {
  let command = ''
  let i = 0
  const opts = {}
  const positionals = []
  let help = false
  const isGroup = (cmd) => Object.keys(grammar).some((k) => cmd === '' ? k !== '' : k.startsWith(`${cmd} `))

  const declsFor = (cmd) => {
    const long = new Map()
    const short = new Map()
    for (const d of grammar[cmd] ?? []) {
      if ('arg' in d) continue
      for (const o of d.opts) (o.length === 2 ? short : long).set(o, { decl: d, value: true })
      for (const o of d.secondary ?? []) (o.length === 2 ? short : long).set(o, { decl: d, value: false })
    }
    return { long, short }
  }
  let table = declsFor(command)

  const setOpt = (decl, value) => {
    const k = keyOf(decl)
    if (decl.multiple) (opts[k] ??= []).push(value)
    else if (decl.count) opts[k] = (opts[k] ?? 0) + 1
    else opts[k] = value
  }

  let dashdash = false
  while (i < argv.length) {
    const tok = argv[i++]
    if (dashdash) {
      positionals.push(tok)
      continue
    }
    if (tok === '--') {
      dashdash = true
      continue
    }
    if (tok === '-h' || tok === '--help') {
      help = true
      continue
    }
    if (tok.startsWith('-') && tok.length > 1) {
      const eq = tok.indexOf('=')
      const name = eq === -1 ? tok : tok.slice(0, eq)
      const explicit = eq === -1 ? undefined : tok.slice(eq + 1)
      const hit = table.long.get(name) ?? (name.length === 2 ? table.short.get(name) : undefined)
      if (hit) {
        const { decl } = hit
        if (decl.flag) {
          if (explicit !== undefined) throw new UsageError(`Option '${name}' does not take a value.`, command)
          setOpt(decl, hit.value)
        } else {
          let raw = explicit
          if (raw === undefined) {
            if (i >= argv.length) throw new UsageError(`Option '${name}' requires an argument.`, command)
            raw = argv[i++]
          }
          setOpt(decl, convert(decl, raw, env, command))
        }
        continue
      }
      if (tok.startsWith('--')) throw new UsageError(`No such option: ${name}`, command)
      // A cluster of short options: -yd, -cNAME, -c NAME.
      for (let j = 1; j < tok.length; j++) {
        const s = `-${tok[j]}`
        const h = table.short.get(s)
        if (!h) throw new UsageError(`No such option: ${s}`, command)
        if (h.decl.flag) {
          setOpt(h.decl, h.value)
          continue
        }
        let raw = tok.slice(j + 1)
        if (raw === '') {
          if (i >= argv.length) throw new UsageError(`Option '${s}' requires an argument.`, command)
          raw = argv[i++]
        }
        setOpt(h.decl, convert(h.decl, raw, env, command))
        break
      }
      continue
    }
    // A positional: a subcommand while we are still at a group.
    if (positionals.length === 0 && isGroup(command)) {
      const next = command ? `${command} ${tok}` : tok
      if (!(next in grammar)) throw new UsageError(`No such command '${tok}'.`, command)
      if (Object.keys(opts).length && command === '') {
        // top-level options (--version) are handled by the caller before dispatch
      }
      command = next
      table = declsFor(command)
      continue
    }
    positionals.push(tok)
  }

  // Assign positionals to arguments in order; nargs=-1 takes what the later
  // nargs=1 arguments do not need.
  const argDecls = (grammar[command] ?? []).filter((d) => 'arg' in d)
  const args = {}
  let p = 0
  argDecls.forEach((d, idx) => {
    if (d.nargs === -1) {
      const after = argDecls.slice(idx + 1).filter((x) => x.nargs !== -1).length
      const take = Math.max(0, positionals.length - p - after)
      args[d.arg] = positionals.slice(p, p + take)
      p += take
    } else {
      args[d.arg] = p < positionals.length ? positionals[p++] : null
    }
  })
  const missing = help ? undefined : argDecls.find((d) => d.required && (d.nargs === -1 ? args[d.arg].length === 0 : args[d.arg] === null))
  if (missing) throw new UsageError(`Missing argument '${argLabel(missing)}'.`, command)
  if (p < positionals.length) {
    const extra = positionals.slice(p)
    throw new UsageError(
      `Got unexpected extra argument${extra.length > 1 ? 's' : ''} (${extra.join(' ')})`,
      command
    )
  }
  return { command, opts, args, help, isGroup: isGroup(command) && command !== '' ? true : command === '' }
}

export function formatUsageError(grammar, err) {
  const cmd = err.command ?? ''
  const tryLine = `Try 'sky${cmd ? ` ${cmd}` : ''} -h' for help.`
  return `${usageLine(grammar, cmd)}\n${tryLine}\n\nError: ${err.message}\n`
}

export function helpText(grammar, command) {
  const lines = [usageLine(grammar, command), '', 'Options:']
  for (const d of grammar[command] ?? []) {
    if ('arg' in d) continue
    const names = [...d.opts, ...(d.secondary ?? [])].join(' / ')
    lines.push(`  ${names}${d.flag ? '' : ` ${String(d.type).toUpperCase()}`}`)
  }
  lines.push('  -h, --help  Show this message and exit.')
  const subs = Object.keys(grammar).filter(
    (k) => k !== command && (command ? k.startsWith(`${command} `) : k !== '') && k.split(' ').length === (command ? command.split(' ').length + 1 : 1)
  )
  if (subs.length) lines.push('', 'Commands:', ...subs.map((s) => `  ${s.split(' ').pop()}`))
  return `${lines.join('\n')}\n`
}

export function loadGrammar(dir) {
  return JSON.parse(fs.readFileSync(path.join(dir, 'grammar.json'), 'utf8'))
}

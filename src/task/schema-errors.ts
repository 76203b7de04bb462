// Turns Ajv errors from the generated validators into one message per
// problem that says what to do, with the position of the offending key or
// value. anyOf/oneOf noise is folded into the branch the value was meant for.
import type { ErrorObject } from 'ajv'
import { closestMatch } from './similar.js'
import type { Path, Position, Problem } from './parse.js'
import { PyOpaque, withLine } from './parse.js'
import { pyStr } from './python.js'

export interface SchemaContext {
  /** Path of the validated object inside the task document (e.g. ['resources']). */
  base: Path
  /** Where to find positions, by the path of what was validated (not rewritten). */
  locate(path: Path, key?: boolean): Position | undefined
  /** The validated data, to show offending values and list known keys. */
  data: unknown
  /** Maps a validated path back to what the user wrote (e.g. accelerators → gpus). */
  rewrite?: (path: Path) => Path
}

const ENV_NAME = '[a-zA-Z_][a-zA-Z0-9_]*'

function parsePointer(pointer: string): (string | number)[] {
  if (pointer === '') return []
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s))
}

export function displayPath(path: Path): string {
  let out = ''
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`
    else out += out === '' ? segment : `.${segment}`
  }
  return out
}

function valueAt(data: unknown, path: Path): unknown {
  let v = data
  for (const s of path) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<string | number, unknown>)[s]
  }
  return v
}

function describe(value: unknown): string {
  if (value instanceof PyOpaque) return value.describe()
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a map'
  if (typeof value === 'string') return `the text '${value.length > 60 ? value.slice(0, 57) + '...' : value}'`
  if (typeof value === 'number') return Number.isInteger(value) ? `the number ${value}` : `the number ${value}`
  if (typeof value === 'boolean') return `the boolean ${value}`
  return typeof value
}

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'a map (key: value lines)',
  array: 'a list',
  null: 'empty (null)'
}

function typeWords(types: string[]): string {
  const words = [...new Set(types.flatMap((t) => t.split(',')))].map((t) => TYPE_WORDS[t] ?? t)
  if (words.length <= 1) return words[0] ?? 'another type'
  return `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`
}

function typeHint(types: string[], value: unknown): string {
  const flat = types.flatMap((t) => t.split(','))
  if (flat.includes('string') && value instanceof PyOpaque && value.py.type !== 'set' && value.py.type !== 'tuple') {
    return ` Quote it to make it text: '${pyStr(value.py)}'.`
  }
  if (flat.includes('string') && (typeof value === 'number' || typeof value === 'boolean')) {
    return ` Quote it to make it text: '${String(value)}'.`
  }
  if ((flat.includes('integer') || flat.includes('number')) && typeof value === 'string') {
    return ' Write a plain number without quotes or units.'
  }
  if (flat.includes('object') && value === null) return ' Add its keys, or remove it.'
  return ` Change it to ${typeWords(types)}.`
}

interface Folded {
  error: ErrorObject
  /** For type errors merged across anyOf branches. */
  types?: string[]
}

/** Folds anyOf/oneOf branch errors into the errors of the branch that fits best. */
function fold(errors: ErrorObject[]): Folded[] {
  const consumed = new Set<ErrorObject>()
  const out: Folded[] = []
  const combinators = errors
    .filter((e) => (e.keyword === 'anyOf' || e.keyword === 'oneOf') && !('passingSchemas' in e.params && e.params.passingSchemas))
    .sort((a, b) => a.schemaPath.length - b.schemaPath.length)
  for (const combinator of combinators) {
    if (consumed.has(combinator)) continue
    consumed.add(combinator)
    const prefix = combinator.schemaPath + '/'
    const branches = new Map<string, ErrorObject[]>()
    for (const e of errors) {
      if (consumed.has(e) || !e.schemaPath.startsWith(prefix)) continue
      if (!e.instancePath.startsWith(combinator.instancePath)) continue
      const branch = e.schemaPath.slice(prefix.length).split('/')[0] ?? ''
      branches.set(branch, [...(branches.get(branch) ?? []), e])
      consumed.add(e)
    }
    const isOwnTypeMismatch = (e: ErrorObject): boolean =>
      e.instancePath === combinator.instancePath &&
      (e.keyword === 'type' || e.keyword === 'anyOf' || e.keyword === 'oneOf')
    const fitting = [...branches.values()].filter((errs) => !errs.some(isOwnTypeMismatch))
    if (fitting.length > 0) {
      const best = fitting.sort((a, b) => a.length - b.length)[0] ?? []
      for (const e of best) consumed.delete(e)
      continue
    }
    const types: string[] = []
    for (const errs of branches.values()) {
      for (const e of errs) if (e.keyword === 'type' && e.instancePath === combinator.instancePath) types.push(String(e.params.type))
    }
    out.push({ error: { ...combinator, keyword: 'type', params: { type: types.join(',') } }, types })
  }
  for (const e of errors) if (!consumed.has(e)) out.push({ error: e })
  // Keep document order roughly: by path, then as Ajv reported.
  return out
}

export function schemaProblems(errors: readonly ErrorObject[] | null | undefined, ctx: SchemaContext): Problem[] {
  if (!errors || errors.length === 0) return []
  const problems: Problem[] = []
  const seen = new Set<string>()
  for (const { error, types } of fold([...errors])) {
    const rel = parsePointer(error.instancePath)
    const full = [...ctx.base, ...rel]
    const shownPath = ctx.rewrite ? ctx.rewrite(full) : full
    const where = displayPath(shownPath)
    const value = valueAt(ctx.data, rel)
    let problem: Problem
    switch (error.keyword) {
      case 'additionalProperties': {
        const key = String(error.params.additionalProperty)
        const at = ctx.locate([...full, key], true)
        const parentSchema = error.parentSchema as Record<string, unknown> | undefined
        if (parentSchema && 'patternProperties' in parentSchema && where.endsWith('envs')) {
          problem = withLine(`${where}.${key}: env names must match ${ENV_NAME}`, at)
          problem.message += `. Rename it, e.g. '${key.replace(/[^a-zA-Z0-9_]/g, '_').replace(/^([0-9])/, '_$1')}'.`
          break
        }
        const known = Object.keys((parentSchema?.properties as object | undefined) ?? {}).filter((k) => !k.startsWith('_'))
        const guess = closestMatch(key, known)
        const place = where === '' ? 'the task' : `'${where}'`
        const base = withLine(`Unknown key '${key}' in ${place}`, at)
        base.message += guess ? `. Did you mean '${guess}'?` : `. Valid keys: ${known.join(', ')}.`
        problem = base
        break
      }
      case 'type': {
        const expected = types ?? [String(error.params.type)]
        problem = withLine(
          `${where || 'The task'}: must be ${typeWords(expected)}, got ${describe(value)}`,
          ctx.locate(full)
        )
        problem.message += '.' + typeHint(expected, value)
        break
      }
      case 'case_insensitive_enum':
      case 'enum': {
        const allowed = (error.params.allowedValues as unknown[]).map(String)
        const guess = typeof value === 'string' ? closestMatch(value.toLowerCase(), allowed) : undefined
        const shown = typeof value === 'string' ? `'${value}'` : describe(value)
        problem = withLine(`${where}: ${shown} is not allowed`, ctx.locate(full))
        problem.message +=
          (guess ? `. Did you mean '${guess}'?` : '.') +
          ` Use one of: ${allowed.join(', ')}${error.keyword === 'case_insensitive_enum' ? ' (any case)' : ''}.`
        break
      }
      case 'pattern': {
        const last = shownPath[shownPath.length - 1]
        if (last === 'infra') {
          problem = withLine(`${where}: '${String(value)}' is not a valid infra`, ctx.locate(full))
          problem.message +=
            '. Write cloud[/region[/zone]] with a cloud SkyPilot knows (aws/us-east-1, gcp, azure, ...), ' +
            'k8s[/context], kubernetes[/context], or * for any.'
        } else {
          problem = withLine(`${where}: '${String(value)}' does not match ${String(error.params.pattern)}`, ctx.locate(full))
          problem.message += '. Change the value to that form.'
        }
        break
      }
      case 'required': {
        const missing = String(error.params.missingProperty)
        problem = withLine(`${where || 'The task'}: the key '${missing}' is required here`, ctx.locate(full))
        problem.message += `. Add '${missing}: ...'.`
        break
      }
      case 'not': {
        problem = withLine(`${where}: uses a form that is not allowed here`, ctx.locate(full))
        problem.message += where.endsWith('custom_metadata')
          ? ". Remove 'name' and 'namespace': SkyPilot sets them."
          : '. Check the SkyPilot task YAML reference for this key.'
        break
      }
      case 'oneOf': {
        problem = withLine(`${where}: matches more than one accepted form`, ctx.locate(full))
        problem.message += '. Make it unambiguous (see the SkyPilot task YAML reference).'
        break
      }
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum': {
        problem = withLine(`${where}: must be ${String(error.params.comparison)} ${String(error.params.limit)}, got ${describe(value)}`, ctx.locate(full))
        problem.message += '. Change the value.'
        break
      }
      case 'maxProperties': {
        problem = withLine(`${where}: must have at most ${String(error.params.limit)} key(s)`, ctx.locate(full))
        problem.message += '. Remove the extra keys.'
        break
      }
      default: {
        problem = withLine(`${where || 'The task'}: ${error.message ?? error.keyword}`, ctx.locate(full))
        problem.message += '. Fix this value (see the SkyPilot task YAML reference).'
      }
    }
    if (!seen.has(problem.message)) {
      seen.add(problem.message)
      problems.push(problem)
    }
  }
  return problems.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0))
}

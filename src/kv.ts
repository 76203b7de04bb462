import { parse as parseYaml } from 'yaml'

/** Env names as SkyPilot accepts them in `envs:` and `--env`. */
export const ENV_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

export type KeyValues = Record<string, string>

/**
 * Reads `envs`/`secrets`-shaped text: a JSON or YAML map, or `KEY=VALUE` lines (blank lines and
 * `#` comments skipped). Values are kept as strings; numbers and booleans in a map are cast the
 * way SkyPilot casts them. Returns problems rather than throwing, so every input is reported at once.
 */
export function parseKeyValues(text: string, what: string, opts: { secret?: boolean } = {}): { values: KeyValues; problems: string[] } {
  const values: KeyValues = {}
  const problems: string[] = []
  const trimmed = text.trim()
  if (trimmed === '') return { values, problems }

  if (looksLikeMap(trimmed)) {
    let parsed: unknown
    try {
      parsed = parseYaml(trimmed, { maxAliasCount: 0, uniqueKeys: true })
    } catch (error) {
      problems.push(`${what}: not valid YAML/JSON (${firstLine(error)}). Use a map like {"KEY": "value"} or KEY=VALUE lines.`)
      return { values, problems }
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      problems.push(`${what}: expected a map of names to values, like {"KEY": "value"}, or KEY=VALUE lines.`)
      return { values, problems }
    }
    for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
      if (value !== null && typeof value === 'object') {
        problems.push(`${what}: the value of '${key}' is a ${Array.isArray(value) ? 'list' : 'map'}; give a string.`)
        continue
      }
      addPair(key, value === null || value === undefined ? '' : String(value), what, values, problems)
    }
    return { values, problems }
  }

  trimmed.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const eq = line.indexOf('=')
    if (eq <= 0) {
      // Never echo a secret's line: without '=' it may be the value itself (`KEY value`, a pasted token).
      const shown = opts.secret ? '' : `, got '${truncate(line.split('=')[0] ?? '', 40)}...'`
      problems.push(`${what}, line ${index + 1}: expected KEY=VALUE${shown}. Write one KEY=VALUE per line.`)
      return
    }
    addPair(line.slice(0, eq).trim(), line.slice(eq + 1), opts.secret ? `${what}, line ${index + 1}` : what, values, problems, opts.secret)
  })
  return { values, problems }
}

function addPair(key: string, value: string, what: string, values: KeyValues, problems: string[], hideKey = false): void {
  if (!ENV_NAME.test(key)) {
    // A secret's invalid "name" may be a pasted value (a base64 token ends in '='): do not echo it.
    const shown = hideKey ? 'the name before =' : `'${truncate(key, 40)}'`
    problems.push(`${what}: ${shown} is not a valid name: names must match [a-zA-Z_][a-zA-Z0-9_]* (letters, digits, underscores; not starting with a digit).`)
    return
  }
  if (Object.hasOwn(values, key)) {
    problems.push(`${what}: '${key}' is given twice; keep one.`)
    return
  }
  values[key] = value
}

function looksLikeMap(text: string): boolean {
  if (text.startsWith('{')) return true
  // A YAML map has `KEY: value` on its first meaningful line and no `=` before the colon.
  const first = text.split(/\r?\n/).find((l) => l.trim() !== '' && !l.trim().startsWith('#')) ?? ''
  const colon = first.indexOf(':')
  const eq = first.indexOf('=')
  return colon > 0 && (eq < 0 || colon < eq)
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? ''
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`
}

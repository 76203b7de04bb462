import path from 'node:path'
import type { ResultEntry } from './entry.js'

/**
 * What `mode: report` reads: files other steps or jobs saved their results in. Three shapes:
 *
 * 1. The action's `results` output as it is: a JSON list of entries.
 *      [{"name": "lr0.01", "status": "SUCCEEDED", "outputs": {"val_loss": "0.41"}, "cost-usd": 0.75}, ...]
 * 2. One entry: an object with `name` (and optionally `outputs`, `status`, `cluster-name`,
 *    `job-id`, `exit-code`, `cost-usd`), e.g. one matrix cell's result.
 *      {"name": "lr0.01-bs32", "status": "SUCCEEDED", "outputs": {"val_loss": "0.41"}}
 * 3. One run's `job-outputs` output as it is (names to values, no `name` key): the entry is
 *    named after the file (`lr0.01-bs32.json` -> `lr0.01-bs32`).
 *      {"val_loss": "0.41", "model_path": "s3://bucket/lr0.01/model.pt"}
 *
 * Output values may be strings, numbers or booleans (read as text, as step outputs are).
 */

export const ENTRY_KEYS = ['name', 'cluster-name', 'job-id', 'status', 'exit-code', 'outputs', 'cost-usd', 'rank'] as const

const HOW =
  "Save the action's 'results' output (a list), one entry {\"name\": ..., \"outputs\": {...}}, or a step's 'job-outputs' output (an object of names to values) as the file's whole content."

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

function kindOf(value: Json): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

function isScalar(value: Json): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
}

/** The outputs of an entry as text, or the problems with them. */
function outputsOf(value: Json, where: string, problems: string[]): Record<string, string> | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`${where}: 'outputs' must be an object of names to values, got ${kindOf(value)}.`)
    return undefined
  }
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(value)) {
    if (isScalar(v)) out[k] = String(v)
    else if (v !== null) problems.push(`${where}: output '${k.slice(0, 64)}' is ${kindOf(v)}; an output's value is text (a string, number or boolean).`)
  }
  return out
}

function entryOf(value: { [key: string]: Json }, where: string, problems: string[]): ResultEntry | undefined {
  const before = problems.length
  const unknown = Object.keys(value).filter((k) => !(ENTRY_KEYS as readonly string[]).includes(k))
  if (unknown.length > 0) problems.push(`${where}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k.slice(0, 40)}'`).join(', ')}; an entry has ${ENTRY_KEYS.filter((k) => k !== 'rank').join(', ')}.`)
  const name = value.name
  if (typeof name !== 'string' || name.trim() === '') problems.push(`${where}: 'name' must be a non-empty string.`)
  const text = (key: string): string | undefined => {
    const v = value[key]
    if (v === undefined || v === null || v === '') return undefined
    if (typeof v === 'string' || typeof v === 'number') return String(v)
    problems.push(`${where}: '${key}' must be text, got ${kindOf(v)}.`)
    return undefined
  }
  const entry: ResultEntry = { name: typeof name === 'string' ? name.trim().slice(0, 200) : '' }
  const cluster = text('cluster-name')
  if (cluster !== undefined) entry['cluster-name'] = cluster
  const jobId = text('job-id')
  if (jobId !== undefined) entry['job-id'] = jobId
  const status = text('status')
  if (status !== undefined) entry.status = status
  const exit = value['exit-code']
  if (typeof exit === 'number' || exit === null) entry['exit-code'] = exit
  else if (exit !== undefined && exit !== '') problems.push(`${where}: 'exit-code' must be a number.`)
  if (value.outputs !== undefined && value.outputs !== null) entry.outputs = outputsOf(value.outputs, where, problems)
  const cost = value['cost-usd']
  if (cost !== undefined && cost !== null && cost !== '') {
    const n = typeof cost === 'number' ? cost : typeof cost === 'string' ? Number(cost) : Number.NaN
    if (Number.isFinite(n) && n >= 0) entry['cost-usd'] = n
    else problems.push(`${where}: 'cost-usd' must be a number of dollars (or empty when unknown).`)
  }
  return problems.length === before ? entry : undefined
}

/** The entries one saved file holds, or the problems that make it unreadable (with what to do). */
export function parseSavedResults(text: string, file: string): { entries: ResultEntry[]; problems: string[] } {
  const problems: string[] = []
  let data: Json
  try {
    data = JSON.parse(text) as Json
  } catch (error) {
    return { entries: [], problems: [`${file}: not JSON (${error instanceof Error ? error.message : String(error)}). ${HOW}`] }
  }
  const entries: ResultEntry[] = []
  if (Array.isArray(data)) {
    data.forEach((item, i) => {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        problems.push(`${file}: item ${i + 1} is ${kindOf(item)}, not an entry {"name": ..., "outputs": {...}}.`)
        return
      }
      const e = entryOf(item, `${file} item ${i + 1}`, problems)
      if (e) entries.push(e)
    })
    return { entries, problems }
  }
  if (data !== null && typeof data === 'object') {
    if ('name' in data || 'outputs' in data) {
      const e = entryOf(data, file, problems)
      return { entries: e ? [e] : [], problems }
    }
    // A job-outputs object: every value text.
    const bad = Object.entries(data).filter(([, v]) => !isScalar(v) && v !== null)
    if (bad.length === 0) {
      const outputs = outputsOf(data, file, problems)
      return { entries: [{ name: path.basename(file).replace(/\.json$/i, ''), outputs }], problems }
    }
    return { entries: [], problems: [`${file}: an object that is neither an entry (no 'name') nor a job-outputs object ('${bad[0]![0].slice(0, 40)}' is ${kindOf(bad[0]![1])}). ${HOW}`] }
  }
  return { entries: [], problems: [`${file}: holds ${kindOf(data)}. ${HOW}`] }
}

/**
 * What may legitimately differ between the real CLI's output and the double's, replaced by
 * placeholders before the two are compared byte for byte: the server's address, request ids,
 * managed job ids (a shared server has its own counter), the user hash in the controller's name,
 * versions, times. Colour codes are never touched: the double must print the real ones.
 */
export interface Subst {
  /** host:port of the side's server (credentials around it are kept). */
  hostPorts?: string[]
  /** Managed job ids of this side, each replaced by its placeholder (e.g. 17 -> <JOB1>). */
  jobIds?: Record<string, string>
  /** Exact strings to replace (versions, names). */
  literal?: Record<string, string>
}

export function normalize(text: string, s: Subst = {}): string {
  let t = text
  // Longest first: a full request id before its 8-character prefix (whatever the key order).
  for (const [from, to] of Object.entries(s.literal ?? {}).sort((a, b) => b[0].length - a[0].length)) t = t.split(from).join(to)
  for (const hp of s.hostPorts ?? []) t = t.split(hp).join('<HOST>')
  t = t.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<UUID>')
  t = t.replace(/sky-jobs-controller-[0-9a-f]{8}/g, 'sky-jobs-controller-<HASH>')
  t = t.replace(/object at 0x[0-9a-f]+/g, 'object at <ADDR>')
  // Ids last, only where the CLI prints a job id (never a digit in a name, a colour code or a
  // count: `This job has 2 tasks`); longest first (17 before 1).
  const ids = Object.entries(s.jobIds ?? {}).sort((a, b) => b[0].length - a[0].length)
  for (const [id, name] of ids) t = t.replace(new RegExp(`(?<=(?:ID:? |Job |jobs/|cancel |logs |--controller |finished: ))${id}(?![0-9])`, 'g'), name)
  return t
}

/** The 8-character request id the hints print, once its full id is known. */
export function requestSubst(uuid: string | undefined): Record<string, string> {
  return uuid ? { [uuid]: '<UUID>', [uuid.slice(0, 8)]: '<RID>' } : {}
}

/** The last line of a traceback (the frames above it are the real CLI's Python, not the double's). */
export function lastLine(text: string): string {
  return text.trimEnd().split('\n').at(-1) ?? ''
}

/** JSON type names, as facts.py names them. */
export function jsonType(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  return typeof v === 'object' ? 'object' : typeof v
}

/** The first JSON value in a command's stdout (lines before it, e.g. `Cluster(s) not found`, skipped). */
export function jsonOf(stdout: string): unknown {
  const start = stdout.search(/^[[{]/m)
  if (start < 0) throw new Error(`no JSON in: ${stdout.slice(0, 300)}`)
  return JSON.parse(stdout.slice(start))
}

/** A record's fields with their JSON types, for comparing shapes. */
export function shape(record: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, jsonType(v)]))
}

/**
 * How a followed managed job ends depends on timing: if it is already final when the follow starts,
 * `Job N is already in terminal state S. ...` (and its failure reason); if not, the stream runs
 * until `✓ Managed job finished: N (status: S).` and an empty line. Both are reduced to one token
 * so the rest compares byte for byte; `endings` returns the forms met, to check their own bytes.
 */
const FINISHED = /\x1b\[0m\x1b\[32m✓ Managed job finished: (\S+) \(status: (\w+)\)\.\x1b\[0m\x1b\[0m\n\n/
const TERMINAL = /\x1b\[33mJob (\S+) is already in terminal state (\w+)\. For more details, run: sky jobs logs --controller \S+\x1b\[0m\n(?:Failure reason: [^\n]*\n)?/

export function followEnding(text: string): string {
  return text.replace(FINISHED, '<JOB $1 ENDED $2>\n').replace(TERMINAL, '<JOB $1 ENDED $2>\n')
}

export function endings(text: string): { finished?: string; terminal?: string } {
  return { finished: FINISHED.exec(text)?.[0], terminal: TERMINAL.exec(text)?.[0] }
}

/** Slurm's own lines about its steps (srun, slurmstepd) and the node's missing .bashrc: the site's, not SkyPilot's. */
const SITE_NOISE = /^(?:srun: |slurmstepd-)|\.bashrc: No such file or directory$/
/** The lines of a real job's output the action reads or quotes: SkyPilot's job lines and the job's own. */
const JOB_VIEW = /⚙︎ Job submitted, ID: |Job started\. Streaming logs|✓ Job finished \(status: |✓ Managed job finished: |^Managed Job ID: |^Job ID: |^ERROR: |^Job \d+: [A-Z_]+$|^Cancelled job ID\(s\)|^Tailing logs of job|scheduled to be cancelled/

/**
 * A real job's output as the action sees it, comparable between the real CLI and the double: the
 * job's own lines behind SkyPilot's prefix (its pid replaced), SkyPilot's lines about the job (ids,
 * start, final status, failure), colour codes kept; Slurm's own step messages and a node's missing
 * .bashrc dropped (a site's, not SkyPilot's, and not the double's to copy).
 */
export function jobView(text: string, s: Subst = {}): string[] {
  return normalize(text, s)
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => !SITE_NOISE.test(stripColours(l)))
    .filter((l) => /^\x1b\[36m\((?:setup pid=\d+|[\w.<>-]+, pid=\d+)\)\x1b\[0m /.test(l) || JOB_VIEW.test(stripColours(l)))
    .map((l) => l.replace(/pid=\d+/g, 'pid=<PID>'))
}

function stripColours(l: string): string {
  return l.replace(/\x1b\[[0-9;]*m/g, '')
}

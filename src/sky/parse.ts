/** Readers of what `sky` prints: its JSON shapes and the few text lines that carry ids. */
import { FINAL_STATUSES, exitCodeForStatus } from '../lifecycle.js'

export interface ClusterRecord {
  name: string
  status: string
  launched_at?: number
  autostop?: number
  to_down?: boolean
  resources_str?: string
}

/** One row of `sky jobs queue -o json`: one task of a managed job (a pipeline has one row per task). */
export interface ManagedJobRecord {
  job_id: number
  task_id?: number
  job_name?: string
  task_name?: string
  status: string
  recovery_count?: number
  job_duration?: number
  /** Only with `-v`. */
  failure_reason?: string | null
  submitted_at?: number | null
  /** Only with `-v`: the task's `_metadata` (the caps the action wrote in: task/stamp.ts). */
  metadata?: Record<string, unknown> | null
}

/** A managed job as a whole: its tasks' rows folded into one status. */
export interface ManagedJob {
  id: string
  name?: string
  status: string
  recoveryCount: number
  failureReason?: string
  submittedAt?: number
  metadata?: Record<string, unknown>
  tasks: number
}

export interface ClusterJobRecord {
  job_id: number
  job_name?: string
  status: string
  submitted_at?: number
  /** The task's `_metadata` (the caps the action wrote in: task/stamp.ts). */
  metadata?: Record<string, unknown> | null
}

/** `sky status -o json`: a list of records; a missing cluster is just absent. */
export function parseStatus(stdout: string): ClusterRecord[] {
  const data = parseJson(stdout)
  if (!Array.isArray(data)) throw new Error(`sky status -o json printed no list: ${preview(stdout)}`)
  return data.filter((r): r is ClusterRecord => typeof r === 'object' && r !== null && typeof (r as ClusterRecord).name === 'string')
}

/**
 * Folds a managed job's task rows into one status. SkyPilot reports the first task that has not
 * ended, else the last task; a pipeline whose middle task failed must read as failed here, whatever
 * the later tasks say, so a failure wins over the last task's status.
 */
export function managedJobOf(rows: ManagedJobRecord[]): ManagedJob | undefined {
  if (rows.length === 0) return undefined
  const tasks = [...rows].sort((a, b) => (a.task_id ?? 0) - (b.task_id ?? 0))
  const first = tasks[0]!
  const running = tasks.find((t) => !FINAL_STATUSES.has(t.status))
  const failed = tasks.find((t) => t.status.startsWith('FAILED'))
  const cancelled = tasks.find((t) => t.status === 'CANCELLED')
  const status = (running ?? failed ?? cancelled ?? tasks[tasks.length - 1]!).status
  const reason = tasks.map((t) => t.failure_reason).find((r): r is string => typeof r === 'string' && r !== '')
  return {
    id: String(first.job_id),
    name: first.job_name,
    status,
    recoveryCount: tasks.reduce((n, t) => n + (t.recovery_count ?? 0), 0),
    ...(reason ? { failureReason: stripAnsi(reason) } : {}),
    ...(typeof first.submitted_at === 'number' ? { submittedAt: first.submitted_at } : {}),
    ...(first.metadata && typeof first.metadata === 'object' ? { metadata: first.metadata } : {}),
    tasks: tasks.length
  }
}

/** The managed job with this id, from the queue's rows. */
export function findManagedJob(rows: ManagedJobRecord[], id: string): ManagedJob | undefined {
  return managedJobOf(rows.filter((r) => String(r.job_id) === id))
}

/** The newest managed job of this name submitted at or after `since` (epoch seconds). */
export function findManagedJobByName(rows: ManagedJobRecord[], name: string, since = 0): ManagedJob | undefined {
  const ids = rows.filter((r) => r.job_name === name && (typeof r.submitted_at !== 'number' || r.submitted_at >= since)).map((r) => r.job_id)
  if (ids.length === 0) return undefined
  return findManagedJob(rows, String(Math.max(...ids)))
}

/** `sky jobs queue -o json`: a list of records (some releases wrap it in {jobs: [...]}). */
export function parseJobsQueue(stdout: string): ManagedJobRecord[] {
  const data = parseJson(stdout)
  const list = Array.isArray(data) ? data : (data as { jobs?: unknown })?.jobs
  if (!Array.isArray(list)) throw new Error(`sky jobs queue -o json printed no list: ${preview(stdout)}`)
  return list as ManagedJobRecord[]
}

/** `sky queue NAME -o json`: {cluster: [records]}. */
export function parseQueue(stdout: string, cluster: string): ClusterJobRecord[] {
  const data = parseJson(stdout) as Record<string, unknown> | null
  const list = data && typeof data === 'object' ? data[cluster] : undefined
  return Array.isArray(list) ? (list as ClusterJobRecord[]) : []
}

// The statuses, their exit codes and which are final live in the lifecycle's table.
export { FINAL_STATUSES, exitCodeForStatus }

/** SkyPilot's CLI colours its output even into a pipe: scan text without the escape codes. */
export function stripAnsi(text: string): string {
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
}

// The lookaheads refuse a match at the very end of what has arrived: the rest of the number (or
// uuid) may be in the next chunk.
/** A cluster job (launch, exec): printed once the job is queued on the cluster, and in the hints at the end. */
const CLUSTER_JOB_ID = /(?:Job submitted, ID|Job ID):\s*(\d+)(?=\D)/
/**
 * A managed job: `Managed Job ID: M` (with -d right away; when following, only after the job ended)
 * and `Managed job finished: M (status: S).`. `Job submitted, ID: N` is the jobs controller's own
 * cluster-job id there, a different counter: it says the job was submitted, nothing more.
 */
const MANAGED_JOB_ID = /Managed Job ID:\s*(\d+)(?=\D)/
const MANAGED_FINISHED = /Managed job finished:\s*(\d+)\s*\(status:\s*([A-Z_]+)\)/
const CLUSTER_FINISHED = /Job finished \(status:\s*([A-Z_]+)\)/
const SUBMITTED = /Job submitted, ID:\s*\d/
/** The job's own lines follow (task_codegen.py prints it before the first line of setup or run). */
const STARTED = /Job started\. Streaming logs\.\.\./
// The Ctrl-C hint names the request by its first 8 characters (`sky api cancel 1a2b3c4d`); --async
// prints the full uuid. Either form is accepted by `sky api cancel`.
const REQUEST_ID = /(?:sky api cancel|sky api logs|Submitted sky\.[\w.]+ request:)\s+([0-9a-f]{8}(?:-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?)(?=[^0-9a-f-])/

/** How much of the output's start is read for ids; after that only its end is kept and read. */
const HEAD_BYTES = 1 << 20
const TAIL_BYTES = 16 << 10

/**
 * Reads what `sky` prints while it is relayed, without holding the stream: the job id, whether the
 * job was submitted, the final status line, and the server-side request id. Ids come early, in the
 * first MiB; the final status, a managed job's id and the Ctrl-C hint come last, in the kept tail.
 */
export class OutputScanner {
  jobId?: string
  requestId?: string
  /** A job exists: from here on the launch must never be repeated. */
  submitted = false
  /** The job's final status as sky printed it (`... finished ... (status: S)`). */
  finalStatus?: string
  /** The job's own log lines stream (`Job started. Streaming logs...`). */
  started = false
  /** The last lines the job itself printed, read from the kept tail when the stream ends. */
  jobLines: string[] = []
  private headSeen = 0
  private carry = ''
  private tail: Buffer[] = []
  private tailSize = 0

  constructor(
    private readonly kind: 'cluster' | 'managed',
    private readonly onRequestId?: (id: string) => void
  ) {}

  push(chunk: Buffer | string): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    if (this.headSeen < HEAD_BYTES) {
      this.headSeen += buf.length
      const text = this.carry + stripAnsi(buf.toString('utf8'))
      this.scan(text)
      this.carry = text.slice(-200)
    }
    this.tail.push(buf)
    this.tailSize += buf.length
    while (this.tail.length > 1 && this.tailSize - this.tail[0]!.length >= TAIL_BYTES) this.tailSize -= this.tail.shift()!.length
  }

  /** The stream ended: read its end (and an id cut off at the very end is complete now). */
  end(): void {
    const tail = Buffer.concat(this.tail)
    const text = stripAnsi(tail.subarray(Math.max(0, tail.length - TAIL_BYTES)).toString('utf8'))
    this.scan(`${text}\n`)
    this.jobLines = jobLinesOf(text)
    this.tail = []
    this.tailSize = 0
  }

  private scan(text: string): void {
    if (this.kind === 'managed') {
      const finished = MANAGED_FINISHED.exec(text)
      if (finished) {
        this.jobId ??= finished[1]
        this.finalStatus = finished[2]
        this.submitted = true
      }
      const id = MANAGED_JOB_ID.exec(text)
      if (id) {
        this.jobId ??= id[1]
        this.submitted = true
      }
      if (SUBMITTED.test(text)) this.submitted = true
    } else {
      const id = CLUSTER_JOB_ID.exec(text)
      if (id) {
        this.jobId ??= id[1]
        this.submitted = true
      }
      const finished = CLUSTER_FINISHED.exec(text)
      if (finished) this.finalStatus = finished[1]
    }
    if (STARTED.test(text)) this.started = true
    if (this.requestId === undefined) {
      const m = REQUEST_ID.exec(text)
      if (m?.[1]) {
        this.requestId = m[1]
        this.onRequestId?.(m[1])
      }
    }
  }
}

/** How many of the job's last lines an error quotes, and how much of each. */
const JOB_LINES = 8
const JOB_LINE_CHARS = 300
/** Where the job's lines end in sky's output: its final status line, or the hints after it. */
const JOB_LOG_END = /^\s*(?:✓ )?(?:Job finished \(status:|Managed job finished:|📋 Useful Commands)/
/** SkyPilot's own progress lines around the job's (`├── Waiting for task resources`, `└── Job started`). */
const SKY_PROGRESS = /^\s*[├└]── /
/** Bash on a node whose cluster home has no .bashrc says so before every command (seen on Slurm): noise. */
const BASHRC_NOISE = /bash: \S*\/\.bashrc: No such file or directory$/

/**
 * The last lines the job printed, from the end of what sky printed (colours removed): those after
 * `Job started. Streaming logs...` when it is in view, up to the job's final status line, without
 * SkyPilot's own progress lines. They say why a job failed without scrolling up the log.
 */
export function jobLinesOf(text: string): string[] {
  let lines = text.split(/\r?\n/)
  const start = lines.findLastIndex((l) => STARTED.test(l))
  if (start >= 0) lines = lines.slice(start + 1)
  const end = lines.findIndex((l) => JOB_LOG_END.test(l))
  if (end >= 0) lines = lines.slice(0, end)
  return lines
    .filter((l) => l.trim() !== '' && !SKY_PROGRESS.test(l) && !BASHRC_NOISE.test(l))
    .slice(-JOB_LINES)
    .map((l) => (l.length > JOB_LINE_CHARS ? `${l.slice(0, JOB_LINE_CHARS)}…` : l))
}

/** The last exception SkyPilot printed (`sky.exceptions.X: message`), colours removed, or undefined. */
export function skyError(stderr: string): { type: string; message: string } | undefined {
  const lines = stripAnsi(stderr).split(/\r?\n/)
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^(?:[A-Za-z_][\w]*\.)*([A-Z]\w*(?:Error|Exception|Exceeded|Cancelled|Unavailable|Exhausted|Full|NotFound|DoesNotExist|Denied|Mismatch|Rejected)\w*):\s?(.*)$/.exec(lines[i]!.trim())
    if (m) {
      // A message may continue on the lines after it (e.g. "Please run:\n  sky api login").
      const rest = lines.slice(i + 1).map((l) => l.trim()).filter(Boolean)
      return { type: m[1]!, message: [m[2]!, ...rest].join(' ').trim() }
    }
  }
  return undefined
}

function parseJson(stdout: string): unknown {
  // sky may print warnings before its JSON: start at the first line that opens a JSON value.
  const start = stdout.search(/^[[{]/m)
  if (start < 0) throw new Error(`expected JSON from sky, got: ${preview(stdout)}`)
  return JSON.parse(stdout.slice(start))
}

function preview(text: string): string {
  const t = text.trim()
  return t.length > 200 ? `${t.slice(0, 200)}…` : t || '(nothing)'
}

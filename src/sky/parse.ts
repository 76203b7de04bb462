/** Readers of what `sky` prints: its JSON shapes and the few text lines that carry ids. */

export interface ClusterRecord {
  name: string
  status: string
  launched_at?: number
  autostop?: number
  to_down?: boolean
  resources_str?: string
}

export interface ManagedJobRecord {
  job_id: number
  job_name?: string
  status: string
  recovery_count?: number
  job_duration?: number
  failure_reason?: string | null
}

export interface ClusterJobRecord {
  job_id: number
  job_name?: string
  status: string
}

/** `sky status -o json`: a list of records; a missing cluster is just absent. */
export function parseStatus(stdout: string): ClusterRecord[] {
  const data = parseJson(stdout)
  if (!Array.isArray(data)) throw new Error(`sky status -o json printed no list: ${preview(stdout)}`)
  return data.filter((r): r is ClusterRecord => typeof r === 'object' && r !== null && typeof (r as ClusterRecord).name === 'string')
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

/** Terminal statuses of cluster jobs and managed jobs. */
export const FINAL_STATUSES = new Set([
  'SUCCEEDED', 'FAILED', 'FAILED_SETUP', 'FAILED_DRIVER', 'CANCELLED', 'FAILED_PRECHECKS',
  'FAILED_NO_RESOURCE', 'FAILED_CONTROLLER'
])

export function exitCodeForStatus(status: string): number {
  if (status === 'SUCCEEDED') return 0
  if (status === 'CANCELLED') return 103
  if (FINAL_STATUSES.has(status)) return 100
  return 101
}

// The lookaheads refuse a match at the very end of what has arrived: the rest of the number (or
// uuid) may be in the next chunk.
const JOB_ID = /(?:Managed Job ID|Job submitted, ID|Job ID):\s*(\d+)(?=\D)/
// The Ctrl-C hint names the request by its first 8 characters (`sky api cancel 1a2b3c4d`); --async
// prints the full uuid. Either form is accepted by `sky api cancel`.
const REQUEST_ID = /(?:sky api cancel|sky api logs|Submitted sky\.[\w.]+ request:)\s+([0-9a-f]{8}(?:-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?)(?=[^0-9a-f-])/

/**
 * Watches a stream of sky's output for the job id and the request id without holding the stream:
 * only a short tail is kept to catch an id split across two chunks.
 */
export class IdScanner {
  jobId?: string
  requestId?: string
  private tail = ''

  constructor(private readonly onRequestId?: (id: string) => void) {}

  push(chunk: string): void {
    if (this.jobId !== undefined && this.requestId !== undefined) return
    const text = this.tail + chunk
    if (this.jobId === undefined) {
      const m = JOB_ID.exec(text)
      if (m) this.jobId = m[1]
    }
    if (this.requestId === undefined) {
      const m = REQUEST_ID.exec(text)
      if (m?.[1]) {
        this.requestId = m[1]
        this.onRequestId?.(m[1])
      }
    }
    this.tail = text.slice(-120)
  }

  /** The stream ended: an id at the very end of the output is complete now. */
  end(): void {
    this.push('\n')
  }
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

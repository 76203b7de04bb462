import type { TaskResult } from '../summary.js'

/**
 * One task's entry in the `results` output (and in `best`), and what `mode: report` reads back:
 * the one shape every module here ranks and renders.
 */
export interface ResultEntry {
  name: string
  'cluster-name'?: string
  'job-id'?: string
  status?: string
  'exit-code'?: number | null
  /** The job's outputs (names from `job-outputs`). */
  outputs?: Record<string, string>
  /** SkyPilot's cost estimate for the task's cluster, in US dollars. */
  'cost-usd'?: number
  /** Position by `rank-by` (1 is best; ties share one); absent when not ranked. */
  rank?: number
}

export function toResultEntry(r: TaskResult): ResultEntry {
  const entry: ResultEntry = { name: r.name, 'cluster-name': r.cluster, 'job-id': r.jobId, status: r.status, 'exit-code': r.exitCode }
  if (r.outputs) entry.outputs = r.outputs
  if (r.costUsd !== undefined) entry['cost-usd'] = r.costUsd
  return entry
}

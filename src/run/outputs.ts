import * as core from '@actions/core'

/** The action's outputs, all set in one place so every path (success, failure, cancel) sets the same ones. */
export interface ActionOutputs {
  'cluster-name'?: string
  'job-id'?: string
  status: string
  'exit-code'?: number | null
  'skypilot-version'?: string
  'dashboard-url'?: string
  'recovery-count'?: number
  results?: unknown
  /** The job's outputs as a JSON object; `jobOutputs` below also sets each under its own name. */
  'job-outputs'?: Record<string, string>
  best?: unknown
  'cost-usd'?: number
}

/**
 * Sets the action's outputs, and each job output under its own name (`job-outputs` refuses names
 * the action's own outputs take, so neither overwrites the other).
 */
export function setOutputs(o: ActionOutputs, jobOutputs: Record<string, string> = {}): void {
  for (const [name, value] of Object.entries(o)) {
    if (value === undefined || value === null) continue
    core.setOutput(name, typeof value === 'object' ? JSON.stringify(value) : String(value))
  }
  for (const [name, value] of Object.entries(jobOutputs)) core.setOutput(name, value)
}

/** Where the API server's dashboard shows this run: the cluster, or the managed job. */
export function dashboardUrl(serverUrl: string, kind: 'cluster' | 'managed', result: { cluster?: string; jobId?: string }): string | undefined {
  if (kind === 'managed') return result.jobId ? `${serverUrl}/dashboard/jobs/${result.jobId}` : `${serverUrl}/dashboard/jobs`
  return result.cluster ? `${serverUrl}/dashboard/clusters/${result.cluster}` : undefined
}

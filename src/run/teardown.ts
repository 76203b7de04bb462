import * as core from '../gh/core.js'
import { errorMessage } from '../errors.js'
import { sleep } from '../process.js'
import type { Sky } from '../sky/client.js'
import { lastLines } from '../sky/client.js'
import { FINAL_STATUSES } from '../sky/parse.js'

/** How many times teardown is tried before the post step fails loudly. */
export const TEARDOWN_ATTEMPTS = 3

function retryDelayMs(attempt: number): number {
  // Tests shorten the wait; production backs off 10 s, 20 s.
  const base = Number(process.env.SKYPILOT_ACTION_RETRY_DELAY_MS ?? 10_000)
  return (Number.isFinite(base) ? base : 10_000) * attempt
}

export interface TeardownResult {
  removed: string[]
  left: string[]
  /** What went wrong on the way, for the message. */
  errors: string[]
}

/**
 * `sky down` exits 0 even when the cluster is not found and even when termination failed, so
 * teardown is verified with `sky status NAMES -o json` and retried until the list is empty.
 */
export async function tearDown(sky: Sky, clusters: string[]): Promise<TeardownResult> {
  let remaining = [...clusters]
  const errors: string[] = []
  for (let attempt = 1; attempt <= TEARDOWN_ATTEMPTS && remaining.length > 0; attempt++) {
    const down = await sky.down(remaining)
    if (down.code !== 0) errors.push(`sky down exit ${down.code}: ${lastLines(down.stderr)}`)
    try {
      const records = await sky.status(remaining)
      remaining = remaining.filter((name) => records.some((r) => r.name === name))
    } catch (error) {
      errors.push(errorMessage(error))
    }
    if (remaining.length > 0 && attempt < TEARDOWN_ATTEMPTS) {
      core.warning(`Cluster ${remaining.join(', ')} still exists after sky down (attempt ${attempt} of ${TEARDOWN_ATTEMPTS}); retrying.`)
      await sleep(retryDelayMs(attempt))
    }
  }
  return { removed: clusters.filter((c) => !remaining.includes(c)), left: remaining, errors }
}

/** What the user reads when clusters survived teardown: which, and the command that removes them. */
export function leftRunningMessage(result: TeardownResult): string {
  const names = result.left.join(' ')
  return `Cluster ${result.left.join(', ')} is still running after ${TEARDOWN_ATTEMPTS} teardown attempts and may be costing money. Remove it with: sky down -y ${names}${result.errors.length ? ` (${result.errors.at(-1)})` : ''}`
}

/** Cancels managed jobs and waits until their status says so (CANCELLING is on the way). */
export async function cancelManagedJobs(sky: Sky, jobIds: string[]): Promise<{ cancelled: string[]; left: { id: string; status: string }[] }> {
  let left: { id: string; status: string }[] = jobIds.map((id) => ({ id, status: 'UNKNOWN' }))
  for (let attempt = 1; attempt <= TEARDOWN_ATTEMPTS + 3 && left.length > 0; attempt++) {
    const pending = left.filter((j) => j.status !== 'CANCELLING').map((j) => j.id)
    if (pending.length > 0) await sky.jobsCancel(pending)
    try {
      const records = await sky.jobsQueue()
      left = left
        .map((j) => ({ id: j.id, status: records.find((r) => String(r.job_id) === j.id)?.status ?? 'NOT_FOUND' }))
        .filter((j) => !FINAL_STATUSES.has(j.status) && j.status !== 'NOT_FOUND')
    } catch (error) {
      core.warning(`Could not read the managed jobs queue: ${errorMessage(error)}`)
    }
    if (left.length > 0) await sleep(Math.min(retryDelayMs(1), 5000))
  }
  return { cancelled: jobIds.filter((id) => !left.some((j) => j.id === id)), left }
}

import * as core from '@actions/core'
import { errorMessage } from '../errors.js'
import { sleep, type Captured } from '../process.js'
import type { Sky } from '../sky/client.js'
import { lastLines } from '../sky/client.js'
import { FINAL_STATUSES, findManagedJob, findManagedJobByName, stripAnsi, type ManagedJob, type ManagedJobRecord } from '../sky/parse.js'

/** How many times teardown is tried before the post step fails loudly. */
export const TEARDOWN_ATTEMPTS = 3

function retryDelayMs(attempt: number): number {
  // Tests shorten the wait; production backs off 10 s, 20 s.
  const base = Number(process.env.SKYPILOT_ACTION_RETRY_DELAY_MS ?? 10_000)
  return (Number.isFinite(base) ? base : 10_000) * attempt
}

/** What SkyPilot answered about each cluster: never more than it said. */
export interface TeardownResult {
  /** `sky down` ran and `sky status` no longer lists them. */
  removed: string[]
  /** `sky down` found no such cluster: nothing was created, or it was gone already. */
  notFound: string[]
  /** Still listed by `sky status` after every attempt. */
  left: string[]
  /** `sky status` could not be read, so whether these are gone is not known. */
  unverified: string[]
  /** Why, in sky's words (the last error). */
  cause?: string
}

/**
 * `sky down` exits 0 even when termination failed, so teardown is verified with
 * `sky status NAMES -o json` and retried until the list is empty. What `sky down` says it did not
 * find needs no verification; a `sky status` that fails (auth, server down) verifies nothing.
 */
export async function tearDown(sky: Sky, clusters: string[]): Promise<TeardownResult> {
  let remaining = [...clusters]
  const notFound: string[] = []
  let cause: string | undefined
  let statusFailed = false
  for (let attempt = 1; attempt <= TEARDOWN_ATTEMPTS && remaining.length > 0; attempt++) {
    const down = await sky.down(remaining)
    if (down.code !== 0) cause = `sky down exit ${down.code}: ${lastLines(down.stderr)}`
    // Not found on the first try: nothing was there. Not found on a later try: the earlier sky down
    // removed it, and this one is the proof (its status could not be read in between).
    if (attempt === 1) notFound.push(...down.notFound)
    remaining = remaining.filter((c) => !down.notFound.includes(c))
    if (remaining.length === 0) break
    try {
      const records = await sky.status(remaining)
      remaining = remaining.filter((name) => records.some((r) => r.name === name))
      statusFailed = false
    } catch (error) {
      statusFailed = true
      cause = errorMessage(error)
    }
    if (remaining.length > 0 && attempt < TEARDOWN_ATTEMPTS) {
      core.warning(
        statusFailed
          ? `Could not check that ${remaining.join(', ')} is gone (${cause}); trying again (attempt ${attempt} of ${TEARDOWN_ATTEMPTS}).`
          : `Cluster ${remaining.join(', ')} still exists after sky down (attempt ${attempt} of ${TEARDOWN_ATTEMPTS}); retrying.`
      )
      await sleep(retryDelayMs(attempt))
    }
  }
  const removed = clusters.filter((c) => !remaining.includes(c) && !notFound.includes(c))
  return statusFailed ? { removed, notFound, left: [], unverified: remaining, cause } : { removed, notFound, left: remaining, unverified: [], cause }
}

/** What the user reads when teardown did not end clean: which clusters, what is known, the command that removes them. */
export function teardownProblem(result: TeardownResult): string | undefined {
  const parts: string[] = []
  if (result.left.length > 0) {
    const names = result.left.join(' ')
    parts.push(`Cluster ${result.left.join(', ')} is still running after ${TEARDOWN_ATTEMPTS} teardown attempts and may be costing money. Remove it with: sky down -y ${names}${result.cause ? ` (${result.cause})` : ''}`)
  }
  if (result.unverified.length > 0) {
    const names = result.unverified.join(' ')
    parts.push(`Could not verify that cluster ${result.unverified.join(', ')} is gone: ${result.cause ?? 'sky status gave no answer'}. Check with \`sky status ${names}\` and remove it with: sky down -y ${names}`)
  }
  return parts.length > 0 ? parts.join('\n') : undefined
}

/** One line per cluster for the summary and the log: what SkyPilot answered. */
export function teardownLines(result: TeardownResult): string[] {
  const lines: string[] = []
  if (result.removed.length > 0) lines.push(`Cluster ${result.removed.map((c) => `\`${c}\``).join(', ')} torn down (\`sky status\` no longer lists it).`)
  if (result.notFound.length > 0) lines.push(`Cluster ${result.notFound.map((c) => `\`${c}\``).join(', ')}: \`sky down\` found no such cluster (none was created, or it was already gone); nothing to tear down.`)
  return lines
}

/** A managed job as `cancelManagedJobs` leaves it: what the jobs queue showed last. */
export interface CancelledManagedJob {
  name: string
  id?: string
  status: string
  /** SkyPilot answered a `sky jobs cancel` for it with "... scheduled to be cancelled": it was still running then. */
  cancelAccepted?: boolean
}

/** What `cancelManagedJobs` / `cancelManagedJobById` leave: the jobs that ended, those still in progress. */
export interface ManagedCancellation {
  ended: CancelledManagedJob[]
  left: CancelledManagedJob[]
  /** The jobs queue could not be read on the last try: why. */
  unknown?: string
}

/**
 * Cancels a managed job by name (its id may never have been printed) and waits until the queue
 * shows it ended (CANCELLING is on the way). Only jobs of that name submitted since `since` count.
 */
export async function cancelManagedJobs(sky: Sky, names: string[], since = 0): Promise<ManagedCancellation> {
  return cancelUntilEnded(
    sky,
    names.map((name) => ({ name, status: 'UNKNOWN' })),
    (j) => sky.jobsCancelByName(j.name),
    (rows, j) => findManagedJobByName(rows, j.name, since)
  )
}

/** The same for a job whose id is known (a later step's `job-id`): cancelled by that id. */
export async function cancelManagedJobById(sky: Sky, id: string): Promise<ManagedCancellation> {
  return cancelUntilEnded(
    sky,
    [{ name: `job ${id}`, id, status: 'UNKNOWN' }],
    () => sky.jobsCancel([id]),
    (rows) => findManagedJob(rows, id)
  )
}

/**
 * Asks SkyPilot to cancel each job not yet CANCELLING, reads the jobs queue, and again, until the
 * queue shows every job ended (or no longer lists it), within the teardown's attempts.
 */
async function cancelUntilEnded(
  sky: Sky,
  jobs: CancelledManagedJob[],
  cancel: (j: CancelledManagedJob) => Promise<Captured>,
  find: (rows: ManagedJobRecord[], j: CancelledManagedJob) => ManagedJob | undefined
): Promise<ManagedCancellation> {
  let left = jobs
  const ended: CancelledManagedJob[] = []
  // Each job keeps the name it was given (for one cancelled by id, `job N`): it is its key here.
  const accepted = new Set<string>()
  let unknown: string | undefined
  for (let attempt = 1; attempt <= TEARDOWN_ATTEMPTS + 3 && left.length > 0; attempt++) {
    for (const j of left.filter((j) => j.status !== 'CANCELLING')) {
      const answer = await cancel(j)
      // SkyPilot's cancel_jobs_by_id / cancel_job_by_name: "... Job with ID N is scheduled to be
      // cancelled." for a job still running; "No job to cancel." / "No running job found with name
      // 'NAME'." when none is.
      if (answer.code === 0 && /scheduled to be cancelled/.test(stripAnsi(answer.stdout + answer.stderr))) accepted.add(j.name)
    }
    try {
      const rows = await sky.jobsQueue()
      unknown = undefined
      const next: CancelledManagedJob[] = []
      for (const j of left) {
        const job = find(rows, j)
        const now: CancelledManagedJob = { name: j.name, id: job?.id ?? j.id, status: job?.status ?? 'NOT_FOUND', ...(accepted.has(j.name) ? { cancelAccepted: true } : {}) }
        if (FINAL_STATUSES.has(now.status) || now.status === 'NOT_FOUND') ended.push(now)
        else next.push(now)
      }
      left = next
    } catch (error) {
      unknown = errorMessage(error)
      core.warning(`Could not read the managed jobs queue: ${unknown}`)
    }
    if (left.length > 0) await sleep(Math.min(retryDelayMs(1), 5000))
  }
  return { ended, left, ...(unknown ? { unknown } : {}) }
}

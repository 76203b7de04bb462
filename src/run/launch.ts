import * as core from '../gh/core.js'
import { describeOutcome, isRetryable, outcomeOf, type Outcome } from '../sky/exit-codes.js'
import { IdScanner } from '../sky/parse.js'
import type { Sky } from '../sky/client.js'
import { sleep } from '../process.js'
import type { PlannedTask } from '../plan.js'
import type { Cancellation } from './cancel.js'

export interface LaunchResult {
  outcome: Outcome
  exitCode: number | null
  jobId?: string
  requestId?: string
  attempts: number
  durationMs: number
  message: string
}

export interface LaunchOptions {
  retries: number
  retryDelaySeconds: number
  retryOnJobFailure: boolean
  /** Values of `--secret KEY` arguments: they reach sky through its env, never argv. */
  secretEnv: Record<string, string>
  cancellation: Cancellation
  /** Log as a collapsed group (one task) or with a line prefix (fan-out). */
  linePrefix?: string
  groupTitle?: string
  onJobId?: (id: string) => void
  onRequestId?: (id: string) => void
  /** Stops a fan-out sibling: resolves the wait early. */
  stopSignal?: AbortSignal
  what: string
  /** Asked after a failure before the job ran: a reason here means retrying cannot help. */
  explainFailure?: () => Promise<string | undefined>
}

/**
 * Runs one planned task's `sky` command, relaying its logs, and retries a launch that failed
 * before its job ran (exit 1). A job that ran and failed is retried only when asked.
 */
export async function launchWithRetries(sky: Sky, task: PlannedTask, o: LaunchOptions): Promise<LaunchResult> {
  const started = Date.now()
  let attempts = 0
  let explained: string | undefined
  let last: { outcome: Outcome; exitCode: number | null; jobId?: string; requestId?: string } = { outcome: outcomeOf(null), exitCode: null }
  for (;;) {
    attempts++
    last = await attempt(sky, task, o, attempts)
    if (o.cancellation.cancelled || o.stopSignal?.aborted) break
    if (last.outcome.kind === 'launch-failed' && o.explainFailure) {
      explained = await o.explainFailure()
      if (explained) break
    }
    if (!isRetryable(last.outcome, o.retryOnJobFailure) || attempts > o.retries) break
    const delay = o.retryDelaySeconds
    core.warning(`${o.what}: attempt ${attempts} of ${o.retries + 1} ${last.outcome.kind === 'job-failed' ? 'ran and failed' : `failed before the job ran (exit ${last.exitCode})`}; retrying in ${delay}s.`)
    await sleepUnlessStopped(delay * 1000, o)
    if (o.cancellation.cancelled || o.stopSignal?.aborted) break
  }
  const interrupted = o.cancellation.cancelled || Boolean(o.stopSignal?.aborted)
  const outcome: Outcome = interrupted && last.outcome.kind !== 'succeeded' ? { kind: 'cancelled', status: 'CANCELLED' } : last.outcome
  const message = interrupted && last.outcome.kind !== 'succeeded'
    ? `${o.what} was cancelled${o.cancellation.cancelled ? ' with the run' : ' (fail-fast: another task failed)'}.`
    : (explained ?? describeOutcome(outcome, last.exitCode, o.what)) + (attempts > 1 ? ` (${attempts} attempts)` : '')
  return { ...last, outcome, attempts, durationMs: Date.now() - started, message }
}

async function attempt(sky: Sky, task: PlannedTask, o: LaunchOptions, n: number) {
  const scanner = new IdScanner()
  let jobIdSeen: string | undefined
  if (o.groupTitle) core.startGroup(`${o.groupTitle}${n > 1 ? ` (attempt ${n})` : ''}`)
  const stream = sky.stream(task.argv, {
    cwd: task.cwd,
    extraEnv: o.secretEnv,
    linePrefix: o.linePrefix,
    onText: (text) => {
      const hadRequest = scanner.requestId
      scanner.push(text)
      if (scanner.jobId && scanner.jobId !== jobIdSeen) {
        jobIdSeen = scanner.jobId
        o.onJobId?.(scanner.jobId)
      }
      if (scanner.requestId && scanner.requestId !== hadRequest) {
        tracked.setRequestId(scanner.requestId)
        o.onRequestId?.(scanner.requestId)
      }
    }
  })
  const tracked = o.cancellation.track(stream)
  const onAbort = (): void => stream.interrupt('SIGINT')
  o.stopSignal?.addEventListener('abort', onAbort)
  const { code, spawnError } = await stream.done
  scanner.end()
  o.stopSignal?.removeEventListener('abort', onAbort)
  tracked.done()
  if (o.groupTitle) core.endGroup()
  if (spawnError) core.error(`Could not start ${sky.path}: ${spawnError}`)
  return { outcome: outcomeOf(code), exitCode: code, jobId: scanner.jobId, requestId: scanner.requestId }
}

async function sleepUnlessStopped(ms: number, o: LaunchOptions): Promise<void> {
  const step = 200
  for (let waited = 0; waited < ms; waited += step) {
    if (o.cancellation.cancelled || o.stopSignal?.aborted) return
    await sleep(Math.min(step, ms - waited))
  }
}

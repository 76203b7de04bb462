import * as core from '@actions/core'
import { errorMessage } from '../errors.js'
import { classifyLaunchFailure, describeFailedStatus, describeOutcome, isRetryable, outcomeOf, type LaunchFailure, type Outcome } from '../sky/exit-codes.js'
import { OutputScanner, exitCodeForStatus, skyError, type ManagedJob } from '../sky/parse.js'
import * as args from '../sky/args.js'
import type { Sky } from '../sky/client.js'
import { sleep } from '../process.js'
import type { PlannedTask } from '../plan.js'
import type { Cancellation } from './cancel.js'

export interface LaunchResult {
  outcome: Outcome
  /** The final status as the user should read it: SkyPilot's own when known (FAILED_PRECHECKS, ...). */
  status: string
  exitCode: number | null
  jobId?: string
  requestId?: string
  /** A job was created: it was never launched again, and what happened to it was asked of SkyPilot. */
  submitted: boolean
  /** The server turned every attempt away (auth, version): no cluster can exist. */
  refused?: boolean
  recoveryCount?: number
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
  /**
   * Every chunk of sky's stdout (the job's log) as it is relayed: job outputs are read from it. Set,
   * a dropped stream is followed again from the log's first line, so that no marker written while
   * it was down is missed (the markers read twice set the same values again: last value wins).
   */
  onChunk?: (chunk: Buffer) => void
  /** A new launch of the job begins (attempt n > 1 runs it again: what the last one printed is void). */
  onRelaunch?: () => void
  /** Stops a fan-out sibling: resolves the wait early. */
  stopSignal?: AbortSignal
  what: string
  /** Asked after a failure before the job ran that no retry can fix: better words for it, in the action's terms. */
  explainFailure?: (failure: LaunchFailure) => Promise<string | undefined>
  /** A managed job's name (`-n`): how its id is found before sky prints it. */
  managedName?: string
  /** Do not follow a managed job to its end (detach): its id is all that is wanted. */
  detached?: boolean
}

/** How many times a dropped log stream is re-attached before the job's fate is reported unknown. */
const FOLLOW_ROUNDS = 3
/** Server and runner clocks may differ: a job of our name this much older than our launch is still ours. */
const CLOCK_SLACK_S = 300

interface Attempt {
  code: number | null
  scanner: OutputScanner
  stderrTail: string
  spawnError?: string
}

/**
 * Runs one planned task's `sky` command, relaying its logs. A launch that failed before any job
 * existed is retried when SkyPilot's error says another try can succeed (capacity, a transient
 * server error). Once a job exists it is never launched again: a stream that dropped is re-attached
 * and SkyPilot is asked for the job's fate. A job that ran and failed is relaunched only when asked.
 */
export async function launchWithRetries(sky: Sky, task: PlannedTask, o: LaunchOptions): Promise<LaunchResult> {
  const started = Date.now()
  const kind = o.managedName ? 'managed' : 'cluster'
  const stopped = (): boolean => o.cancellation.cancelled || Boolean(o.stopSignal?.aborted)
  let attempts = 0
  let result: Omit<LaunchResult, 'attempts' | 'durationMs'> | undefined
  let requestId: string | undefined
  for (;;) {
    attempts++
    if (attempts > 1) o.onRelaunch?.()
    const a = await attempt(sky, task, o, attempts, kind)
    requestId = a.scanner.requestId ?? requestId
    if (stopped()) {
      result = cancelledResult(a, o, requestId)
      break
    }
    let outcome = outcomeOf(a.code)
    let failure: LaunchFailure | undefined
    if (outcome.kind === 'launch-failed') {
      // A job may exist although sky exited 1: its log stream dropped after the submission.
      const job = kind === 'managed' ? await managedJobAfterDrop(sky, o.managedName!, started, a) : a.scanner.submitted && a.scanner.jobId ? { id: a.scanner.jobId } : undefined
      if (job === 'unknown') {
        result = { outcome, status: 'UNKNOWN', exitCode: a.code, submitted: false, requestId, message: `${o.what}: sky exited ${a.code}, and whether it had created managed job '${o.managedName}' could not be read from SkyPilot. It was not launched again; the post step cancels any job of that name.` }
        break
      }
      if (job) {
        result = kind === 'managed' ? await settleManaged(sky, o, job, a, true) : await followDroppedClusterJob(sky, o, task.cluster!, job.id, a)
        break
      }
      failure = classifyLaunchFailure(skyError(a.stderrTail))
      const explained = failure.retryable ? undefined : await o.explainFailure?.(failure)
      if (explained) {
        result = { outcome, status: outcome.status, exitCode: a.code, submitted: false, requestId, message: explained }
        break
      }
      if (failure.transient && task.cluster && attempts <= o.retries) {
        // The client lost the server, not necessarily the server its request: relaunching while the
        // first request still provisions would run the job twice.
        const busy = await stillRunning(sky, task.cluster)
        if (busy) {
          result = { outcome, status: 'UNKNOWN', exitCode: a.code, submitted: false, requestId: busy.id ?? requestId, message: `${o.what}: sky lost its connection to the API server (${failure.said}), and ${busy.why}. Not launching it again, so that the job cannot run twice; the post step cancels the request and tears the cluster down.` }
          break
        }
      }
      if (!isRetryable(outcome, o.retryOnJobFailure, failure) || attempts > o.retries) {
        result = { outcome, status: outcome.status, exitCode: a.code, submitted: false, requestId, refused: failure.refused, message: launchFailedMessage(o, a.code, failure, attempts) }
        break
      }
    } else if (kind === 'managed' && !o.detached && a.code !== 2 && a.code !== null) {
      result = await settleManaged(sky, o, { id: a.scanner.jobId }, a, false)
      outcome = result.outcome
      if (!isRetryable(outcome, o.retryOnJobFailure) || attempts > o.retries) break
    } else {
      result = clusterResult(a, o, requestId)
      if (!isRetryable(outcome, o.retryOnJobFailure) || attempts > o.retries) break
    }
    const delay = o.retryDelaySeconds
    core.warning(`${o.what}: attempt ${attempts} of ${o.retries + 1} ${outcome.kind === 'job-failed' ? 'ran and failed' : `failed before the job ran (${failure?.said ?? `exit ${a.code}`})`}; retrying in ${delay}s.`)
    await sleepUnlessStopped(delay * 1000, o)
    if (stopped()) {
      result = cancelledResult(a, o, requestId)
      break
    }
  }
  const attemptsNote = attempts > 1 ? ` (${attempts} attempts)` : ''
  return { ...result!, attempts, durationMs: Date.now() - started, message: result!.message + attemptsNote }
}

async function attempt(sky: Sky, task: PlannedTask, o: LaunchOptions, n: number, kind: 'cluster' | 'managed'): Promise<Attempt> {
  let jobIdSeen: string | undefined
  const scanner = new OutputScanner(kind, (id) => {
    tracked.setRequestId(id)
    o.onRequestId?.(id)
  })
  if (o.groupTitle) core.startGroup(`${o.groupTitle}${n > 1 ? ` (attempt ${n})` : ''}`)
  const stream = sky.stream(task.argv, {
    cwd: task.cwd,
    extraEnv: o.secretEnv,
    linePrefix: o.linePrefix,
    onChunk: (chunk, from) => {
      scanner.push(chunk)
      if (from === 'stdout') o.onChunk?.(chunk)
      if (scanner.jobId && scanner.jobId !== jobIdSeen) {
        jobIdSeen = scanner.jobId
        o.onJobId?.(scanner.jobId)
      }
    }
  })
  const tracked = o.cancellation.track(stream)
  const onAbort = (): void => stream.interrupt('SIGINT')
  o.stopSignal?.addEventListener('abort', onAbort)
  const end = await stream.done
  scanner.end()
  if (scanner.jobId && scanner.jobId !== jobIdSeen) o.onJobId?.(scanner.jobId)
  o.stopSignal?.removeEventListener('abort', onAbort)
  tracked.done()
  if (o.groupTitle) core.endGroup()
  if (end.spawnError) core.error(`Could not start ${sky.path}: ${end.spawnError}`)
  return { code: end.code, scanner, stderrTail: end.stderrTail, spawnError: end.spawnError }
}

function cancelledResult(a: Attempt, o: LaunchOptions, requestId: string | undefined): Omit<LaunchResult, 'attempts' | 'durationMs'> {
  if (outcomeOf(a.code).kind === 'succeeded') return clusterResult(a, o, requestId)
  return {
    outcome: { kind: 'cancelled', status: 'CANCELLED' },
    status: 'CANCELLED',
    exitCode: 103,
    jobId: a.scanner.jobId,
    requestId,
    submitted: a.scanner.submitted,
    message: `${o.what} was cancelled${o.cancellation.cancelled ? ' with the run' : ' (fail-fast: another task failed)'}.`
  }
}

/** A cluster job's result from sky's exit code (and its final status line, when it printed one). */
function clusterResult(a: Attempt, o: LaunchOptions, requestId: string | undefined): Omit<LaunchResult, 'attempts' | 'durationMs'> {
  const outcome = outcomeOf(a.code)
  const status = outcome.kind === 'job-failed' && a.scanner.finalStatus?.startsWith('FAILED') ? a.scanner.finalStatus : outcome.status
  const message = outcome.kind === 'job-failed' ? describeFailedStatus(o.what, status) : describeOutcome(outcome, a.code, o.what)
  return { outcome, status, exitCode: a.code, jobId: a.scanner.jobId, requestId, submitted: a.scanner.submitted, message }
}

function launchFailedMessage(o: LaunchOptions, code: number | null, failure: LaunchFailure, attempts: number): string {
  if (!failure.said) return describeOutcome(outcomeOf(code), code, o.what)
  const hint = failure.refused && failure.said.startsWith('HTTPError') ? HINTS.ApiServerAuthenticationError : HINTS[failure.said.slice(0, failure.said.indexOf(':'))]
  const noRetry = !failure.retryable && o.retries > 0 && attempts === 1 ? ' Another try would fail the same way, so it was not retried.' : ''
  return `${o.what} failed before the job ran (sky exit code ${code}). SkyPilot said: ${failure.said.replace(/\.$/, '')}.${hint ? ` ${hint}` : ''}${noRetry}`
}

/** What to do about the failures a user meets first, in the action's terms. */
const HINTS: Record<string, string> = {
  NoCloudAccessError: "No cloud is enabled for SkyPilot here: give the runner cloud credentials (your cloud's auth action before this step, or 'kubeconfig'), or use an API server that has them ('api-server-endpoint').",
  ApiServerAuthenticationError: "The API server refused the request's credentials: check the 'service-account-token' secret, or the user:password in 'api-server-endpoint'.",
  ApiServerConnectionError: "Check that the API server is running and that this runner can reach it.",
  ResourcesUnavailableError: "No capacity for the resources asked: allow more regions or clouds ('infra', any_of in the task), other accelerators, or more 'retries' with a longer 'retry-delay-seconds'.",
  InvalidClusterNameError: "Choose another 'cluster-name' or 'cluster-prefix'."
}

/** A request of ours still running on the server for this cluster, or why that could not be known. */
async function stillRunning(sky: Sky, cluster: string): Promise<{ id?: string; why: string } | undefined> {
  try {
    const running = await sky.runningRequests(cluster)
    if (running.length === 0) return undefined
    return { id: running[0]!.id, why: `its request ${running[0]!.id.slice(0, 8)} (${running[0]!.name}) is still running on the server` }
  } catch (error) {
    return { why: `whether its request still runs on the server could not be read (${errorMessage(error)})` }
  }
}

/**
 * The stream of a cluster job dropped after the job was submitted (exit 1). The job goes on: follow
 * its log again (`sky logs`: the rest of the log, job outputs included, and its exit code is the
 * job's status), and if that keeps failing, ask its status once (`sky logs --status`). Never launch.
 */
async function followDroppedClusterJob(sky: Sky, o: LaunchOptions, cluster: string, jobId: string, first: Attempt): Promise<Omit<LaunchResult, 'attempts' | 'durationMs'>> {
  const base = { jobId, requestId: first.scanner.requestId, submitted: true }
  const settled = (code: number, finalStatus: string | undefined) => {
    const outcome = outcomeOf(code)
    const status = outcome.kind === 'job-failed' && finalStatus?.startsWith('FAILED') ? finalStatus : outcome.status
    return { ...base, outcome, status, exitCode: code, message: outcome.kind === 'job-failed' ? describeFailedStatus(o.what, status) : describeOutcome(outcome, code, o.what) }
  }
  let said = skyError(first.stderrTail)
  for (let round = 1; round <= FOLLOW_ROUNDS && !o.cancellation.cancelled; round++) {
    core.warning(`${o.what}: the log stream ended (sky exit 1${said ? `: ${said.type}: ${said.message}` : ''}) after job ${jobId} was submitted. The job is not launched again: following it again (${repeats(o)}).`)
    const again = await reattach(sky, o, args.logsArgs(cluster, jobId, wholeLog(o)), 'cluster')
    if (again.code !== null && again.code !== 1 && again.code !== 101) return settled(again.code, again.scanner.finalStatus)
    said = skyError(again.stderrTail) ?? said
    if (round < FOLLOW_ROUNDS) await sleepUnlessStopped(o.retryDelaySeconds * 1000, o)
  }
  if (o.cancellation.cancelled) return { ...base, outcome: { kind: 'cancelled', status: 'CANCELLED' }, status: 'CANCELLED', exitCode: 103, message: `${o.what} was cancelled with the run.` }
  // Following kept failing: one status, without the log.
  try {
    const st = await sky.jobStatus(cluster, jobId)
    if (st.code !== null && st.code !== 1 && st.code !== 101) return settled(st.code, st.status)
    if (st.code === 101) said = { type: 'status', message: `the job is ${st.status ?? 'still running'}` }
    else said = skyError(st.output) ?? said
  } catch (error) {
    said = { type: 'Error', message: errorMessage(error) }
  }
  return {
    ...base,
    outcome: outcomeOf(1),
    status: 'UNKNOWN',
    exitCode: 1,
    message: `${o.what}: job ${jobId} was submitted, but its log stream kept dropping and SkyPilot did not say how it ended${said ? ` (last: ${said.type}: ${said.message})` : ''}. It was not launched again. Check it with: sky logs --status ${cluster} ${jobId}`
  }
}

/** Streams `sky logs` / `sky jobs logs` again, relaying and scanning as the first stream did. */
/** Re-attaching reads the whole log when job outputs are read from it (see onChunk). */
const wholeLog = (o: LaunchOptions): boolean => o.onChunk !== undefined
const repeats = (o: LaunchOptions): string => (wholeLog(o) ? 'from its first line, for the job outputs: the lines already shown repeat' : 'up to its last 1000 lines repeat')

async function reattach(sky: Sky, o: LaunchOptions, argv: string[], kind: 'cluster' | 'managed'): Promise<Attempt> {
  const scanner = new OutputScanner(kind)
  const stream = sky.stream(argv, {
    linePrefix: o.linePrefix,
    onChunk: (chunk, from) => {
      scanner.push(chunk)
      if (from === 'stdout') o.onChunk?.(chunk)
    }
  })
  const tracked = o.cancellation.track(stream)
  const onAbort = (): void => stream.interrupt('SIGINT')
  o.stopSignal?.addEventListener('abort', onAbort)
  const end = await stream.done
  o.stopSignal?.removeEventListener('abort', onAbort)
  tracked.done()
  scanner.end()
  return { code: end.code, scanner, stderrTail: end.stderrTail }
}

/**
 * A managed launch exited 1. Its job exists if the jobs controller holds one of our name, submitted
 * since we started: then it must be followed, never launched again. (sky prints the managed job's
 * id only once the job ends, and in consolidation mode prints no submission line at all.)
 */
async function managedJobAfterDrop(sky: Sky, name: string, started: number, a: Attempt): Promise<ManagedJob | 'unknown' | undefined> {
  const said = skyError(a.stderrTail)
  // Refused before any request reached the jobs controller: no job can exist.
  if (said && /^(ApiServerAuthenticationError|APIVersionMismatchError|InvalidClusterNameError|ValueError|KeyError)$/.test(said.type)) return undefined
  try {
    return await sky.managedJobByName(name, started / 1000 - CLOCK_SLACK_S)
  } catch (error) {
    core.warning(`Could not read the managed jobs queue to learn whether job '${name}' was created: ${errorMessage(error)}.`)
    return 'unknown'
  }
}

/**
 * A managed job's final word: its record in the queue (status, failure reason, recoveries), found by
 * id, or by name when sky did not print the id; a stream that dropped is re-attached first.
 */
async function settleManaged(sky: Sky, o: LaunchOptions, job: Partial<ManagedJob>, a: Attempt, dropped: boolean): Promise<Omit<LaunchResult, 'attempts' | 'durationMs'>> {
  let id = job.id || a.scanner.jobId
  let code = a.code
  if (dropped && id) {
    for (let round = 1; round <= FOLLOW_ROUNDS && !o.cancellation.cancelled && !o.detached; round++) {
      core.warning(`${o.what}: the log stream ended (sky exit ${code}) after managed job ${id} was created. It is not launched again: following it again (${repeats(o)}).`)
      const again = await reattach(sky, o, args.jobsLogsArgs(id, wholeLog(o)), 'managed')
      code = again.code
      if (code !== null && code !== 1) break
      if (round < FOLLOW_ROUNDS) await sleepUnlessStopped(o.retryDelaySeconds * 1000, o)
    }
  }
  if (o.cancellation.cancelled) return { outcome: { kind: 'cancelled', status: 'CANCELLED' }, status: 'CANCELLED', exitCode: 103, jobId: id, submitted: true, message: `${o.what} was cancelled with the run.` }
  let record: ManagedJob | undefined
  try {
    record = id ? await sky.managedJob(id) : await sky.managedJobByName(o.managedName!, 0)
  } catch (error) {
    core.warning(`Could not read the managed job's record: ${errorMessage(error)}`)
  }
  id = record?.id || id
  const what = id ? `Managed job ${id} (${o.managedName})` : o.what
  if (o.detached && record) {
    const outcome = outcomeOf(0)
    return { outcome, status: record.status, exitCode: 0, jobId: id, submitted: true, recoveryCount: record.recoveryCount, message: `${what} was submitted (${record.status}).` }
  }
  const status = record?.status ?? a.scanner.finalStatus
  if (!status) {
    const outcome = outcomeOf(code)
    return { outcome, status: dropped ? 'UNKNOWN' : outcome.status, exitCode: code, jobId: id, submitted: true, message: `${what}: its status could not be read from SkyPilot. Check it with: sky jobs queue -a` }
  }
  const exitCode = exitCodeForStatus(status)
  const outcome = outcomeOf(exitCode)
  const message = status.startsWith('FAILED') ? describeFailedStatus(what, status, record?.failureReason) : describeOutcome(outcome, exitCode, what)
  return { outcome, status, exitCode, jobId: id, submitted: true, recoveryCount: record?.recoveryCount, message }
}

async function sleepUnlessStopped(ms: number, o: LaunchOptions): Promise<void> {
  const step = 200
  for (let waited = 0; waited < ms; waited += step) {
    if (o.cancellation.cancelled || o.stopSignal?.aborted) return
    await sleep(Math.min(step, ms - waited))
  }
}

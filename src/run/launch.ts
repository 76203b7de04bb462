import * as core from '@actions/core'
import { errorMessage } from '../errors.js'
import { classifyLaunchFailure, describeFailedStatus, describeKilledTail, describeOutcome, isFinalJobExitCode, isRetryable, outcomeOf, signalOf, type LaunchFailure, type Outcome } from '../sky/exit-codes.js'
import { FINAL_STATUSES as FINAL_STATUSES_SET, OutputScanner, exitCodeForStatus, skyError, type ManagedJob } from '../sky/parse.js'
import * as args from '../sky/args.js'
import { lastLines, type Sky } from '../sky/client.js'
import { sleep } from '../process.js'
import type { PlannedTask } from '../plan.js'
import { RunLifecycle, STATUSES, isStatus } from '../lifecycle.js'
import type { Cancellation } from './cancel.js'
import { capReachedSentence, type CapGuard } from './cap-guard.js'
import { MANAGED_CLOCK_SLACK_S } from './runs.js'
import { cancelManagedJobs } from './teardown.js'

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
  /**
   * Main did not see the job end: stopped by the run's cancellation (or fail-fast), or a cap's cancel
   * SkyPilot has not confirmed. The post step cancels it (or tears its cluster down) and verifies.
   */
  openForPost?: boolean
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
  /** Do not follow the job to its end (detach): its id is all that is wanted. */
  detached?: boolean
  /** The task's lifecycle (run records for the post step); a private one when not given. */
  lifecycle?: RunLifecycle
  /** Values no message may show (the job's last lines are quoted in errors and the summary). */
  secrets?: readonly string[]
  /** The task's max-duration / max-cost-usd while the runner watches: reached, the job is cancelled (TIMED_OUT). */
  caps?: CapGuard
}

/**
 * How long a job whose log stream dropped is followed again while the API server cannot be reached
 * (a restart, a network blip): the job goes on meanwhile, and its end is what the step waits for.
 * Also how long a managed job's record may lag behind its end. SKYPILOT_ACTION_FOLLOW_BUDGET_MS
 * shortens it for tests.
 */
function followBudgetMs(): number {
  const ms = Number(process.env.SKYPILOT_ACTION_FOLLOW_BUDGET_MS)
  return Number.isFinite(ms) && ms > 0 ? ms : 10 * 60_000
}
/** Following again after anything but a lost server: this many rounds. */
const FOLLOW_ROUNDS = 3
/** Waits between re-attaches: doubling from 2 s, at most 30 s. */
const backoffMs = (round: number): number => Math.min(30_000, 1000 * 2 ** round)

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
  const life = o.lifecycle ?? new RunLifecycle(task.name)
  const stopped = (): boolean => o.cancellation.cancelled || Boolean(o.stopSignal?.aborted)
  const capped = (): boolean => Boolean(o.caps?.reached) && !o.cancellation.cancelled
  let attempts = 0
  let result: Omit<LaunchResult, 'attempts' | 'durationMs'> | undefined
  let requestId: string | undefined
  for (;;) {
    attempts++
    if (attempts > 1) o.onRelaunch?.()
    life.to('launching')
    const a = await attempt(sky, task, o, attempts, kind, life)
    requestId = a.scanner.requestId ?? requestId
    if (capped()) {
      result = await endAtCap(sky, task, o, a, started, requestId)
      break
    }
    if (stopped()) {
      result = cancelledResult(a, o, requestId)
      break
    }
    let outcome = outcomeOf(a.code)
    let failure: LaunchFailure | undefined
    if (outcome.kind === 'launch-failed') {
      // A job may exist although sky did not exit with its status: the stream dropped, or the job's
      // driver was killed. Then it is followed or asked about, never launched again.
      const job = kind === 'managed' ? await managedJobAfterDrop(sky, o.managedName!, started, a) : a.scanner.submitted && a.scanner.jobId ? { id: a.scanner.jobId } : undefined
      if (job === 'unknown') {
        result = { outcome, status: 'UNKNOWN', exitCode: a.code, submitted: false, requestId, message: `${o.what}: sky exited ${a.code}, and whether it had created managed job '${o.managedName}' could not be read from SkyPilot. It was not launched again; the post step cancels any job of that name.` }
        break
      }
      if (job) {
        life.reach('submitted')
        result = kind === 'managed' ? await settleManaged(sky, o, job, a, true) : await clusterJobAfterAbnormalEnd(sky, o, task.cluster!, job.id, a)
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
    } else if (o.detached && outcome.kind === 'succeeded') {
      result = kind === 'managed' ? await settleManaged(sky, o, { id: a.scanner.jobId }, a, false) : submittedResult(a, task, requestId)
      break
    } else if (kind === 'managed' && a.code !== 2 && a.code !== null) {
      result = await settleManaged(sky, o, { id: a.scanner.jobId }, a, false)
      outcome = result.outcome
      if (!isRetryable(outcome, o.retryOnJobFailure) || attempts > o.retries) break
    } else {
      result = clusterResult(a, o, requestId)
      if (!isRetryable(outcome, o.retryOnJobFailure) || attempts > o.retries) break
    }
    // Another attempt: a job that ended is over; one that never existed is tried again from launching.
    if (result && endedBySkyPilot(result)) life.to('ended')
    const delay = o.retryDelaySeconds
    core.warning(`${o.what}: attempt ${attempts} of ${o.retries + 1} ${outcome.kind === 'job-failed' ? 'ran and failed' : `failed before the job ran (${failure?.said ?? `exit ${a.code}`})`}; retrying in ${delay}s.`)
    await sleepUnlessStopped(delay * 1000, o)
    if (capped()) {
      result = await endAtCap(sky, task, o, a, started, requestId)
      break
    }
    if (stopped()) {
      result = cancelledResult(a, o, requestId)
      break
    }
  }
  // A cap reached while the job's fate was being asked (a dropped stream followed again, a managed
  // job's record awaited): the job is stopped here, whatever that wait had found so far.
  if (capped() && result!.status !== 'TIMED_OUT' && !(isStatus(result!.status) && STATUSES[result!.status].final)) result = await endAtCap(sky, task, o, undefined, started, requestId)
  o.caps?.stop()
  // Ended only when SkyPilot said how: a run cancelled, or a job whose fate is unknown, is not over
  // for the post step (it tears down, or cancels the managed job and verifies).
  if (endedBySkyPilot(result!) && life.phase !== 'ended') life.to('ended')
  const attemptsNote = attempts > 1 ? ` (${attempts} attempts)` : ''
  return { ...result!, attempts, durationMs: Date.now() - started, message: result!.message + attemptsNote }
}

/** A final status SkyPilot gave (or a launch that failed before any job): the run is over. */
function endedBySkyPilot(r: Omit<LaunchResult, 'attempts' | 'durationMs'>): boolean {
  if (r.openForPost) return false
  return isStatus(r.status) && STATUSES[r.status].final
}

async function attempt(sky: Sky, task: PlannedTask, o: LaunchOptions, n: number, kind: 'cluster' | 'managed', life: RunLifecycle): Promise<Attempt> {
  let jobIdSeen: string | undefined
  const scanner = new OutputScanner(kind, (id) => {
    tracked.setRequestId(id)
    o.onRequestId?.(id)
  })
  if (o.groupTitle) core.startGroup(`${o.groupTitle}${n > 1 ? ` (attempt ${n})` : ''}`)
  // A managed job is submitted with its launch (SkyPilot's submitted_at); a cluster job once sky says so.
  if (kind === 'managed') o.caps?.submitted()
  const stream = sky.stream(task.argv, {
    cwd: task.cwd,
    extraEnv: o.secretEnv,
    linePrefix: o.linePrefix,
    onChunk: (chunk, from) => {
      scanner.push(chunk)
      if (from === 'stdout') o.onChunk?.(chunk)
      if (scanner.started) life.reach('running')
      else if (scanner.submitted) life.reach('submitted')
      if (scanner.submitted) o.caps?.submitted()
      if (scanner.jobId && scanner.jobId !== jobIdSeen) {
        jobIdSeen = scanner.jobId
        o.onJobId?.(scanner.jobId)
      }
    }
  })
  const tracked = o.cancellation.track(stream)
  const onAbort = (): void => stream.interrupt('SIGINT')
  o.stopSignal?.addEventListener('abort', onAbort)
  const offCap = o.caps?.onReach(onAbort)
  const end = await stream.done
  offCap?.()
  scanner.end()
  if (scanner.started) life.reach('running')
  else if (scanner.submitted) life.reach('submitted')
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
    openForPost: true,
    message: `${o.what} was cancelled${o.cancellation.cancelled ? ' with the run' : ' (fail-fast: another task failed)'}.`
  }
}

/**
 * A cap was reached: the streams following the job were interrupted; now the job is cancelled, and
 * what SkyPilot answered is the message. A managed job is cancelled by name and waited for until the
 * jobs queue shows it ended (its id may never have been printed); a cluster job with `sky cancel`.
 * A job that turns out to have ended by itself just before keeps its own status.
 */
async function endAtCap(sky: Sky, task: PlannedTask, o: LaunchOptions, a: Attempt | undefined, started: number, requestId: string | undefined): Promise<Omit<LaunchResult, 'attempts' | 'durationMs'>> {
  const reached = o.caps!.reached!
  const opening = capReachedSentence(o.what, reached)
  const timedOut = (jobId: string | undefined, said: string) => ({
    outcome: { kind: 'cancelled', status: 'CANCELLED' } as const,
    status: 'TIMED_OUT',
    exitCode: null,
    jobId,
    requestId,
    submitted: true,
    message: `${opening} ${said}`
  })
  core.warning(`${opening} Cancelling the job.`)
  if (o.managedName) return endManagedAtCap(sky, o, a, started, requestId, timedOut)
  const jobId = a?.scanner.jobId
  if (!jobId || !task.cluster) return timedOut(jobId, `Its job id was never printed, so it could not be cancelled by id; the cluster is torn down as on any other end.`)
  const r = await sky.cancelJob(task.cluster, jobId, 5 * 60_000)
  const answer = lastLines(r.stdout + r.stderr, 2)
  if (r.code !== 0) return timedOut(jobId, `\`sky cancel -y ${task.cluster} ${jobId}\` failed (exit ${r.code}: ${answer}); the cluster is torn down as on any other end.`)
  // "No jobs cancelled. They may be in terminal states.": it may have ended by itself meanwhile.
  if (/No jobs cancelled/.test(answer)) {
    const st = await sky.jobStatus(task.cluster, jobId)
    if (st.status && st.status !== 'CANCELLED' && FINAL_STATUSES_SET.has(st.status)) {
      const code = exitCodeForStatus(st.status)
      return { outcome: outcomeOf(code), status: st.status, exitCode: code, jobId, requestId, submitted: true, message: `${o.what} ended ${st.status} by itself as its ${reached.cap} cap was reached (sky logs --status); it was not cancelled.` }
    }
  }
  return timedOut(jobId, `SkyPilot cancelled job ${jobId} on ${task.cluster} (sky cancel: ${answer}).`)
}

/**
 * A managed job at its cap: cancelled by name, and the jobs queue asked until it shows the job ended.
 * A job SkyPilot still held as running when the cancel came is TIMED_OUT whatever failure status
 * its controller then gave it (the cap stopped it), unless it SUCCEEDED meanwhile. One SkyPilot does
 * not list yet may still be created: `sky jobs launch` interrupted at the cap leaves its request
 * running on the server ("Request will continue running asynchronously"), so that request is
 * cancelled and the queue asked again. What is not confirmed ended is left to the post step.
 */
async function endManagedAtCap(
  sky: Sky,
  o: LaunchOptions,
  a: Attempt | undefined,
  started: number,
  requestId: string | undefined,
  timedOut: (jobId: string | undefined, said: string) => Omit<LaunchResult, 'attempts' | 'durationMs'>
): Promise<Omit<LaunchResult, 'attempts' | 'durationMs'>> {
  const name = o.managedName!
  const since = started / 1000 - MANAGED_CLOCK_SLACK_S
  let r = await cancelManagedJobs(sky, [name], since)
  let request: { answer: 'cancelled' | 'finished' | 'failed'; said: string } | undefined
  if (r.ended[0]?.status === 'NOT_FOUND' && requestId) {
    const c = await sky.apiCancel(requestId, 2 * 60_000)
    const said = { cancelled: `SkyPilot cancelled its launch request ${requestId}`, finished: `Its launch request ${requestId} had already finished`, failed: `Its launch request ${requestId} could not be cancelled (sky exit ${c.code}: ${lastLines(c.stderr || c.stdout, 1)})` }[c.answer]
    request = { answer: c.answer, said }
    r = await cancelManagedJobs(sky, [name], since)
  }
  const job = r.ended[0] ?? r.left[0]
  const jobId = job?.id ?? a?.scanner.jobId
  const named = jobId ? `managed job ${jobId}` : `managed job '${name}'`
  const open = (said: string) => ({ ...timedOut(jobId, `${said} The post step cancels any job named '${name}' and verifies it ended.`), openForPost: true })
  if (r.left.length > 0) return open(`${capitalized(named)} still shows ${job?.status ?? 'UNKNOWN'} after \`sky jobs cancel\`${r.unknown ? ` (the jobs queue could not be read: ${r.unknown})` : ''}.`)
  if (!job || job.status === 'NOT_FOUND') {
    const none = `the jobs queue lists no managed job named '${name}'`
    // The request is over (cancelled, or it had finished): no job of that name can appear any more.
    if (request && request.answer !== 'failed') return timedOut(undefined, `${request.said}, and ${none}.`)
    return open(request ? `${request.said}, and ${none} yet.` : `${capitalized(none)} yet (its launch request was interrupted at the cap and may still create it).`)
  }
  if (job.status === 'CANCELLED' || (job.cancelAccepted && job.status !== 'SUCCEEDED')) {
    return timedOut(jobId, `SkyPilot cancelled ${named}: the jobs queue shows it ${job.status}${job.status === 'CANCELLED' ? '' : ' (it ended so after SkyPilot had accepted the cancel)'}; its controller releases its cluster.`)
  }
  const code = exitCodeForStatus(job.status)
  return { outcome: outcomeOf(code), status: job.status, exitCode: code, jobId, requestId, submitted: true, message: `${o.what} ended ${job.status} by itself as its ${o.caps!.reached!.cap} cap was reached (sky jobs queue); \`sky jobs cancel\` found it no longer running.` }
}

const capitalized = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1)

/** A detached cluster launch that submitted its job: it runs on without the runner. */
function submittedResult(a: Attempt, task: PlannedTask, requestId: string | undefined): Omit<LaunchResult, 'attempts' | 'durationMs'> {
  const jobId = a.scanner.jobId
  return { outcome: outcomeOf(0), status: 'SUBMITTED', exitCode: 0, jobId, requestId, submitted: true, message: `Submitted; collect it with mode: collect, job-id: ${jobId ?? '?'}, cluster-name: ${task.cluster}.` }
}

/** The job's last lines, for an error and the summary: without any of the step's secrets. */
function lastLinesOf(a: Attempt, o: LaunchOptions): string[] {
  const secrets = (o.secrets ?? []).filter((v) => v.length > 0)
  return a.scanner.jobLines.map((line) => secrets.reduce((text, secret) => text.split(secret).join('***'), line))
}

/** A cluster job's result from sky's exit code (and its final status line, when it printed one). */
function clusterResult(a: Attempt, o: LaunchOptions, requestId: string | undefined): Omit<LaunchResult, 'attempts' | 'durationMs'> {
  const outcome = outcomeOf(a.code)
  const status = outcome.kind === 'job-failed' && a.scanner.finalStatus?.startsWith('FAILED') ? a.scanner.finalStatus : outcome.status
  const message = outcome.kind === 'job-failed' ? describeFailedStatus(o.what, status, undefined, lastLinesOf(a, o)) : describeOutcome(outcome, a.code, o.what)
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
 * sky ended without the job's status after the job was submitted (exit 1, or 128+N). Either its log
 * stream dropped (the client lost the API server: a restart, a network blip) and the job goes on, or
 * the job's driver was killed under it (the cluster's node or allocation went away: scancel, a node
 * failure, a time limit). Never launch again. A dropped stream is followed again (`sky logs`: the
 * rest of the log, job outputs included; its exit code is the job's status) for as long as the
 * server stays unreachable, within the follow budget; then, or for anything else, SkyPilot is asked
 * for the job's status once (`sky logs --status`).
 */
async function clusterJobAfterAbnormalEnd(sky: Sky, o: LaunchOptions, cluster: string, jobId: string, first: Attempt): Promise<Omit<LaunchResult, 'attempts' | 'durationMs'>> {
  const base = { jobId, requestId: first.scanner.requestId, submitted: true }
  let lines = lastLinesOf(first, o)
  const settled = (code: number, finalStatus: string | undefined) => {
    const outcome = outcomeOf(code)
    const status = outcome.kind === 'job-failed' && finalStatus?.startsWith('FAILED') ? finalStatus : outcome.status
    return { ...base, outcome, status, exitCode: code, message: outcome.kind === 'job-failed' ? describeFailedStatus(o.what, status, undefined, lines) : describeOutcome(outcome, code, o.what) }
  }
  let code = first.code
  let said = skyError(first.stderrTail)
  // What `sky logs --status` last answered, once asked.
  let asked: string | undefined
  // A tail ended by a signal (128+N): the job's driver was killed under it. Following it again
  // cannot help; SkyPilot is asked once.
  let killedBy = signalOf(code) !== undefined ? { code: code!, by: 'sky' } : undefined
  if (!killedBy) {
    let deadline = Date.now() + followBudgetMs()
    let serverLost = classifyLaunchFailure(said).transient
    for (let round = 1; !o.cancellation.cancelled && !o.caps?.reached; round++) {
      if (round === 1) core.warning(`${o.what}: the log stream ended (sky exit ${code}${said ? `: ${said.type}: ${said.message}` : ''}) after job ${jobId} was submitted. The job is not launched again: following it again (${repeats(o)}).`)
      const again = await reattach(sky, o, args.logsArgs(cluster, jobId, wholeLog(o)), 'cluster')
      if (again.scanner.jobLines.length > 0) lines = lastLinesOf(again, o)
      // Only SkyPilot's job exit codes are an answer; 101 (not finished) is followed again.
      if (isFinalJobExitCode(again.code)) return settled(again.code, again.scanner.finalStatus)
      code = again.code
      said = skyError(again.stderrTail) ?? said
      if (signalOf(code) !== undefined) {
        killedBy = { code: code!, by: 'sky logs' }
        break
      }
      // A lost server is waited for, within the budget, and so is what follows it: a restarted
      // server may take a while to reach the cluster again (on Slurm: its login node over SSH).
      // Anything else gets a few rounds.
      serverLost ||= classifyLaunchFailure(said).transient
      let wait = Math.min(backoffMs(round), deadline - Date.now())
      if ((!serverLost && round >= FOLLOW_ROUNDS) || wait <= 0) {
        // Out of rounds: SkyPilot is asked whether the job still runs. While it says so, the job
        // is followed again, at most every 30 s: a log stream that keeps failing (SSH to a busy
        // login node) must not end the step of a healthy job, whose cluster the post step would
        // then tear down under it. The budget counts again from SkyPilot's answer.
        const st = await askStatus(sky, cluster, jobId)
        if (st.final) return settled(st.code, st.status)
        const firstAnswer = asked === undefined
        asked = st.said
        if (!st.alive || o.cancellation.cancelled || o.caps?.reached) break
        if (firstAnswer) core.info(`${o.what}: SkyPilot says job ${jobId} is ${st.status ?? 'not finished'}; its log is followed again until it ends.`)
        deadline = Date.now() + followBudgetMs()
        wait = backoffMs(round)
      }
      core.info(`${o.what}: following job ${jobId} again failed (${said ? `${said.type}: ${said.message}` : `sky exit ${code}`}); trying again in ${Math.round(wait / 1000)} s.`)
      await sleepUnlessStopped(wait, o)
    }
  }
  if (o.cancellation.cancelled) return { ...base, outcome: { kind: 'cancelled', status: 'CANCELLED' }, status: 'CANCELLED', exitCode: 103, openForPost: true, message: `${o.what} was cancelled with the run.` }
  // No status from the stream, and none asked yet (a killed tail): one status, without the log.
  if (asked === undefined) {
    const st = await askStatus(sky, cluster, jobId)
    if (st.final) return settled(st.code, st.status)
    asked = st.said
  }
  const how = killedBy
    ? describeKilledTail(killedBy.by, killedBy.code, ` after job ${jobId} was submitted`)
    : `job ${jobId} was submitted, but its log stream kept dropping${said ? ` (last: ${said.type}: ${said.message})` : ''}`
  return {
    ...base,
    outcome: outcomeOf(1),
    status: 'UNKNOWN',
    exitCode: killedBy?.code ?? first.code,
    message: `${o.what}: ${how}. SkyPilot did not say how the job ended (sky logs --status: ${asked}). It was not launched again. Check it with: sky logs --status ${cluster} ${jobId}${lines.length > 0 ? `. Its last lines:\n${lines.map((l) => `    ${l}`).join('\n')}` : ''}`
  }
}

/** `sky logs --status` of a cluster job: its final exit code, whether it is still going (101), or what was said. */
async function askStatus(sky: Sky, cluster: string, jobId: string): Promise<{ final: true; code: number; status?: string } | { final: false; alive: boolean; status?: string; said: string }> {
  try {
    const st = await sky.jobStatus(cluster, jobId)
    if (isFinalJobExitCode(st.code)) return { final: true, code: st.code, status: st.status }
    return st.code === 101 ? { final: false, alive: true, status: st.status, said: `the job is ${st.status ?? 'still running'}` } : { final: false, alive: false, said: st.output }
  } catch (error) {
    return { final: false, alive: false, said: errorMessage(error) }
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
  const offCap = o.caps?.onReach(onAbort)
  const end = await stream.done
  offCap?.()
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
    return await sky.managedJobByName(name, started / 1000 - MANAGED_CLOCK_SLACK_S)
  } catch (error) {
    core.warning(`Could not read the managed jobs queue to learn whether job '${name}' was created: ${errorMessage(error)}.`)
    return 'unknown'
  }
}

/**
 * A managed job's final word: its record in the queue (status, failure reason, recoveries), found by
 * id, or by name when sky did not print the id. A stream that dropped is followed again first. The
 * record can lag behind the job's end (the jobs controller checks its job every 15 s, then cleans
 * its cluster up): `sky jobs launch` then ends with exit 101 and "Managed job finished: N (status:
 * RUNNING)" after the job printed SUCCEEDED. The queue is the truth: it is asked again until it
 * holds a final status, within the follow budget.
 */
async function settleManaged(sky: Sky, o: LaunchOptions, job: Partial<ManagedJob>, a: Attempt, dropped: boolean): Promise<Omit<LaunchResult, 'attempts' | 'durationMs'>> {
  let id = job.id || a.scanner.jobId
  let code = a.code
  let lines = lastLinesOf(a, o)
  const deadline = Date.now() + followBudgetMs()
  if (dropped && id && !o.detached) {
    let serverLost = classifyLaunchFailure(skyError(a.stderrTail)).transient
    for (let round = 1; !o.cancellation.cancelled && !o.caps?.reached; round++) {
      if (round === 1) core.warning(`${o.what}: the log stream ended (sky exit ${code}) after managed job ${id} was created. It is not launched again: following it again (${repeats(o)}).`)
      const again = await reattach(sky, o, args.jobsLogsArgs(id, wholeLog(o)), 'managed')
      if (again.scanner.jobLines.length > 0) lines = lastLinesOf(again, o)
      code = again.code
      if (code !== null && code !== 1) break
      serverLost ||= classifyLaunchFailure(skyError(again.stderrTail)).transient
      const wait = Math.min(backoffMs(round), deadline - Date.now())
      if ((!serverLost && round >= FOLLOW_ROUNDS) || wait <= 0) break
      await sleepUnlessStopped(wait, o)
    }
  }
  if (o.cancellation.cancelled) return { outcome: { kind: 'cancelled', status: 'CANCELLED' }, status: 'CANCELLED', exitCode: 103, jobId: id, submitted: true, openForPost: true, message: `${o.what} was cancelled with the run.` }
  let record: ManagedJob | undefined
  for (let asked = 1; ; asked++) {
    try {
      record = id ? await sky.managedJob(id) : await sky.managedJobByName(o.managedName!, 0)
    } catch (error) {
      core.warning(`Could not read the managed job's record: ${errorMessage(error)}`)
    }
    id = record?.id || id
    // Detached: whatever it is now. Followed: wait for the record to say how the job ended.
    if (o.detached || !record || FINAL_STATUSES_SET.has(record.status) || o.cancellation.cancelled || o.caps?.reached) break
    const wait = Math.min(Math.max(1000, followBudgetMs() / 60), 10_000, deadline - Date.now())
    if (wait <= 0) break
    if (asked === 1) core.info(`Managed job ${id}: its log ended, and the jobs queue says ${record.status}; waiting for the jobs controller to record how it ended.`)
    await sleepUnlessStopped(wait, o)
  }
  const what = id ? `Managed job ${id} (${o.managedName})` : o.what
  if (o.detached && record) {
    return { outcome: outcomeOf(0), status: 'SUBMITTED', exitCode: 0, jobId: id, submitted: true, recoveryCount: record.recoveryCount, message: `${what} was submitted (${record.status} now); collect it with mode: collect, job-id: ${id}.` }
  }
  const status = record?.status ?? a.scanner.finalStatus
  if (!status) {
    const outcome = outcomeOf(code)
    return { outcome, status: dropped ? 'UNKNOWN' : outcome.status, exitCode: code, jobId: id, submitted: true, message: `${what}: its status could not be read from SkyPilot. Check it with: sky jobs queue -a` }
  }
  if (!FINAL_STATUSES_SET.has(status)) {
    return { outcome: outcomeOf(101), status: 'RUNNING', exitCode: 101, jobId: id, submitted: true, recoveryCount: record?.recoveryCount, message: `${what}: its log ended, but the jobs queue still says ${status} after ${Math.round(followBudgetMs() / 60_000)} minutes: SkyPilot has not recorded how it ended. The post step cancels it by name and verifies. Check it with: sky jobs queue -a` }
  }
  const exitCode = exitCodeForStatus(status)
  const outcome = outcomeOf(exitCode)
  const message = status.startsWith('FAILED') ? describeFailedStatus(what, status, record?.failureReason, lines) : describeOutcome(outcome, exitCode, what)
  return { outcome, status, exitCode, jobId: id, submitted: true, recoveryCount: record?.recoveryCount, message }
}

async function sleepUnlessStopped(ms: number, o: LaunchOptions): Promise<void> {
  const step = 200
  for (let waited = 0; waited < ms; waited += step) {
    if (o.cancellation.cancelled || o.stopSignal?.aborted || o.caps?.reached) return
    await sleep(Math.min(step, ms - waited))
  }
}

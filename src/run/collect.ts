import * as core from '@actions/core'
import { runUrl, type RunnerContext } from '../context.js'
import { errorMessage } from '../errors.js'
import type { Inputs } from '../inputs.js'
import * as args from '../sky/args.js'
import { Sky } from '../sky/client.js'
import { describeFailedStatus, describeKilledTail, describeOutcome, isFinalJobExitCode, isJobExitCode, outcomeOf, signalOf } from '../sky/exit-codes.js'
import { exitCodeForStatus, FINAL_STATUSES, skyError } from '../sky/parse.js'
import { saveRuns } from '../state.js'
import { renderCommand } from '../plan.js'
import { renderSummary, writeSummary, type TaskResult } from '../summary.js'
import type { Cancellation } from './cancel.js'
import { stepResults } from '../results/step-results.js'
import { connect } from './connect.js'
import { secretValues, StepOutputs } from './job-outputs.js'
import { publish } from './publish.js'
import { dashboardUrl, setOutputs } from './outputs.js'
import { formatSpan } from '../caps.js'
import { lastLines } from '../sky/client.js'
import { earliestDeadline, recordedCap, type RecordedCap } from './recorded-cap.js'
import { fetchHourlyPrices, recordCost } from '../results/cost.js'
import { cancelManagedJobById, tearDown, teardownLines, teardownProblem } from './teardown.js'

/**
 * Collects a detached run: follows its logs for at most `wait-minutes`, then turns its final status
 * into the step's result, or reports it still RUNNING (the step succeeds, so a scheduled workflow
 * can come back). A cluster job's cluster is torn down by the post step once the job is final.
 */
export async function collect(inputs: Inputs, ctx: RunnerContext, cancellation: Cancellation, setSky: (sky: Sky) => void): Promise<void> {
  const started = Date.now()
  const jobId = inputs.jobId!
  const cluster = inputs.clusterName
  const what = cluster ? `Job ${jobId} on ${cluster}` : `Managed job ${jobId}`
  if (inputs.dryRun) {
    const follow = cluster ? args.logsArgs(cluster, jobId) : args.jobsLogsArgs(jobId)
    const lines = [
      `# follow ${what} for at most ${inputs.waitMinutes} minutes:`,
      renderCommand(['sky', ...follow]),
      ...(cluster ? [] : [renderCommand(['sky', ...args.jobsQueueArgs()])]),
      ...(cluster && inputs.down ? ['# post step, once the job is final:', renderCommand(['sky', ...args.downArgs([cluster])]), renderCommand(['sky', ...args.statusArgs([cluster])])] : [])
    ]
    core.info('Dry run: nothing is contacted. The plan:')
    for (const line of lines) core.info(`  ${line}`)
    setOutputs({ 'cluster-name': cluster, 'job-id': jobId, status: 'DRY_RUN' })
    await writeSummary(renderSummary({ title: 'SkyPilot collect: dry run', task: what, results: [], runUrl: runUrl(ctx), dryRunCommands: lines }))
    return
  }
  const { sky, install, server } = await connect(inputs, ctx)
  setSky(sky)

  // Job outputs are read from the whole log: a finished job's values are all there.
  const reader = new StepOutputs(inputs.jobOutputs, secretValues(inputs)).reader(what)
  let exitCode: number | null = null
  let timedOut = false
  let streamError: string | undefined
  // The job's cap, as its record keeps it (or as this step's input says it), asked while the log
  // streams: past its deadline, the job is stopped here (see endPastCap).
  // Reached while the log streams, the job is cancelled first and the follow left to end with it:
  // it reads the log the job printed up to its cancel (its outputs among it), even when the cap was
  // past before this step began and the stream had shown nothing yet. One that does not end soon
  // after the cancel is stopped.
  let capReached = false
  let stopStream: (() => void) | undefined
  let capTimer: NodeJS.Timeout | undefined
  let drainTimer: NodeJS.Timeout | undefined
  let cancelAtCap: Promise<string> | undefined
  const cap = capOf(sky, jobId, cluster, inputs).then((c) => {
    if (c?.deadline === undefined || c.final) return c
    capTimer = setTimeout(() => {
      capReached = true
      if (!stopStream) return
      cancelAtCap = cancelPastCap(sky, jobId, cluster)
      // Only while the log is still followed: a cancel answered after the stream ended (a managed
      // job's cancel waits for the queue to show it ended) would hold the step 90 s for nothing.
      const drain = (): void => {
        if (stopStream) drainTimer = setTimeout(() => stopStream?.(), FOLLOW_AFTER_CANCEL_MS)
      }
      cancelAtCap.then(drain, drain)
    }, Math.max(0, c.deadline.at - Date.now()))
    return c
  })
  if (inputs.waitMinutes > 0) {
    core.info(`Following ${what} for at most ${inputs.waitMinutes} minutes.`)
    // The whole log (--tail 0): sky shows only its last 1000 lines otherwise, and job outputs
    // printed early in the run are read from it.
    const argv = cluster ? args.logsArgs(cluster, jobId) : args.jobsLogsArgs(jobId)
    core.startGroup(`sky ${argv.join(' ')}`)
    const stream = sky.stream(argv, { onChunk: (chunk, from) => from === 'stdout' && reader?.push(chunk) })
    stopStream = () => stream.interrupt('SIGINT')
    const tracked = cancellation.track(stream)
    const timer = setTimeout(() => {
      timedOut = true
      stream.interrupt('SIGINT')
    }, inputs.waitMinutes * 60_000)
    const done = await stream.done
    clearTimeout(timer)
    clearTimeout(drainTimer)
    stopStream = undefined
    tracked.done()
    core.endGroup()
    exitCode = done.code
    const said = skyError(done.stderrTail)
    if (said) streamError = `${said.type}: ${said.message}`
  }
  const known = await cap
  clearTimeout(capTimer)
  // Past the deadline: reached while following, or before this step began. A job that had ended
  // (its record said so, or its log ended on its own) keeps its own status.
  const pastCap = known?.deadline && !known.final && Date.now() >= known.deadline.at
  if (pastCap && !cancellation.cancelled && (capReached || !isFinalJobExitCode(exitCode) || inputs.waitMinutes === 0)) {
    await endPastCap(sky, inputs, ctx, { jobId, cluster, what, recorded: known.cap, reached: known.deadline!, started, reader, install, server, cancelled: cancelAtCap })
    return
  }

  let recoveryCount: number | undefined
  let status = 'RUNNING'
  let message: string | undefined
  const settled = !timedOut && !cancellation.cancelled
  // The stream gave no final status (a status-only collect, a dropped connection, a cluster that is
  // gone): ask for it. A managed job's record also holds its recoveries and why it failed.
  if (settled && !cluster) {
    let record
    let unreadable: string | undefined
    try {
      record = await sky.managedJob(jobId)
    } catch (error) {
      unreadable = errorMessage(error)
    }
    if (unreadable) {
      status = 'UNKNOWN'
      message = `${what}: its status could not be read from SkyPilot (${unreadable}). Collect it again later.`
    } else if (!record) {
      status = 'NOT_FOUND'
      exitCode = 102
      message = `Managed job ${jobId} is not in this API server's jobs queue (sky jobs queue -a): check 'job-id', and that 'api-server-endpoint' is the server that launched it.`
    } else {
      status = record.status
      recoveryCount = record.recoveryCount
      exitCode = exitCodeForStatus(record.status)
      if (status.startsWith('FAILED')) message = describeFailedStatus(what, status, record.failureReason)
      else if (!FINAL_STATUSES.has(status)) status = 'RUNNING'
    }
  } else if (settled && cluster) {
    // Only SkyPilot's job exit codes answer for the job: a follow that ended otherwise (an error,
    // a signal, none) asks for the status.
    if (!isJobExitCode(exitCode) || inputs.waitMinutes === 0) {
      const followed = signalOf(exitCode) !== undefined
        ? `; ${describeKilledTail('sky logs', exitCode!)}`
        : streamError ? `; the log stream ended with ${streamError}` : ''
      const st = await sky.jobStatus(cluster, jobId)
      exitCode = st.code
      if (st.code === 1 && /ClusterDoesNotExist/.test(st.output)) {
        status = 'NOT_FOUND'
        exitCode = 102
        message = `Cluster ${cluster} no longer exists, and the final status of job ${jobId} went with it: a detached launch's cluster tears itself down 'idle-minutes-to-autostop' minutes after its job ends, or someone removed it. Collect sooner, or launch with a larger 'idle-minutes-to-autostop'.`
      } else if (!isJobExitCode(st.code)) {
        status = 'UNKNOWN'
        // Kept: the job may still be running where SkyPilot could not be asked.
        message = `${what}: SkyPilot did not say how it ended (${st.output}${followed}). Check it with: sky logs --status ${cluster} ${jobId}. Cluster ${cluster} is kept, as its job may still be running: collect it again, or remove it with mode: down.`
      } else {
        const outcome = outcomeOf(st.code)
        status = outcome.kind === 'job-failed' && st.status?.startsWith('FAILED') ? st.status : outcome.kind === 'not-finished' ? 'RUNNING' : outcome.status
      }
    } else {
      const outcome = outcomeOf(exitCode)
      status = outcome.kind === 'not-finished' ? 'RUNNING' : outcome.status
    }
    if (!message && status.startsWith('FAILED')) message = describeFailedStatus(what, status)
  }
  const final = status !== 'RUNNING' && status !== 'UNKNOWN'
  // Once final, the cluster has done its work: the post step tears it down (verified). A job still
  // running keeps it (a later collect comes back); a managed job's cluster is its controller's.
  if (cluster && final && inputs.down && status !== 'NOT_FOUND') saveRuns([{ task: what, kind: 'cluster', cluster, phase: 'ended' }])

  message ??= status === 'RUNNING'
    ? `${what} is still running${timedOut ? ` after ${inputs.waitMinutes} minutes` : ''}; collect it again later.`
    : describeOutcome(outcomeOf(exitCode), exitCode, what)
  reader?.end()
  const result: TaskResult = { name: what, cluster, jobId, status, exitCode, attempts: 1, durationMs: Date.now() - started, recoveryCount, message, ...(reader ? { outputs: reader.outputs } : {}) }
  if (final && status !== 'NOT_FOUND') await addCollectedCost(sky, result)
  const step = stepResults({ results: [result], fanout: false, declared: inputs.jobOutputs })
  const dashboard = server ? dashboardUrl(server.url, cluster ? 'cluster' : 'managed', result) : undefined
  setOutputs({ 'cluster-name': cluster, 'job-id': jobId, status, 'exit-code': exitCode, 'skypilot-version': install.version, 'dashboard-url': dashboard, 'recovery-count': recoveryCount, 'job-outputs': step.jobOutputs }, step.jobOutputs)
  await publish(renderSummary({ title: `SkyPilot collect: ${status}`, task: what, results: [result], version: install.version, serverUrl: server?.url, dashboardUrl: dashboard, runUrl: runUrl(ctx), notes: [step.markdown] }), inputs, ctx)
  core.info(message)
  if (status === 'RUNNING') return
  if (status !== 'SUCCEEDED') core.setFailed(message)
}

/**
 * What the collected run cost: a cluster job's cluster since its launch (the detached launch and
 * this collect are one run), from one cost report; a managed job's clusters are its controller's,
 * and SkyPilot reports no cost for them that the action can read.
 */
async function addCollectedCost(sky: Sky, result: TaskResult): Promise<void> {
  if (!result.cluster) {
    result.costNote = 'not reported by SkyPilot for managed jobs'
    return
  }
  // The cluster is still up (the post step tears it down): its open record is this run's use of it.
  recordCost(result, (await fetchHourlyPrices(sky, [result.cluster])).get(result.cluster)!, core.info)
}

/**
 * The cap of the job being collected (this step's input, else what its record keeps), its deadline
 * (a cost cap through its cluster's price: one cost report, only when there is one), and whether the
 * job had ended. Never throws.
 */
async function capOf(sky: Sky, jobId: string, cluster: string | undefined, inputs: Inputs): Promise<{ cap: RecordedCap; deadline?: ReturnType<typeof earliestDeadline>; final: boolean } | undefined> {
  try {
    const job = cluster ? (await sky.queue(cluster)).find((j) => String(j.job_id) === jobId) : await sky.managedJob(jobId)
    if (!job) return undefined
    const cap = 'job_id' in job ? recordedCap(job.metadata, job.submitted_at, inputs.caps) : recordedCap(job.metadata, job.submittedAt, inputs.caps)
    if (!cap) return undefined
    const final = FINAL_STATUSES.has(job.status)
    let price: { usd: number; usdPerHour: number } | undefined
    if (cap.maxCostUsd !== undefined && !final) {
      const p = cluster ? (await fetchHourlyPrices(sky, [cluster])).get(cluster) : { reason: "SkyPilot reports no price for a managed job's clusters" }
      if (p && 'usd' in p) price = p
      else core.warning(`max-cost-usd ($${cap.maxCostUsd.toFixed(2)}) of ${cluster ? `job ${jobId} on ${cluster}` : `managed job ${jobId}`} cannot be enforced: ${p?.reason ?? 'no price'}.`)
    }
    return { cap, deadline: earliestDeadline(cap, price), final }
  } catch (error) {
    core.warning(`Could not read the record of ${cluster ? `job ${jobId} on ${cluster}` : `managed job ${jobId}`} to learn its cap: ${errorMessage(error)}. A cap it carries is not held by this step.`)
    return undefined
  }
}

/** How long a follow may go on after the cancel at a cap before it is stopped: the job ends with the cancel. */
const FOLLOW_AFTER_CANCEL_MS = 90_000

/**
 * Cancels a job past its cap: a cluster job with `sky cancel`, a managed job by id, verified in the
 * jobs queue. Returns what SkyPilot answered, as the message says it.
 */
async function cancelPastCap(sky: Sky, jobId: string, cluster: string | undefined): Promise<string> {
  if (cluster) {
    const r = await sky.cancelJob(cluster, jobId, 5 * 60_000)
    return r.code === 0 ? `sky cancel: ${lastLines(r.stdout, 2)}.` : `sky cancel failed (exit ${r.code}: ${lastLines(r.stderr || r.stdout, 2)}).`
  }
  const c = await cancelManagedJobById(sky, jobId)
  const job = c.ended[0] ?? c.left[0]
  if (!job || job.status === 'UNKNOWN') return `Whether it ended could not be read from the jobs queue${c.unknown ? ` (${c.unknown})` : ''}: check it with sky jobs queue -a.`
  if (job.status === 'NOT_FOUND') return `sky jobs queue -a no longer lists job ${jobId}.`
  return `The jobs queue shows it ${job.status}${c.left.length > 0 ? ` after sky jobs cancel: cancel it with sky jobs cancel -y ${jobId}` : ''}.`
}

/**
 * The job ran past its cap: it is cancelled (or was, while its log streamed), its cluster torn down
 * now when this step owns it (`down`), and the step fails TIMED_OUT with what SkyPilot answered to each.
 */
async function endPastCap(
  sky: Sky,
  inputs: Inputs,
  ctx: RunnerContext,
  o: { jobId: string; cluster?: string; what: string; recorded: RecordedCap; reached: NonNullable<ReturnType<typeof earliestDeadline>>; started: number; reader: ReturnType<StepOutputs['reader']>; install: { version: string }; server?: { url: string }; cancelled?: Promise<string> }
): Promise<void> {
  const { jobId, cluster, what, recorded, reached } = o
  const whence = recorded.from === 'record' ? 'recorded with the job' : "this step's input"
  const said: string[] = [
    reached.which === 'max-duration'
      ? `${what} is past its max-duration cap of ${reached.limit} (${whence}), counted from its submission: ${formatSpan(recorded.maxDurationS! * 1000 + Date.now() - reached.at)} ago.`
      : `${what} is past its max-cost-usd cap of ${reached.limit} (${whence}), as SkyPilot prices its cluster.`
  ]
  said.push(await (o.cancelled ?? cancelPastCap(sky, jobId, cluster)))
  if (cluster) {
    if (inputs.down) {
      const t = await tearDown(sky, [cluster])
      const problem = teardownProblem(t)
      said.push(problem ?? teardownLines(t).join(' ').replace(/`/g, ''))
      // Not verified gone: the post step tries again.
      if (problem) saveRuns([{ task: what, kind: 'cluster', cluster, phase: 'ended' }])
    } else said.push(`Cluster ${cluster} is left running (down is false): remove it with sky down -y ${cluster}.`)
  }
  const message = said.join(' ')
  o.reader?.end()
  const result: TaskResult = { name: what, cluster, jobId, status: 'TIMED_OUT', exitCode: null, attempts: 1, durationMs: Date.now() - o.started, message, ...(o.reader ? { outputs: o.reader.outputs } : {}) }
  const step = stepResults({ results: [result], fanout: false, declared: inputs.jobOutputs })
  setOutputs({ 'cluster-name': cluster, 'job-id': jobId, status: 'TIMED_OUT', 'skypilot-version': o.install.version, 'job-outputs': step.jobOutputs }, step.jobOutputs)
  await publish(renderSummary({ title: 'SkyPilot collect: TIMED_OUT', task: what, results: [result], version: o.install.version, serverUrl: o.server?.url, runUrl: runUrl(ctx), notes: [step.markdown] }), inputs, ctx)
  core.setFailed(message)
}

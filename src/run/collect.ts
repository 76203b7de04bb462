import * as core from '../gh/core.js'
import { runUrl, type RunnerContext } from '../context.js'
import { errorMessage } from '../errors.js'
import type { Inputs } from '../inputs.js'
import * as args from '../sky/args.js'
import { Sky } from '../sky/client.js'
import { describeOutcome, outcomeOf } from '../sky/exit-codes.js'
import { exitCodeForStatus, FINAL_STATUSES } from '../sky/parse.js'
import { saveJson, State } from '../state.js'
import { renderCommand } from '../plan.js'
import { renderSummary, writeSummary, type TaskResult } from '../summary.js'
import type { Cancellation } from './cancel.js'
import { connect } from './connect.js'
import { dashboardUrl, setOutputs } from './outputs.js'

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

  let exitCode: number | null
  let timedOut = false
  if (inputs.waitMinutes === 0) {
    exitCode = cluster ? (await sky.run(args.logsStatusArgs(cluster, jobId))).code : await managedExitCode(sky, jobId)
  } else {
    core.info(`Following ${what} for at most ${inputs.waitMinutes} minutes.`)
    core.startGroup(`sky ${cluster ? `logs ${cluster} ${jobId}` : `jobs logs ${jobId}`}`)
    const stream = sky.stream(cluster ? args.logsArgs(cluster, jobId) : args.jobsLogsArgs(jobId))
    const tracked = cancellation.track(stream)
    const timer = setTimeout(() => {
      timedOut = true
      stream.interrupt('SIGINT')
    }, inputs.waitMinutes * 60_000)
    const done = await stream.done
    clearTimeout(timer)
    tracked.done()
    core.endGroup()
    exitCode = done.code
    // Following logs can end without a final status (a dropped connection): ask for it.
    if (!timedOut && !cancellation.cancelled && (exitCode === null || exitCode === 1)) {
      exitCode = cluster ? (await sky.run(args.logsStatusArgs(cluster, jobId))).code : await managedExitCode(sky, jobId)
    }
  }

  let recoveryCount: number | undefined
  let status: string
  if (cancellation.cancelled) status = 'RUNNING'
  else if (timedOut) status = 'RUNNING'
  else status = outcomeOf(exitCode).status
  if (!cluster && !timedOut && !cancellation.cancelled) {
    try {
      const record = await sky.managedJob(jobId)
      recoveryCount = record?.recovery_count
      if (record && FINAL_STATUSES.has(record.status)) status = record.status
    } catch (error) {
      core.warning(`Could not read the managed job's record: ${errorMessage(error)}`)
    }
  }
  // A detached launch's cluster tears itself down idle minutes after its job ends (--down -i N);
  // sky then exits 1 as it does for a capacity error. Say what really happened.
  let gone = false
  if (cluster && !timedOut && !cancellation.cancelled && outcomeOf(exitCode).kind === 'launch-failed') {
    try {
      gone = !(await sky.status([cluster])).some((r) => r.name === cluster)
    } catch (error) {
      core.warning(`Could not check whether cluster ${cluster} still exists: ${errorMessage(error)}`)
    }
    if (gone) status = 'NOT_FOUND'
  }
  const final = status !== 'RUNNING'
  // Once final, the cluster has done its work: the post step tears it down (verified).
  if (cluster && final && inputs.down && !gone) saveJson(State.clusters, [cluster])
  core.saveState(State.finished, 'true')

  const outcome = outcomeOf(exitCode)
  const message = status === 'RUNNING'
    ? `${what} is still running${timedOut ? ` after ${inputs.waitMinutes} minutes` : ''}; collect it again later.`
    : gone
      ? `Cluster ${cluster} no longer exists, and the final status of job ${jobId} went with it: a detached launch's cluster tears itself down 'idle-minutes-to-autostop' minutes after its job ends, or someone removed it. Collect sooner, or launch with a larger 'idle-minutes-to-autostop'.`
      : describeOutcome(outcome, exitCode, what)
  const result: TaskResult = { name: what, cluster, jobId, status, exitCode, attempts: 1, durationMs: Date.now() - started, recoveryCount, message }
  const dashboard = server ? dashboardUrl(server.url, cluster ? 'cluster' : 'managed', result) : undefined
  setOutputs({ 'cluster-name': cluster, 'job-id': jobId, status, 'exit-code': exitCode, 'skypilot-version': install.version, 'dashboard-url': dashboard, 'recovery-count': recoveryCount })
  await writeSummary(renderSummary({ title: `SkyPilot collect: ${status}`, task: what, results: [result], version: install.version, serverUrl: server?.url, dashboardUrl: dashboard, runUrl: runUrl(ctx) }))
  core.info(message)
  if (status === 'RUNNING') return
  if (status !== 'SUCCEEDED') core.setFailed(message)
}

async function managedExitCode(sky: Sky, jobId: string): Promise<number> {
  const record = await sky.managedJob(jobId)
  if (!record) return 102
  return exitCodeForStatus(record.status)
}


import os from 'node:os'
import * as core from '../gh/core.js'
import { runnerOsProblem } from '../runner-os.js'
import { cloudsFromEnv, minorDistance, prepareAccess, probeServer, safeEndpoint, type ServerInfo } from '../access.js'
import { readRunnerContext, runUrl, type RunnerContext } from '../context.js'
import { UserError, errorMessage } from '../errors.js'
import { loadInputs, type Inputs } from '../inputs.js'
import { ensureSky, which, type SkyInstall } from '../install/install.js'
import { buildPlan, describePlan, resolveExtras, resolveVersion, type Plan, type PlannedTask } from '../plan.js'
import { Sky } from '../sky/client.js'
import { saveJson, State } from '../state.js'
import { renderSummary, writeSummary, type TaskResult } from '../summary.js'
import { Cancellation } from './cancel.js'
import { collect } from './collect.js'
import { runDown } from './down.js'
import { launchWithRetries, type LaunchResult } from './launch.js'
import type { LaunchFailure } from '../sky/exit-codes.js'
import { FINAL_STATUSES } from '../sky/parse.js'
import { dashboardUrl, setOutputs } from './outputs.js'
import { prepareTasks } from './prepare.js'

/** The main step: validate, plan, (install, configure access, launch, follow), report. */
export async function runMain(): Promise<void> {
  // Before anything else: on Windows, nothing here can work, and nothing should be half-done.
  const osProblem = runnerOsProblem(process.env.RUNNER_OS || os.platform())
  if (osProblem) {
    core.setOutput('status', 'INVALID')
    core.setFailed(osProblem)
    return
  }
  const ctx = readRunnerContext()
  const cancellation = new Cancellation()
  let sky: Sky | undefined
  const uninstall = cancellation.install(() => sky)
  try {
    const inputs = loadInputs()
    if (inputs.mode === 'down') {
      await runDown(inputs, ctx, (s) => (sky = s))
      return
    }
    if (inputs.mode === 'collect') {
      await collect(inputs, ctx, cancellation, (s) => (sky = s))
      return
    }
    const prepared = await prepareTasks(inputs, ctx)
    saveJson(State.tempDirs, prepared.tempDirs)
    const clouds = prepared.tasks.flatMap((t) => t.clouds)
    const credentialClouds = cloudsFromEnv(process.env, Boolean(inputs.kubeconfig))

    if (inputs.dryRun) {
      const version = resolveVersion(inputs, undefined)
      const extras = resolveExtras(inputs, clouds, credentialClouds)
      const plan = buildPlan(inputs, prepared.tasks, { version: version.version, versionFrom: version.from, extras: extras.extras, extrasFrom: extras.from })
      await dryRun(inputs, plan, ctx)
      return
    }

    const access = prepareAccess(inputs, ctx.temp)
    saveJson(State.credentialFiles, access.files)
    let server: ServerInfo | undefined
    if (inputs.apiServer) {
      server = await probeServer(inputs.apiServer)
      core.info(`SkyPilot API server ${server.url}: version ${server.version ?? 'unknown'}${server.user ? `, signed in as ${server.user}` : ''}.`)
    }
    const version = resolveVersion(inputs, server?.version)
    if (server?.version && version.from === 'input' && (minorDistance(version.version, server.version) ?? 0) > 1) {
      throw new UserError(
        `skypilot-version ${version.version} is too far from the API server's version ${server.version}: SkyPilot guarantees compatibility across adjacent minor versions only. Leave 'skypilot-version' empty to match the server.`
      )
    }
    const extras = resolveExtras(inputs, clouds, access.cloudsFromCredentials)
    const plan = buildPlan(inputs, prepared.tasks, { version: version.version, versionFrom: version.from, extras: extras.extras, extrasFrom: extras.from })

    const env = { ...process.env, ...access.env }
    const install = await ensureSky({ version: plan.version, from: plan.versionFrom, extras: plan.extras, toolCache: ctx.toolCache, os: ctx.os, arch: ctx.arch }, env)
    core.saveState(State.skyPath, install.sky)
    if (install.cacheToSave) saveJson(State.cacheSave, install.cacheToSave)
    if (install.source !== 'path' && !inputs.apiServer && plan.extras.length === 0) {
      // A client with no cloud extras and no server can launch nothing; say so before it fails.
      core.warning(
        "SkyPilot was installed without any cloud extras: neither the task, 'infra', nor credentials on the runner name a cloud. If the launch finds no enabled cloud, set 'infra' or 'skypilot-extras', add your cloud's auth action before this step, or use an API server."
      )
    }
    sky = new Sky(install.sky, env)

    // Saved before the launch: a post step after a kill at any later point still tears down. A
    // detached cluster removes itself once its job ends, but only after a submission that worked:
    // until then the post step owns it.
    const untilSubmitted = plan.detach && plan.down ? plan.keep.map((k) => k.cluster) : []
    saveJson(State.clusters, [...plan.teardown, ...untilSubmitted])
    saveJson(State.keep, untilSubmitted.length > 0 ? [] : plan.keep.map((k) => k.cluster))

    const results = inputs.tasks ? await runFanout(sky, plan, inputs, cancellation) : [await runOne(sky, plan, inputs, cancellation)]
    // A server that turned the launch away created nothing: no teardown to run, and to fail.
    const refused = new Set(results.filter((r) => r.refused).map((r) => r.cluster))
    if (plan.detach && results.every((r) => r.status === 'SUBMITTED')) saveJson(State.clusters, plan.teardown)
    else if (refused.size > 0) saveJson(State.clusters, [...plan.teardown, ...(plan.detach && plan.down ? plan.keep.map((k) => k.cluster) : [])].filter((c) => !refused.has(c)))
    // A cancelled run, or one that lost track of its managed job, did not see the job end: the post
    // step cancels it by name and verifies.
    const managedOpen = plan.mode === 'managed' && !plan.detach && results.some((r) => !FINAL_STATUSES.has(r.status))
    if (!cancellation.cancelled && !managedOpen) core.saveState(State.finished, 'true')
    await cancellation.settled()
    await report(inputs, plan, ctx, results, install, server, cancellation)
  } catch (error) {
    await cancellation.settled()
    fail(error)
  } finally {
    uninstall()
  }
}

/**
 * `sky exec` on a missing or stopped cluster fails before any job, as a capacity error would. Say
 * what is wrong in the action's terms: from SkyPilot's own error when it named one, else (only
 * then: each sky call costs seconds) from one `sky status`.
 */
async function whyExecFailed(sky: Sky, cluster: string, viaServer: boolean, failure: LaunchFailure): Promise<string | undefined> {
  const missing = `Cluster '${cluster}' does not exist, so 'mode: exec' has nothing to run on. Launch it first in a step with 'mode: launch' and 'down: false', and pass its 'cluster-name' output here${viaServer ? '' : "; without a remote API server, only clusters launched earlier in this same job are visible"}.`
  const notUp = (status: string): string => `Cluster '${cluster}' is ${status}, not UP: 'mode: exec' needs a running cluster. Start it (sky start ${cluster}) or launch it again with 'mode: launch'.`
  if (failure.said?.startsWith('ClusterDoesNotExist')) return missing
  if (failure.said?.startsWith('ClusterNotUpError')) return `${notUp(/status: ([A-Z]+)/.exec(failure.said)?.[1] ?? 'not up')} SkyPilot said: ${failure.said}`
  if (failure.said) return undefined
  let record
  try {
    record = (await sky.status([cluster])).find((r) => r.name === cluster)
  } catch (error) {
    core.warning(`Could not check whether cluster ${cluster} is up: ${errorMessage(error)}`)
    return undefined
  }
  if (!record) return missing
  if (record.status !== 'UP') return notUp(record.status)
  return undefined
}

function secretEnv(inputs: Inputs): Record<string, string> {
  return { ...inputs.secrets }
}

async function runOne(sky: Sky, plan: Plan, inputs: Inputs, cancellation: Cancellation): Promise<TaskResult> {
  const task = plan.tasks[0]!
  if (cancellation.cancelled) return skipped(task, 'CANCELLED')
  const managedName = plan.mode === 'managed' ? task.argv[task.argv.indexOf('-n') + 1] : undefined
  if (managedName) {
    // Saved before the launch: a cancelled or killed run can only find its managed job by name.
    cancellation.trackManagedJob(managedName)
    saveJson(State.managedJobs, [{ name: managedName, since: Math.floor(Date.now() / 1000) - 300 }])
  }
  const kept = task.cluster !== undefined && plan.keep.some((k) => k.cluster === task.cluster) && !plan.detach
  const result = await launchWithRetries(sky, task, {
    retries: inputs.retries,
    retryDelaySeconds: inputs.retryDelaySeconds,
    retryOnJobFailure: inputs.retryOnJobFailure,
    secretEnv: secretEnv(inputs),
    cancellation,
    groupTitle: `sky ${task.argv.slice(0, plan.mode === 'managed' ? 2 : 1).join(' ')} ${task.cluster ?? ''}`.trim(),
    what: managedName ? `Managed job ${managedName}` : `Task on ${task.cluster}`,
    managedName,
    detached: plan.detach,
    explainFailure: plan.mode === 'exec' ? (failure) => whyExecFailed(sky, task.cluster!, Boolean(inputs.apiServer), failure) : undefined,
    onJobId: (id) => {
      core.info(`Job id ${id}.`)
      if (kept) cancellation.trackKeptJob(task.cluster!, id)
    },
    onRequestId: (id) => core.saveState(State.requestId, id)
  })
  const submitted = plan.detach && result.outcome.kind === 'succeeded'
  return {
    name: task.name,
    cluster: task.cluster,
    jobId: result.jobId,
    status: submitted ? 'SUBMITTED' : result.status,
    exitCode: result.exitCode,
    attempts: result.attempts,
    durationMs: result.durationMs,
    recoveryCount: result.recoveryCount,
    refused: result.refused,
    message: submitted ? `Submitted; collect it with mode: collect, job-id: ${result.jobId ?? '?'}${task.cluster ? `, cluster-name: ${task.cluster}` : ''}.` : result.message
  }
}

function skipped(task: PlannedTask, status: string): TaskResult {
  return { name: task.name, cluster: task.cluster, status, exitCode: null, attempts: 0, durationMs: 0, message: 'not started' }
}

/**
 * Fan-out: every task runs its own launch, at most `max-parallel` at once. With fail-fast, the first
 * failure interrupts the others and starts no more; every cluster is torn down by the post step.
 */
async function runFanout(sky: Sky, plan: Plan, inputs: Inputs, cancellation: Cancellation): Promise<TaskResult[]> {
  const stop = new AbortController()
  const results: TaskResult[] = plan.tasks.map((t) => skipped(t, 'SKIPPED'))
  const aborted: LaunchResult[] = []
  let next = 0
  const width = Math.max(...plan.tasks.map((t) => t.name.length))
  core.info(`Running ${plan.tasks.length} tasks, at most ${inputs.maxParallel} at once${inputs.failFast ? ', stopping all on the first failure' : ''}.`)
  const worker = async (): Promise<void> => {
    for (;;) {
      if (cancellation.cancelled || stop.signal.aborted) return
      const i = next++
      if (i >= plan.tasks.length) return
      const task = plan.tasks[i]!
      core.info(`[${task.name}] starting on ${task.cluster}`)
      const r = await launchWithRetries(sky, task, {
        retries: inputs.retries,
        retryDelaySeconds: inputs.retryDelaySeconds,
        retryOnJobFailure: inputs.retryOnJobFailure,
        secretEnv: secretEnv(inputs),
        cancellation,
        linePrefix: `[${task.name.padEnd(width)}] `,
        stopSignal: stop.signal,
        what: `Task ${task.name}`
      })
      results[i] = { name: task.name, cluster: task.cluster, jobId: r.jobId, status: r.status, exitCode: r.exitCode, attempts: r.attempts, durationMs: r.durationMs, refused: r.refused, message: r.message }
      core.info(`[${task.name}] ${r.message}`)
      if (r.outcome.kind === 'cancelled' && stop.signal.aborted) aborted.push(r)
      if (r.outcome.kind !== 'succeeded' && inputs.failFast && !stop.signal.aborted) {
        core.info(`[${task.name}] failed: fail-fast stops the other tasks.`)
        stop.abort()
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(inputs.maxParallel, plan.tasks.length) }, worker))
  // Interrupted siblings leave their server-side requests running: cancel them (teardown follows in post).
  await Promise.all(aborted.filter((r) => r.requestId).map((r) => sky.apiCancel(r.requestId!, 30_000)))
  return results
}

async function report(inputs: Inputs, plan: Plan, ctx: RunnerContext, results: TaskResult[], install: SkyInstall, server: ServerInfo | undefined, cancellation: Cancellation): Promise<void> {
  const first = results[0]
  const dashboard = server && first ? dashboardUrl(server.url, plan.mode === 'managed' ? 'managed' : 'cluster', first) : undefined
  const failed = results.filter((r) => !['SUCCEEDED', 'SUBMITTED'].includes(r.status))
  const overall = inputs.tasks ? (cancellation.cancelled ? 'CANCELLED' : failed.length === 0 ? 'SUCCEEDED' : 'FAILED') : (first?.status ?? 'UNKNOWN')
  setOutputs({
    'cluster-name': inputs.tasks ? undefined : first?.cluster,
    'job-id': inputs.tasks ? undefined : first?.jobId,
    status: cancellation.cancelled ? 'CANCELLED' : overall,
    'exit-code': inputs.tasks ? (failed.length === 0 ? 0 : 1) : first?.exitCode,
    'skypilot-version': install.version,
    'dashboard-url': dashboard,
    'recovery-count': first?.recoveryCount,
    results: inputs.tasks ? results.map((r) => ({ name: r.name, 'cluster-name': r.cluster, 'job-id': r.jobId, status: r.status, 'exit-code': r.exitCode })) : undefined
  })
  await writeSummary(
    renderSummary({
      title: inputs.tasks ? `SkyPilot fan-out: ${results.length - failed.length} of ${results.length} succeeded` : `SkyPilot ${plan.mode}: ${cancellation.cancelled ? 'CANCELLED' : overall}`,
      plan,
      task: inputs.tasks ? `${results.length} tasks, max-parallel ${inputs.maxParallel}${inputs.failFast ? ', fail-fast' : ''}` : plan.tasks[0]?.label,
      results,
      version: install.version,
      installSource: { path: 'found on PATH', 'tool-cache': 'tool cache', cache: 'restored from cache', installed: 'installed' }[install.source],
      serverUrl: server?.url,
      dashboardUrl: dashboard,
      runUrl: runUrl(ctx)
    })
  )
  if (cancellation.cancelled) core.setFailed(`The run was cancelled: sky was interrupted${plan.teardown.length > 0 ? '; the post step tears the cluster down and verifies it' : ''}${plan.mode === 'managed' ? '; the post step verifies that the managed job ended' : ''}. What SkyPilot answered to each cancellation is in the log above.`)
  else if (inputs.tasks && failed.length > 0) core.setFailed(`${failed.length} of ${results.length} tasks did not succeed: ${failed.map((r) => `${r.name} (${r.status})`).join(', ')}. See the summary.`)
  else if (!inputs.tasks && failed.length > 0 && first) core.setFailed(first.message ?? first.status)
}

async function dryRun(inputs: Inputs, plan: Plan, ctx: RunnerContext): Promise<void> {
  const commands = describePlan(plan, ctx, { uv: which('uv'), python: which('python3') }, inputs.apiServer ? safeEndpoint(inputs.apiServer.endpoint) : undefined)
  core.info('Dry run: the task is valid. Nothing is installed or launched. The plan:')
  for (const line of commands) core.info(`  ${line}`)
  setOutputs({ 'cluster-name': plan.tasks.length === 1 ? plan.tasks[0]?.cluster : undefined, status: 'DRY_RUN', 'skypilot-version': plan.version })
  await writeSummary(
    renderSummary({
      title: 'SkyPilot dry run: valid',
      plan,
      task: inputs.tasks ? `${plan.tasks.length} tasks` : plan.tasks[0]?.label,
      results: [],
      version: plan.version,
      runUrl: runUrl(ctx),
      dryRunCommands: commands
    })
  )
}

export function fail(error: unknown): void {
  if (error instanceof UserError) {
    core.setOutput('status', 'INVALID')
    core.setFailed(error.message)
    return
  }
  core.setOutput('status', 'ERROR')
  core.setFailed(`Unexpected error: ${errorMessage(error)}`)
  if (error instanceof Error && error.stack) core.debug(error.stack)
}

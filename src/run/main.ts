import os from 'node:os'
import * as core from '@actions/core'
import { runnerOsProblem } from '../runner-os.js'
import { cloudsFromEnv, minorDistance, prepareAccess, probeServer, safeEndpoint, type ServerInfo } from '../access.js'
import { readRunnerContext, runUrl, type RunnerContext } from '../context.js'
import { UserError, errorMessage } from '../errors.js'
import { loadInputs, type Inputs } from '../inputs.js'
import { ensureSky, which, type SkyInstall } from '../install/install.js'
import { buildPlan, describePlan, resolveExtras, resolveVersion, type Plan } from '../plan.js'
import { Sky } from '../sky/client.js'
import { saveJson, State } from '../state.js'
import { checkTokenExpiry } from '../token.js'
import { renderSummary, writeSummary, type TaskResult } from '../summary.js'
import { Cancellation } from './cancel.js'
import { collect } from './collect.js'
import { runDown } from './down.js'
import { fetchClusterCosts, fetchHourlyPrices, recordCost } from '../results/cost.js'
import { stepResults } from '../results/step-results.js'
import { secretValues, StepOutputs } from './job-outputs.js'
import { publish } from './publish.js'
import { runReport } from './report.js'
import { runFanout, runOne } from './tasks.js'
import { dashboardUrl, setOutputs } from './outputs.js'
import { prepareTasks } from './prepare.js'
import { Runs } from './runs.js'

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
    if (inputs.mode === 'report') {
      await runReport(inputs, ctx)
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

    // An expired token fails here, before anything is written, installed or asked of the server;
    // one that expires before max-duration could end is warned about.
    checkTokenExpiry(inputs.apiServer, Date.now, inputs.caps.maxDurationMs)
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

    // Saved before any launch: a post step after a kill at any later point knows what each task left.
    const runs = new Runs(plan)

    const started = Date.now()
    const outputs = new StepOutputs(inputs.jobOutputs, secretValues(inputs))
    const results = inputs.tasks ? await runFanout(sky, plan, inputs, cancellation, outputs, runs) : [await runOne(sky, plan, inputs, cancellation, outputs, runs)]
    await cancellation.settled()
    if (!plan.detach && !cancellation.cancelled) await addCosts(sky, plan, results, started)
    await report(inputs, plan, ctx, results, install, server, cancellation)
  } catch (error) {
    await cancellation.settled()
    fail(error)
  } finally {
    uninstall()
  }
}

/**
 * What the run cost, as SkyPilot estimates it: one `sky cost-report` for all its clusters, asked
 * before the post step tears them down, only for clusters this step ran a job on. A launch costs
 * its cluster's whole use since the launch; an exec, the cluster's price for the time of its job
 * (the cluster was up before, and stays). A managed job's clusters are its controller's: SkyPilot
 * reports no cost for them that the action can read.
 */
async function addCosts(sky: Sky, plan: Plan, results: TaskResult[], since: number): Promise<void> {
  const unpriced = plan.mode === 'managed' ? 'managed jobs' : plan.unpriced
  const ran = results.filter((r) => r.jobId && (r.cluster || plan.mode === 'managed'))
  if (ran.length === 0) return
  // SkyPilot has no price there: its report would say 0 (a sky call whose answer is known).
  if (unpriced) {
    for (const r of ran) Object.assign(r, { costNote: `not reported by SkyPilot for ${unpriced}`, ...(plan.unpriced ? { infra: plan.unpriced } : {}) })
    return
  }
  if (plan.mode === 'exec') {
    const prices = await fetchHourlyPrices(sky, ran.map((x) => x.cluster!))
    for (const r of ran) {
      const price = prices.get(r.cluster!)!
      recordCost(r, 'usdPerHour' in price ? { usd: (price.usdPerHour * r.durationMs) / 3_600_000 } : price, core.info)
    }
    return
  }
  const costs = await fetchClusterCosts(sky, ran.map((r) => r.cluster!), since)
  for (const r of ran) {
    const lookup = costs.get(r.cluster!)
    if (lookup) recordCost(r, lookup.cost ?? { reason: lookup.reason, unpriced: lookup.unpriced?.infra }, core.info)
  }
}

async function report(inputs: Inputs, plan: Plan, ctx: RunnerContext, results: TaskResult[], install: SkyInstall, server: ServerInfo | undefined, cancellation: Cancellation): Promise<void> {
  const first = results[0]
  const step = stepResults({ results, fanout: Boolean(inputs.tasks), declared: inputs.jobOutputs, rankBy: inputs.rankBy })
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
    results: step.entries,
    'job-outputs': step.jobOutputs,
    best: step.best,
    'cost-usd': step.costUsd
  }, step.jobOutputs)
  const markdown = renderSummary({
    title: inputs.tasks ? `SkyPilot fan-out: ${results.length - failed.length} of ${results.length} succeeded` : `SkyPilot ${plan.mode}: ${cancellation.cancelled ? 'CANCELLED' : overall}`,
    plan,
    task: inputs.tasks ? `${results.length} tasks, max-parallel ${inputs.maxParallel}${inputs.failFast ? ', fail-fast' : ''}` : plan.tasks[0]?.label,
    results,
    version: install.version,
    installSource: { path: 'found on PATH', 'tool-cache': 'tool cache', cache: 'restored from cache', installed: 'installed' }[install.source],
    serverUrl: server?.url,
    dashboardUrl: dashboard,
    runUrl: runUrl(ctx),
    notes: [step.markdown]
  })
  await publish(markdown, inputs, ctx)
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

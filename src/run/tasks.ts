import * as core from '@actions/core'
import { errorMessage } from '../errors.js'
import type { Inputs } from '../inputs.js'
import type { Plan, PlannedTask } from '../plan.js'
import type { Sky } from '../sky/client.js'
import { State } from '../state.js'
import type { LaunchFailure } from '../sky/exit-codes.js'
import type { TaskResult } from '../summary.js'
import type { Cancellation } from './cancel.js'
import { secretValues, type StepOutputs } from './job-outputs.js'
import { launchWithRetries, type LaunchOptions, type LaunchResult } from './launch.js'
import type { RunLifecycle } from '../lifecycle.js'
import { fetchHourlyPrices } from '../results/cost.js'
import { CapGuard } from './cap-guard.js'
import type { Runs } from './runs.js'
import { tearDown, teardownLines, teardownProblem } from './teardown.js'

/**
 * Running the plan's tasks: one (launch, exec, managed) or a fan-out of many. Each task's log is
 * relayed, its job outputs read, its fate asked of SkyPilot; each ends as a TaskResult.
 */

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

/** What every task's launch shares: retries, secrets through sky's env, the cancellation. */
function common(inputs: Inputs, cancellation: Cancellation): Pick<LaunchOptions, 'retries' | 'retryDelaySeconds' | 'retryOnJobFailure' | 'secretEnv' | 'cancellation' | 'secrets'> {
  return { retries: inputs.retries, retryDelaySeconds: inputs.retryDelaySeconds, retryOnJobFailure: inputs.retryOnJobFailure, secretEnv: { ...inputs.secrets }, cancellation, secrets: secretValues(inputs) }
}

/** A task's result from its launch, with the job outputs its log set. */
function resultOf(task: PlannedTask, r: LaunchResult, outputs: Record<string, string> | undefined, extra: Partial<TaskResult> = {}): TaskResult {
  return { name: task.name, cluster: task.cluster, jobId: r.jobId, status: r.status, exitCode: r.exitCode, attempts: r.attempts, durationMs: r.durationMs, recoveryCount: r.recoveryCount, refused: r.refused, message: r.message, ...(outputs ? { outputs } : {}), ...extra }
}

export async function runOne(sky: Sky, plan: Plan, inputs: Inputs, cancellation: Cancellation, outputs: StepOutputs, runs: Runs): Promise<TaskResult> {
  const task = plan.tasks[0]!
  if (cancellation.cancelled) return skipped(task, 'CANCELLED')
  // The run record (saved before the launch) names it: a cancelled or killed run finds it by name.
  const managedName = runs.records[0]!.managed?.name
  if (managedName) cancellation.trackManagedJob(managedName)
  const kept = task.cluster !== undefined && plan.keep.some((k) => k.cluster === task.cluster) && !plan.detach
  const reader = outputs.reader(task.name)
  const caps = capGuard(sky, plan, inputs, task)
  const result = await launchWithRetries(sky, task, {
    ...common(inputs, cancellation),
    onChunk: reader && ((chunk) => reader.push(chunk)),
    onRelaunch: reader && (() => reader.reset()),
    groupTitle: `sky ${task.argv.slice(0, plan.mode === 'managed' ? 2 : 1).join(' ')} ${task.cluster ?? ''}`.trim(),
    what: managedName ? `Managed job ${managedName}` : `Task on ${task.cluster}`,
    managedName,
    detached: plan.detach,
    explainFailure: plan.mode === 'exec' ? (failure) => whyExecFailed(sky, task.cluster!, Boolean(inputs.apiServer), failure) : undefined,
    onJobId: (id) => {
      core.info(`Job id ${id}.`)
      if (kept) cancellation.trackKeptJob(task.cluster!, id)
    },
    onRequestId: (id) => core.saveState(State.requestId, id),
    lifecycle: runs.lifecycle(0),
    caps
  })
  reader?.end()
  if (result.refused) runs.refused(0)
  if (result.status === 'TIMED_OUT') await endClusterAtCap(sky, plan, task, result, runs.lifecycle(0))
  return resultOf(task, result, reader?.outputs)
}

function skipped(task: PlannedTask, status: string): TaskResult {
  return { name: task.name, cluster: task.cluster, status, exitCode: null, attempts: 0, durationMs: 0, message: 'not started' }
}

/**
 * Fan-out: every task runs its own launch, at most `max-parallel` at once. With fail-fast, the first
 * failure interrupts the others and starts no more; every cluster is torn down by the post step.
 */
export async function runFanout(sky: Sky, plan: Plan, inputs: Inputs, cancellation: Cancellation, outputs: StepOutputs, runs: Runs): Promise<TaskResult[]> {
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
      const reader = outputs.reader(`[${task.name}]`)
      const caps = capGuard(sky, plan, inputs, task)
      const r = await launchWithRetries(sky, task, {
        ...common(inputs, cancellation),
        onChunk: reader && ((chunk) => reader.push(chunk)),
        onRelaunch: reader && (() => reader.reset()),
        linePrefix: `[${task.name.padEnd(width)}] `,
        stopSignal: stop.signal,
        what: `Task ${task.name}`,
        lifecycle: runs.lifecycle(i),
        caps
      })
      reader?.end()
      if (r.refused) runs.refused(i)
      if (r.status === 'TIMED_OUT') await endClusterAtCap(sky, plan, task, r, runs.lifecycle(i))
      results[i] = resultOf(task, r, reader?.outputs)
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


/**
 * The task's caps, watched while the runner runs (none without `max-duration` / `max-cost-usd`). A
 * cost cap needs the hourly price: asked once, of `sky cost-report`, when the job is submitted;
 * where SkyPilot has no price (Slurm, Kubernetes) or for a managed job (whose clusters its controller
 * launches), a warning says it cannot be held, and no call is made.
 */
function capGuard(sky: Sky, plan: Plan, inputs: Inputs, task: PlannedTask): CapGuard | undefined {
  const guard = new CapGuard(inputs.caps)
  // Detached, the runner does not watch: the cap goes with the job (task/stamp.ts).
  if (!guard.any || plan.detach) return undefined
  const cost = inputs.caps.maxCostUsd
  if (cost === undefined) return guard
  const cannot = (why: string): void => core.warning(`max-cost-usd ($${cost.toFixed(2)}) cannot be enforced for ${task.name}: ${why}. ${inputs.caps.maxDurationMs ? 'max-duration still holds.' : 'Set max-duration to cap this run.'}`)
  if (plan.mode === 'managed') cannot('SkyPilot reports no price for the clusters a managed job\'s controller launches')
  else if (plan.unpriced) cannot(`SkyPilot reports no price for ${plan.unpriced}`)
  else if (task.cluster) {
    const cluster = task.cluster
    let asked = false
    guard.onSubmitted(() => {
      if (asked) return
      asked = true
      void priceCap(sky, plan, cluster, guard).then((why) => why && cannot(why))
    })
  }
  return guard
}

/** One cost report: the cluster's hourly price arms the cost cap. Returns why not, when it cannot. */
async function priceCap(sky: Sky, plan: Plan, cluster: string, guard: CapGuard): Promise<string | undefined> {
  const price = (await fetchHourlyPrices(sky, [cluster])).get(cluster)!
  if ('reason' in price) return price.reason
  const at = Date.now()
  // A launched cluster's cost counts from its launch (the cost-usd figure); an exec's from its job.
  guard.priced(plan.mode === 'exec' ? { usdPerHour: price.usdPerHour, usdAt: 0, at: guard.submittedAt ?? at } : { usdPerHour: price.usdPerHour, usdAt: price.usd, at })
  core.info(`max-cost-usd: ${cluster} costs $${price.usdPerHour.toFixed(2)}/h as SkyPilot prices it; the cap is watched from that price.`)
  return undefined
}

/**
 * A cap stopped the job: its cluster goes as on any other end, at once rather than in the post step
 * (the step's error then says what SkyPilot answered). A kept cluster stays, as the user asked.
 */
async function endClusterAtCap(sky: Sky, plan: Plan, task: PlannedTask, result: LaunchResult, lifecycle: RunLifecycle): Promise<void> {
  if (!task.cluster) return
  if (!plan.teardown.includes(task.cluster)) {
    const why = plan.keep.find((k) => k.cluster === task.cluster)?.why
    result.message += ` Cluster ${task.cluster} is left running${why ? ` (${why})` : ''}: remove it with sky down -y ${task.cluster}.`
    return
  }
  const r = await tearDown(sky, [task.cluster])
  const problem = teardownProblem(r)
  if (!problem) lifecycle.to('torn-down')
  result.message += ` ${problem ?? teardownLines(r).join(' ').replace(/`/g, '')}${problem ? ' The post step tries again.' : ''}`
}

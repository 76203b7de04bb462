import * as core from '@actions/core'
import { runUrl, type RunnerContext } from '../context.js'
import type { Inputs } from '../inputs.js'
import { renderCommand } from '../plan.js'
import * as args from '../sky/args.js'
import type { Sky } from '../sky/client.js'
import type { ClusterRecord } from '../sky/parse.js'
import { cell, renderSummary, writeSummary } from '../summary.js'
import { connect } from './connect.js'
import { setOutputs } from './outputs.js'
import { recordedCap } from './recorded-cap.js'
import { costReportArgs, hourlyPrice, parseCostReport, type CostRecord } from '../results/cost.js'
import { cancelManagedJobs, tearDown, teardownProblem, type TeardownResult } from './teardown.js'
import { FINAL_STATUSES, managedJobOf, type ManagedJobRecord } from '../sky/parse.js'
import { errorMessage } from '../errors.js'

/**
 * `mode: down`: tears clusters down now, verified, as the post step would: `cluster-name` (the last
 * job of a pipeline that reused one cluster), or, with `max-age-hours`, every cluster named
 * `<cluster-prefix>-...` launched longer ago than that (the janitor for leaked clusters).
 */
export async function runDown(inputs: Inputs, ctx: RunnerContext, setSky: (sky: Sky) => void): Promise<void> {
  const sweep = inputs.clusterName === undefined
  const prefix = `${inputs.clusterPrefix}-`
  const what = sweep ? `clusters named ${prefix}* launched over ${inputs.maxAgeHours} h ago` : inputs.clusterName!
  if (inputs.dryRun) {
    const commands = sweep
      ? [`${renderCommand(['sky', ...args.statusArgs([])])}   # pick ${what}`, `${renderCommand(['sky', ...args.downArgs(['<those clusters>'])])}`, `${renderCommand(['sky', ...args.statusArgs(['<those clusters>'])])}   # must be []`]
      : [renderCommand(['sky', ...args.downArgs([what])]), `${renderCommand(['sky', ...args.statusArgs([what])])}   # must be []`]
    core.info('Dry run: nothing is contacted. The plan:')
    for (const line of commands) core.info(`  ${line}`)
    setOutputs({ 'cluster-name': sweep ? undefined : what, status: 'DRY_RUN' })
    await writeSummary(renderSummary({ title: 'SkyPilot down: dry run', task: what, results: [], runUrl: runUrl(ctx), dryRunCommands: commands }))
    return
  }
  const { sky, install, server } = await connect(inputs, ctx)
  setSky(sky)

  const started = Date.now()
  let targets: ClusterRecord[]
  const why = new Map<string, string>()
  let cancelled: { name: string; id?: string; status: string; why: string }[] = []
  let jobsProblem: string | undefined
  if (sweep) {
    // Only this user's (or service account's) clusters: `sky status` without --all-users.
    const cutoff = Date.now() / 1000 - inputs.maxAgeHours! * 3600
    const ours = (await sky.status([])).filter((r) => r.name.startsWith(prefix))
    targets = ours.filter((r) => typeof r.launched_at === 'number' && r.launched_at < cutoff)
    for (const r of targets) why.set(r.name, `launched over ${inputs.maxAgeHours} h ago`)
    // Younger ones go too when a job on them is past the cap the action recorded with it. A cost
    // cap needs the clusters' prices: one cost report, asked once, only if some job has one.
    let report: Promise<CostRecord[] | undefined> | undefined
    const costs = () => (report ??= sky.run(costReportArgs(Date.now() - 30 * 86_400_000), 2 * 60_000).then((r) => (r.code === 0 ? parseCostReport(r.stdout) : undefined)).catch(() => undefined))
    for (const r of ours.filter((c) => !why.has(c.name))) {
      const past = await pastCapOnCluster(sky, r.name, costs)
      if (past) {
        targets.push(r)
        why.set(r.name, past)
      }
    }
    core.info(targets.length > 0 ? `Tearing down ${targets.length} cluster(s): ${targets.map((r) => `${r.name} (${why.get(r.name)})`).join(', ')}.` : `No ${what}, and none past its cap.`)
    // Managed jobs named <prefix>-... past their recorded cap: cancelled, and verified.
    try {
      const past = managedPastCap(await sky.jobsQueue(), prefix)
      if (past.length > 0) {
        core.info(`Cancelling ${past.length} managed job(s) past their cap: ${past.map((j) => `${j.name} (${j.id})`).join(', ')}.`)
        const r = await cancelManagedJobs(sky, [...new Set(past.map((j) => j.name))])
        cancelled = [...r.ended, ...r.left].map((j) => ({ ...j, why: past.find((p) => p.name === j.name)?.why ?? '' }))
        if (r.left.length > 0) jobsProblem = `Managed job ${r.left.map((j) => `'${j.name}' (${j.status})`).join(', ')} still runs after sky jobs cancel. Cancel it with: sky jobs cancel -y -n ${r.left[0]!.name}`
      }
    } catch (error) {
      jobsProblem = `Could not read the managed jobs queue to find jobs past their cap: ${errorMessage(error)}`
    }
  } else {
    targets = [{ name: inputs.clusterName!, status: '' }]
  }
  const names = targets.map((r) => r.name)
  const result: TeardownResult = names.length > 0 ? await tearDown(sky, names) : { removed: [], notFound: [], left: [], unverified: [] }

  // What SkyPilot answered, in order of what matters: still running, unknown, never there, gone.
  const problem = [teardownProblem(result), jobsProblem].filter(Boolean).join('\n') || undefined
  const missing = result.notFound.length > 0 && !sweep
  const status = result.left.length > 0 ? 'LEFT_RUNNING' : result.unverified.length > 0 || jobsProblem ? 'UNVERIFIED' : missing ? 'NOT_FOUND' : 'TORN_DOWN'
  const message =
    problem ??
    (missing
      ? `Cluster ${names[0]} does not exist (sky down found no such cluster).${inputs.missingOk ? '' : " If it is gone already, set 'missing-ok: true'; otherwise check 'cluster-name': a mistyped name leaves the real cluster running."}`
      : names.length === 0
        ? cancelled.length > 0 ? `No cluster to tear down; cancelled ${cancelled.map((j) => `managed job ${j.name} (${j.status})`).join(', ')}.` : 'Nothing to tear down.'
        : `Torn down: ${result.removed.join(', ')} (sky status no longer lists ${result.removed.length === 1 ? 'it' : 'them'}).${result.notFound.length ? ` Already gone: ${result.notFound.join(', ')}.` : ''}`)
  const ok = status === 'TORN_DOWN' || (status === 'NOT_FOUND' && inputs.missingOk)
  setOutputs({ 'cluster-name': sweep ? undefined : names[0], status, 'skypilot-version': install.version, results: sweep ? [...names, ...cancelled.map((j) => `managed:${j.name}`)] : undefined })
  const table = sweep && targets.length > 0
    ? [
        '| cluster | launched (UTC) | status | resources | why | result |',
        '|---|---|---|---|---|---|',
        ...targets.map((r) => `| \`${r.name}\` | ${new Date(r.launched_at! * 1000).toISOString().slice(0, 16).replace('T', ' ')} | ${cell(r.status)} | ${cell(r.resources_str)} | ${cell(why.get(r.name))} | ${sweepResult(result, r.name)} |`)
      ].join('\n')
    : ''
  const jobsTable = cancelled.length > 0
    ? ['| managed job | id | why | status now |', '|---|---|---|---|', ...cancelled.map((j) => `| \`${j.name}\` | ${cell(j.id)} | ${cell(j.why)} | ${cell(j.status)} |`)].join('\n')
    : ''
  await writeSummary(
    renderSummary({
      title: `SkyPilot down: ${status === 'TORN_DOWN' ? (names.length ? `${result.removed.length} torn down` : 'nothing to do') : status}`,
      task: what,
      results: sweep ? [] : [{ name: 'teardown', cluster: names[0], status, exitCode: ok ? 0 : 1, attempts: 1, durationMs: Date.now() - started, message }],
      version: install.version,
      serverUrl: server?.url,
      runUrl: runUrl(ctx),
      notes: [table, jobsTable, sweep ? message : ''].filter(Boolean)
    })
  )
  if (ok) core.info(message)
  else {
    core.error(message, { title: status === 'LEFT_RUNNING' ? 'SkyPilot cluster left running' : status === 'NOT_FOUND' ? 'SkyPilot cluster not found' : 'SkyPilot teardown not verified' })
    process.exitCode = 1
  }
}

function sweepResult(result: TeardownResult, name: string): string {
  if (result.left.includes(name)) return '❌ still running'
  if (result.unverified.includes(name)) return '❓ not verified'
  if (result.notFound.includes(name)) return '– already gone'
  return '✅ torn down'
}

/**
 * Why a cluster is past its cap, or undefined: a job on it carries a max-duration and the latest
 * such deadline passed, or a max-cost-usd that SkyPilot's cost of the cluster has reached.
 */
async function pastCapOnCluster(sky: Sky, cluster: string, costs: () => Promise<CostRecord[] | undefined>): Promise<string | undefined> {
  let jobs
  try {
    jobs = await sky.queue(cluster)
  } catch (error) {
    core.warning(`Could not read the jobs of ${cluster} to learn their caps: ${errorMessage(error)}`)
    return undefined
  }
  const caps = jobs.map((j) => recordedCap(j.metadata, j.submitted_at, {})).filter((c): c is NonNullable<typeof c> => c !== undefined)
  const timed = caps.filter((c) => c.deadline !== undefined)
  if (timed.length > 0) {
    const latest = timed.reduce((a, b) => (b.deadline! > a.deadline! ? b : a))
    if (latest.deadline! < Date.now()) return `past its max-duration cap of ${latest.limit}`
  }
  const costCap = Math.max(0, ...caps.map((c) => c.maxCostUsd ?? 0))
  if (costCap > 0) {
    const records = await costs()
    const price = records ? hourlyPrice(records, cluster) : undefined
    if (price && 'usd' in price && price.usd >= costCap) return `past its max-cost-usd cap of $${costCap.toFixed(2)} ($${price.usd.toFixed(2)} as SkyPilot prices it)`
  }
  return undefined
}

/** Managed jobs named <prefix>... still running past the cap recorded with them. */
function managedPastCap(rows: ManagedJobRecord[], prefix: string): { name: string; id: string; why: string }[] {
  const ids = [...new Set(rows.filter((r) => r.job_name?.startsWith(prefix)).map((r) => r.job_id))]
  const out: { name: string; id: string; why: string }[] = []
  for (const id of ids) {
    const job = managedJobOf(rows.filter((r) => r.job_id === id))
    if (!job || FINAL_STATUSES.has(job.status)) continue
    const cap = recordedCap(job.metadata, job.submittedAt, {})
    if (cap?.deadline !== undefined && cap.deadline < Date.now()) out.push({ name: job.name!, id: job.id, why: `past its max-duration cap of ${cap.limit}` })
  }
  return out
}

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
import { tearDown, teardownProblem, type TeardownResult } from './teardown.js'

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
  if (sweep) {
    // Only this user's (or service account's) clusters: `sky status` without --all-users.
    const cutoff = Date.now() / 1000 - inputs.maxAgeHours! * 3600
    targets = (await sky.status([])).filter((r) => r.name.startsWith(prefix) && typeof r.launched_at === 'number' && r.launched_at < cutoff)
    core.info(targets.length > 0 ? `Tearing down ${targets.length} ${what}: ${targets.map((r) => r.name).join(', ')}.` : `No ${what}.`)
  } else {
    targets = [{ name: inputs.clusterName!, status: '' }]
  }
  const names = targets.map((r) => r.name)
  const result: TeardownResult = names.length > 0 ? await tearDown(sky, names) : { removed: [], notFound: [], left: [], unverified: [] }

  // What SkyPilot answered, in order of what matters: still running, unknown, never there, gone.
  const problem = teardownProblem(result)
  const missing = result.notFound.length > 0 && !sweep
  const status = result.left.length > 0 ? 'LEFT_RUNNING' : result.unverified.length > 0 ? 'UNVERIFIED' : missing ? 'NOT_FOUND' : 'TORN_DOWN'
  const message =
    problem ??
    (missing
      ? `Cluster ${names[0]} does not exist (sky down found no such cluster).${inputs.missingOk ? '' : " If it is gone already, set 'missing-ok: true'; otherwise check 'cluster-name': a mistyped name leaves the real cluster running."}`
      : names.length === 0
        ? 'Nothing to tear down.'
        : `Torn down: ${result.removed.join(', ')} (sky status no longer lists ${result.removed.length === 1 ? 'it' : 'them'}).${result.notFound.length ? ` Already gone: ${result.notFound.join(', ')}.` : ''}`)
  const ok = status === 'TORN_DOWN' || (status === 'NOT_FOUND' && inputs.missingOk)
  setOutputs({ 'cluster-name': sweep ? undefined : names[0], status, 'skypilot-version': install.version, results: sweep ? names : undefined })
  const table = sweep && targets.length > 0
    ? [
        '| cluster | launched (UTC) | status | resources | result |',
        '|---|---|---|---|---|',
        ...targets.map((r) => `| \`${r.name}\` | ${new Date(r.launched_at! * 1000).toISOString().slice(0, 16).replace('T', ' ')} | ${cell(r.status)} | ${cell(r.resources_str)} | ${sweepResult(result, r.name)} |`)
      ].join('\n')
    : ''
  await writeSummary(
    renderSummary({
      title: `SkyPilot down: ${status === 'TORN_DOWN' ? (names.length ? `${result.removed.length} torn down` : 'nothing to do') : status}`,
      task: what,
      results: sweep ? [] : [{ name: 'teardown', cluster: names[0], status, exitCode: ok ? 0 : 1, attempts: 1, durationMs: Date.now() - started, message }],
      version: install.version,
      serverUrl: server?.url,
      runUrl: runUrl(ctx),
      notes: [table, sweep ? message : ''].filter(Boolean)
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

import * as core from '../gh/core.js'
import { runUrl, type RunnerContext } from '../context.js'
import type { Inputs } from '../inputs.js'
import { renderCommand } from '../plan.js'
import * as args from '../sky/args.js'
import { Sky } from '../sky/client.js'
import { State } from '../state.js'
import { renderSummary, writeSummary } from '../summary.js'
import { connect } from './connect.js'
import { setOutputs } from './outputs.js'
import { tearDown, TEARDOWN_ATTEMPTS } from './teardown.js'

/**
 * `mode: down`: tears down `cluster-name` now, verified, as the post step would. The last job of a
 * pipeline that reused one cluster across stages ends with it (`if: always()`).
 */
export async function runDown(inputs: Inputs, ctx: RunnerContext, setSky: (sky: Sky) => void): Promise<void> {
  const cluster = inputs.clusterName!
  const commands = [renderCommand(['sky', ...args.downArgs([cluster])]), `${renderCommand(['sky', ...args.statusArgs([cluster])])}   # must be []`]
  if (inputs.dryRun) {
    core.info('Dry run: nothing is contacted. The plan:')
    for (const line of commands) core.info(`  ${line}`)
    setOutputs({ 'cluster-name': cluster, status: 'DRY_RUN' })
    await writeSummary(renderSummary({ title: 'SkyPilot down: dry run', task: cluster, results: [], runUrl: runUrl(ctx), dryRunCommands: commands }))
    return
  }
  const { sky, install, server } = await connect(inputs, ctx)
  setSky(sky)

  const started = Date.now()
  const result = await tearDown(sky, [cluster])
  core.saveState(State.finished, 'true')
  const gone = result.left.length === 0
  const message = gone
    ? `Cluster ${cluster} is gone (verified with sky status).`
    : `Cluster ${cluster} is still running after ${TEARDOWN_ATTEMPTS} teardown attempts and may be costing money. Remove it with: sky down -y ${cluster}${result.errors.length ? ` (${result.errors.at(-1)})` : ''}`
  setOutputs({ 'cluster-name': cluster, status: gone ? 'TORN_DOWN' : 'LEFT_RUNNING', 'skypilot-version': install.version })
  await writeSummary(
    renderSummary({
      title: `SkyPilot down: ${gone ? 'done' : 'FAILED'}`,
      task: cluster,
      results: [{ name: 'teardown', cluster, status: gone ? 'SUCCEEDED' : 'FAILED', exitCode: gone ? 0 : 1, attempts: 1, durationMs: Date.now() - started, message }],
      version: install.version,
      serverUrl: server?.url,
      runUrl: runUrl(ctx)
    })
  )
  if (gone) core.info(message)
  else {
    core.error(message, { title: 'SkyPilot cluster left running' })
    process.exitCode = 1
  }
}

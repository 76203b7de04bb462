// 6. `sky` calls per mode, on each mode's success path. Each real call pays Python's import of
// SkyPilot (1-2 s on a hosted runner, about 4 s on the 2-core machines here): the action makes none
// whose answer it already knows. SkyPilot here is self-installed (a venv of the action's own in the
// tool cache, the double as its bin/sky), so no `sky --version` is needed: the venv's marker says it.
import fs from 'node:fs'
import path from 'node:path'
import { createFakeSky, startFakeServer } from '../test/fake-sky/index.mjs'
import { nodeBin, runStep, tmpDir } from './lib/common.mjs'
import { skyShim } from './lib/sky-shim.mjs'
import { TINY_TASK } from './overhead.mjs'

const VERSION = '0.14.1'

/** The commands (first words) of the calls made since `from`. */
const words = (entries, from = 0) => entries.slice(from).map((e) => e.cmd)

export async function benchCalls({ log }) {
  const root = tmpDir('calls')
  const toolCache = path.join(root, 'toolcache')
  const venv = path.join(toolCache, 'skypilot', VERSION, 'none', 'x64', 'venv')
  const shim = skyShim({ dir: path.join(venv, 'bin') })
  fs.writeFileSync(path.join(venv, '.skypilot-action.json'), JSON.stringify({ version: VERSION, extras: [], python: '3.11' }))
  const server = await startFakeServer({ version: VERSION })
  const rows = []
  try {
    // One mode: main then post, each step's calls in order; `setup` makes what the mode needs first.
    const mode = async (name, inputs, { setup, withServer = false } = {}) => {
      const s = createFakeSky()
      try {
        const env = { FAKE_SKY_HOME: s.home, PATH: `${nodeBin()}${path.delimiter}/usr/bin:/bin`, ...(withServer ? { SKYPILOT_API_SERVER_ENDPOINT: server.url } : {}) }
        const extra = setup ? await setup(env) : {}
        shim.reset()
        const main = await runStep('main', { inputs: { ...inputs, ...extra }, env, toolCache, expectCode: 0 })
        const inMain = shim.entries().length
        await runStep('post', { inputs: { ...inputs, ...extra }, env, toolCache, runnerTemp: main.runnerTemp, state: main.state, expectCode: 0 })
        const all = shim.entries()
        const m = words(all).slice(0, inMain)
        const p = words(all, inMain)
        log(`  ${name}: main ${m.join(', ') || '–'}; post ${p.join(', ') || '–'}`)
        return { main: m, post: p }
      } finally {
        s.cleanup()
      }
    }
    const launchKept = async (env) => {
      const r = await runStep('main', { inputs: { 'task-yaml': TINY_TASK, down: 'false' }, env, toolCache, expectCode: 0 })
      return { 'cluster-name': r.outputs['cluster-name'] }
    }
    const detached = (managed) => async (env) => {
      const r = await runStep('main', { inputs: { 'task-yaml': TINY_TASK, detach: 'true', ...(managed ? { mode: 'managed' } : {}) }, env, toolCache, expectCode: 0 })
      await new Promise((resolve) => setTimeout(resolve, 1500))
      return managed ? { 'job-id': r.outputs['job-id'] } : { 'job-id': r.outputs['job-id'], 'cluster-name': r.outputs['cluster-name'] }
    }
    const cases = [
      ['launch', { 'task-yaml': TINY_TASK }, {}],
      ['launch, detached', { 'task-yaml': TINY_TASK, detach: 'true' }, { withServer: true }],
      ['exec', { 'task-yaml': TINY_TASK, mode: 'exec' }, { setup: launchKept }],
      ['managed', { 'task-yaml': TINY_TASK, mode: 'managed' }, {}],
      ['collect, cluster job', { mode: 'collect' }, { setup: detached(false), withServer: true }],
      ['collect, managed job', { mode: 'collect' }, { setup: detached(true), withServer: true }],
      ['down', { mode: 'down' }, { setup: launchKept }]
    ]
    for (const [name, inputs, o] of cases) {
      const { main, post } = await mode(name, inputs, o)
      const versionCalls = [...main, ...post].filter((c) => c === '--version').length
      rows.push({
        figure: `\`sky\` calls, mode: ${name}`,
        measured: `${main.length + post.length}: main ${main.join(', ') || 'none'}; post ${post.join(', ') || 'none'}`,
        goal: name === 'launch' ? 'no --version' : 'info',
        met: name === 'launch' ? versionCalls === 0 : null
      })
    }
  } finally {
    await server.close()
    shim.remove()
    fs.rmSync(root, { recursive: true, force: true })
  }
  return rows
}

import { afterAll, describe, expect, it } from 'vitest'
import { annotations } from '../helpers/runner.js'
import { errorText } from '../suites/common.js'
import { main, post, realRun, shown } from './lib/action.js'
import { leftovers, servers, skyJson } from './lib/servers.js'

/**
 * The action against a real API server (no cloud enabled): version match, a launch with no cloud,
 * `mode: down` and `mode: exec` of clusters that do not exist, and a run cancelled mid-launch.
 */

const s = servers()
const TASK = 'name: rt-plain\nresources: {cpus: 1+}\nrun: echo hello\n'
const on = { 'api-server-endpoint': s.plain }

describe.concurrent('a plain API server, for real', () => {
  it("matches the server's version with the sky on PATH, and a launch with no cloud fails once with SkyPilot's words", async () => {
    const run = realRun({}, { onPath: true })
    const inputs = { ...on, 'task-yaml': TASK, 'cluster-name': 'rt-plain-1', 'retry-delay-seconds': '0' }
    const m = await main(run, inputs)
    expect(m.outputs, shown(m)).toMatchObject({ status: 'LAUNCH_FAILED', 'exit-code': '1', 'skypilot-version': '1.0.0-dev0', 'cluster-name': 'rt-plain-1' })
    expect(m.stdout).toContain('Using sky 1.0.0-dev0 found on PATH')
    expect(errorText(m)).toContain('failed before the job ran (sky exit code 1). SkyPilot said: NoCloudAccessError: Cloud access is not set up. Run: sky check.')
    expect(errorText(m)).toContain('Another try would fail the same way, so it was not retried.')
    // The whole main step: one version check, one launch.
    expect(run.calls().map((c) => c.split(' ')[0])).toEqual(['--version', 'launch'])
    const p = await post(run, inputs, m)
    expect(p.code).toBe(0)
    expect(p.stdout).toMatch(/rt-plain-1: sky down found no such cluster/)
    // What sky down said needs no sky status to confirm.
    expect(run.calls().slice(2).map((c) => c.split(' ')[0])).toEqual(['down'])
  })

  it("a development build on the server and no sky on PATH: says what to set, installs nothing", async () => {
    const run = realRun({}, { none: true })
    const m = await main(run, { ...on, 'task-yaml': TASK, 'cluster-name': 'rt-plain-2' })
    expect(m.code).toBe(1)
    expect(errorText(m), shown(m)).toMatch(/SkyPilot 1\.0\.0-dev0 is a development build, not a release on PyPI.*\(it is the API server's version\).*Set 'skypilot-version'/)
    expect(m.stdout).not.toMatch(/pip install|uv pip/)
    expect(annotations(m.stdout, 'error')).toHaveLength(1)
  })

  it('mode: down of a cluster that does not exist is NOT_FOUND and fails; with missing-ok it succeeds', async () => {
    const run = realRun()
    const strict = await main(run, { ...on, mode: 'down', 'cluster-name': 'rt-plain-nosuch' })
    expect(strict.code).toBe(1)
    expect(strict.outputs, shown(strict)).toMatchObject({ status: 'NOT_FOUND', 'cluster-name': 'rt-plain-nosuch' })
    expect(errorText(strict)).toMatch(/does not exist \(sky down found no such cluster\).*missing-ok: true.*mistyped name/)
    expect(strict.summary).not.toMatch(/TORN_DOWN|verified/)
    const lenient = await main(run, { ...on, mode: 'down', 'cluster-name': 'rt-plain-nosuch', 'missing-ok': 'true' })
    expect(lenient.code).toBe(0)
    expect(lenient.outputs.status).toBe('NOT_FOUND')
    // sky down said it: no sky status to verify what is known.
    expect(run.calls().filter((c) => c.startsWith('status'))).toEqual([])
  })

  it('mode: exec on a cluster that does not exist says so from SkyPilot\'s own error, without retrying or asking sky status', async () => {
    const run = realRun()
    const m = await main(run, { ...on, mode: 'exec', 'task-yaml': TASK, 'cluster-name': 'rt-plain-noexec', 'retry-delay-seconds': '0' })
    expect(m.code).toBe(1)
    expect(errorText(m), shown(m)).toMatch(/Cluster 'rt-plain-noexec' does not exist, so 'mode: exec' has nothing to run on/)
    expect(run.calls().map((c) => c.split(' ')[0])).toEqual(['exec'])
  })

  it('collect of a job on a cluster that does not exist is NOT_FOUND, saying why', async () => {
    const run = realRun()
    const m = await main(run, { ...on, mode: 'collect', 'job-id': '1', 'cluster-name': 'rt-plain-gone', 'wait-minutes': '0' })
    expect(m.code).toBe(1)
    expect(m.outputs, shown(m)).toMatchObject({ status: 'NOT_FOUND', 'exit-code': '102' })
    expect(errorText(m)).toMatch(/Cluster rt-plain-gone no longer exists/)
  })

  it('SIGINT during the launch request: the action reports what the server answered to its cancel, and the post step cleans up', async () => {
    const run = realRun()
    const inputs = { ...on, 'task-yaml': TASK, 'cluster-name': 'rt-plain-int' }
    const m = await main(run, inputs, { interrupt: { when: (out) => out.includes('Running on cluster: rt-plain-int'), signal: 'SIGINT' } })
    expect(m.stdout, shown(m)).toContain('Received SIGINT')
    expect(m.outputs).toMatchObject({ status: 'CANCELLED', 'exit-code': '103' })
    const hint = /sky api cancel ([0-9a-f]{8})/.exec(m.stdout.replace(/\x1b\[[0-9;]*m/g, ''))
    if (hint) {
      // The request named by sky's Ctrl-C hint: the action's words match the server's record of it.
      const id = hint[1]!
      const said = new RegExp(`Server request ${id}: (cancelled|the server answered that it had already finished)`).exec(m.stdout)
      expect(said, shown(m)).not.toBeNull()
      const record = await skyJson<{ status: string }[]>(['api', 'status', '-a', '-o', 'json', id], s.plain)
      expect(record[0]?.status).toBe(said![1] === 'cancelled' ? 'CANCELLED' : expect.stringMatching(/SUCCEEDED|FAILED/))
    }
    const p = await post(run, inputs, m)
    expect(p.code, shown(p)).toBe(0)
    expect(p.summary).toMatch(/rt-plain-int/)
  })
})

afterAll(async () => {
  const left = await leftovers(s.plain)
  const ours = (x: string) => x.includes('rt-plain')
  expect({ clusters: left.clusters.filter(ours), jobs: left.jobs.filter(ours), requests: left.requests.filter(ours) }).toEqual({ clusters: [], jobs: [], requests: [] })
})

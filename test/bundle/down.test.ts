import { afterEach, describe, expect, it } from 'vitest'
import { createFakeSky, type FakeSky } from '../fake-sky/index.mjs'
import { annotations, runMain, runMainThenPost } from '../helpers/runner.js'
import { updateLedger } from '../fake-sky/lib/ledger.mjs'

let sky: FakeSky | undefined
afterEach(() => {
  sky?.cleanup()
  sky = undefined
})

describe('mode: down', () => {
  it('tears down a kept cluster now and verifies it is gone', async () => {
    const s = (sky = createFakeSky())
    const keep = await runMain({ env: s.env, inputs: { 'task-yaml': 'run: echo stage one', 'cluster-name': 'pipe-1', down: 'false' } })
    expect(keep.code).toBe(0)
    expect(s.ledger().clusters.map((c) => c.name)).toEqual(['pipe-1'])
    const { main, post } = await runMainThenPost({ env: s.env, inputs: { mode: 'down', 'cluster-name': 'pipe-1' } })
    expect(main.code).toBe(0)
    expect(main.outputs).toMatchObject({ status: 'TORN_DOWN', 'cluster-name': 'pipe-1' })
    expect(post.code).toBe(0)
    expect(s.ledger().clusters).toEqual([])
    expect(s.calls().map((c) => c.argv.join(' ')).slice(-2)).toEqual(['down -y pipe-1', 'status -o json pipe-1'])
  })

  it('a cluster that does not exist is NOT_FOUND, never TORN_DOWN: it fails (a typo would hide a real cluster) unless missing-ok', async () => {
    const s = (sky = createFakeSky())
    const main = await runMain({ env: s.env, inputs: { mode: 'down', 'cluster-name': 'never-launched' } })
    expect(main.code).toBe(1)
    expect(main.outputs.status).toBe('NOT_FOUND')
    expect(annotations(main.stdout, 'error').join('\n')).toMatch(/Cluster never-launched does not exist \(sky down found no such cluster\)\. If it is gone already, set 'missing-ok: true'/)
    expect(main.summary).not.toMatch(/torn down|TORN_DOWN/)
    const ok = await runMain({ env: s.env, inputs: { mode: 'down', 'cluster-name': 'never-launched', 'missing-ok': 'true' } })
    expect(ok.code).toBe(0)
    expect(ok.outputs.status).toBe('NOT_FOUND')
    // What sky down said needs no sky status.
    expect(s.calls().map((c) => c.argv[0])).toEqual(['--version', 'down', '--version', 'down'])
  })

  it('fails loudly when sky down leaves the cluster', { timeout: 120_000 }, async () => {
    const s = (sky = createFakeSky({ config: { down: { ignore: true } } }))
    await runMain({ env: s.env, inputs: { 'task-yaml': 'run: echo x', 'cluster-name': 'pipe-2', down: 'false' } })
    const main = await runMain({ env: s.env, inputs: { mode: 'down', 'cluster-name': 'pipe-2' } })
    expect(main.code).toBe(1)
    expect(main.outputs.status).toBe('LEFT_RUNNING')
    expect(annotations(main.stdout, 'error').join('\n')).toContain('sky down -y pipe-2')
  })

  it('needs cluster-name and takes no task', async () => {
    const s = (sky = createFakeSky())
    const main = await runMain({ env: s.env, inputs: { mode: 'down', task: 'examples/train.yaml' } })
    expect(main.code).toBe(1)
    const error = annotations(main.stdout, 'error').join('\n')
    expect(error).toMatch(/'mode: down' takes no task/)
    expect(error).toMatch(/'mode: down' needs 'cluster-name'/)
    expect(s.calls()).toEqual([])
  })
})

describe('mode: down with max-age-hours (the janitor)', () => {
  /** Back-dates a cluster's launch in the double's ledger, as if it had been up for `hours`. */
  function age(s: FakeSky, name: string, hours: number): void {
    updateLedger(s.home, (ledger: { clusters: { name: string; launched_at: number }[] }) => {
      const c = ledger.clusters.find((x) => x.name === name)!
      c.launched_at -= hours * 3600
    })
  }

  // Five steps against the double: more than the default 30 s on a loaded 2-core machine.
  it('tears down only the clusters of the prefix older than the age, verified, and lists them', { timeout: 120_000 }, async () => {
    const s = (sky = createFakeSky())
    for (const name of ['gha-old-1', 'gha-old-2', 'gha-new-1', 'other-old-1']) {
      const r = await runMain({ env: s.env, inputs: { 'task-yaml': 'run: echo x', 'cluster-name': name, down: 'false' } })
      expect(r.code).toBe(0)
    }
    age(s, 'gha-old-1', 13)
    age(s, 'gha-old-2', 30)
    age(s, 'other-old-1', 48)
    const main = await runMain({ env: s.env, inputs: { mode: 'down', 'max-age-hours': '12' } })
    expect(main.code).toBe(0)
    expect(main.outputs.status).toBe('TORN_DOWN')
    expect(JSON.parse(main.outputs.results!)).toEqual(['gha-old-1', 'gha-old-2'])
    expect(s.ledger().clusters.map((c) => c.name).sort()).toEqual(['gha-new-1', 'other-old-1'])
    expect(main.summary).toMatch(/\| `gha-old-1` \| .* \| ✅ torn down \|/)
    expect(main.summary).toMatch(/\| `gha-old-2` \| .* \| ✅ torn down \|/)
    // One listing; the young cluster's jobs, for a cap recorded with them; the managed jobs, for
    // theirs; one sky down for all, one verification.
    expect(s.calls().map((c) => c.argv.join(' ')).slice(-5)).toEqual(['status -o json', 'queue -o json gha-new-1', 'jobs queue -a -v -o json', 'down -y gha-old-1 gha-old-2', 'status -o json gha-old-1 gha-old-2'])
  })

  it('with nothing old enough, does nothing and says so', { timeout: 120_000 }, async () => {
    const s = (sky = createFakeSky())
    await runMain({ env: s.env, inputs: { 'task-yaml': 'run: echo x', 'cluster-name': 'gha-fresh', down: 'false' } })
    const main = await runMain({ env: s.env, inputs: { mode: 'down', 'max-age-hours': '1' } })
    expect(main.code).toBe(0)
    expect(main.summary).toContain('nothing to do')
    expect(s.ledger().clusters.map((c) => c.name)).toEqual(['gha-fresh'])
    expect(s.calls().filter((c) => c.argv[0] === 'down')).toEqual([])
  })

  it('refuses max-age-hours together with cluster-name, or outside mode: down', async () => {
    const s = (sky = createFakeSky())
    const both = await runMain({ env: s.env, inputs: { mode: 'down', 'cluster-name': 'x1', 'max-age-hours': '3' } })
    expect(both.code).toBe(1)
    expect(annotations(both.stdout, 'error').join('\n')).toMatch(/either 'cluster-name' or 'max-age-hours'/)
    const launch = await runMain({ env: s.env, inputs: { 'task-yaml': 'run: echo', 'max-age-hours': '3' } })
    expect(launch.code).toBe(1)
    expect(annotations(launch.stdout, 'error').join('\n')).toMatch(/'max-age-hours' applies to 'mode: down' only/)
    expect(s.calls()).toEqual([])
  })
})

import { afterEach, describe, expect, it } from 'vitest'
import { createFakeSky, type FakeSky } from '../fake-sky/index.mjs'
import { annotations, runMain, runMainThenPost } from '../helpers/runner.js'

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

  it('passes when the cluster never came up', async () => {
    const s = (sky = createFakeSky())
    const main = await runMain({ env: s.env, inputs: { mode: 'down', 'cluster-name': 'never-launched' } })
    expect(main.code).toBe(0)
    expect(main.outputs.status).toBe('TORN_DOWN')
  })

  it('fails loudly when sky down leaves the cluster', async () => {
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

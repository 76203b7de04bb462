import { describe, expect, it } from 'vitest'
import { stepResults } from '../../src/results/step-results.js'
import type { TaskResult } from '../../src/summary.js'

const task = (name: string, status: string, outputs?: Record<string, string>, costUsd?: number): TaskResult => ({
  name, cluster: `c-${name}`, jobId: '1', status, exitCode: status === 'SUCCEEDED' ? 0 : 100, attempts: 1, durationMs: 1000, outputs, costUsd
})

describe('one task', () => {
  it('its job outputs, every declared name in the table, and the cost', () => {
    const r = stepResults({ results: [task('train', 'SUCCEEDED', { val_loss: '0.41' }, 0.75)], fanout: false, declared: ['val_loss', 'model_path'] })
    expect(r.jobOutputs).toEqual({ val_loss: '0.41' })
    expect(r.entries).toBeUndefined()
    expect(r.costUsd).toBe(0.75)
    expect(r.markdown).toContain('| val\\_loss | 0.41 |')
    expect(r.markdown).toContain('| model\\_path | – (not set by the job) |')
    expect(r.markdown).toContain('Cost (est.): $0.75.')
  })

  it('no job-outputs declared, no cost: nothing to add', () => {
    const r = stepResults({ results: [task('train', 'SUCCEEDED')], fanout: false, declared: [] })
    expect(r).toEqual({ jobOutputs: undefined, costUsd: undefined, markdown: '' })
  })

  it('declared but the job set nothing: an empty object, not a missing one', () => {
    expect(stepResults({ results: [task('t', 'FAILED')], fanout: false, declared: ['a'] }).jobOutputs).toEqual({})
  })
})

describe('a fan-out', () => {
  const results = [task('lr0.1', 'SUCCEEDED', { val_loss: '0.9' }, 0.5), task('lr0.01', 'SUCCEEDED', { val_loss: '0.4' }, 0.25), task('lr1', 'FAILED', {}, 0.1)]

  it('ranked results with their rank, the best, the total cost and the leaderboard with its chart', () => {
    const r = stepResults({ results, fanout: true, declared: ['val_loss'], rankBy: { name: 'val_loss', order: 'asc' } })
    expect(r.entries?.map((e) => [e.name, e.rank])).toEqual([['lr0.01', 1], ['lr0.1', 2], ['lr1', undefined]])
    expect(r.entries?.[0]).toEqual({ name: 'lr0.01', 'cluster-name': 'c-lr0.01', 'job-id': '1', status: 'SUCCEEDED', 'exit-code': 0, outputs: { val_loss: '0.4' }, 'cost-usd': 0.25, rank: 1 })
    expect(r.best?.name).toBe('lr0.01')
    expect(r.jobOutputs).toBeUndefined()
    expect(r.costUsd).toBe(0.85)
    expect(r.markdown).toContain('#### Leaderboard: val\\_loss (lowest first)')
    expect(r.markdown).toContain('xychart-beta')
    expect(r.markdown).toContain('Total cost (est.): $0.85.')
  })

  it('a task without a cost figure leaves the total out (a partial sum would be wrong)', () => {
    const r = stepResults({ results: [...results, task('x', 'SUCCEEDED', {})], fanout: true, declared: ['val_loss'] })
    expect(r.costUsd).toBeUndefined()
    expect(r.markdown).not.toContain('Total cost')
    expect(r.markdown).toContain('#### Results')
  })

  it('no outputs and no costs: the summary\'s status table is enough', () => {
    const r = stepResults({ results: [task('a', 'SUCCEEDED'), task('b', 'SUCCEEDED')], fanout: true, declared: [] })
    expect(r.markdown).toBe('')
    expect(r.entries?.map((e) => e.name)).toEqual(['a', 'b'])
  })
})

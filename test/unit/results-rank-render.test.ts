import { describe, expect, it } from 'vitest'
import { toResultEntry, type ResultEntry } from '../../src/results/entry.js'
import { bestOf, metricOf, rankEntries, rankedEntries } from '../../src/results/rank.js'
import { CHART_MAX_BARS, cellText, formatUsd, renderChart, renderJobOutputs, renderLeaderboard, renderResultsTable } from '../../src/results/render.js'

const e = (name: string, outputs: Record<string, string> | undefined, status = 'SUCCEEDED', cost?: number): ResultEntry => ({
  name,
  status,
  outputs,
  ...(cost === undefined ? {} : { 'cost-usd': cost })
})

const sweep = [
  e('lr0.1', { val_loss: '0.93', accuracy: '0.61' }, 'SUCCEEDED', 0.42),
  e('lr0.01', { val_loss: '0.41', accuracy: '0.88' }, 'SUCCEEDED', 0.4),
  e('lr0.001', { val_loss: 'nan', accuracy: '0.10' }),
  e('lr0.03', { accuracy: '0.80' }),
  e('lr0.3', { val_loss: '0.05' }, 'FAILED'),
  e('lr0.02', { val_loss: '4.1e-1', accuracy: '0.87' })
]

/** The cells of a markdown table row, split on unescaped pipes. */
function cells(row: string): string[] {
  return row.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim())
}

describe('rank-by', () => {
  it('orders by the metric as a number, lowest first; ties share a rank and keep their order', () => {
    const ranked = rankEntries(sweep, { name: 'val_loss', order: 'asc' })
    expect(ranked.map((r) => [r.entry.name, r.rank, r.unranked])).toEqual([
      ['lr0.01', 1, undefined],
      ['lr0.02', 1, undefined],
      ['lr0.1', 3, undefined],
      ['lr0.001', undefined, 'val_loss is not a number'],
      ['lr0.03', undefined, 'no val_loss output'],
      ['lr0.3', undefined, 'did not succeed (FAILED)']
    ])
    expect(bestOf(ranked)).toEqual({ ...sweep[1], rank: 1 })
  })

  it('desc puts the highest first', () => {
    const ranked = rankEntries(sweep, { name: 'accuracy', order: 'desc' })
    expect(ranked.filter((r) => r.rank).map((r) => r.entry.name)).toEqual(['lr0.01', 'lr0.02', 'lr0.03', 'lr0.1', 'lr0.001'])
    expect(bestOf(ranked)?.outputs).toEqual({ val_loss: '0.41', accuracy: '0.88' })
  })

  it('compares numbers, not text (10 > 9)', () => {
    const ranked = rankEntries([e('a', { n: '9' }), e('b', { n: '10' }), e('c', { n: '-2' })], { name: 'n', order: 'desc' })
    expect(ranked.map((r) => r.entry.name)).toEqual(['b', 'a', 'c'])
  })

  it('says why a value is not a number', () => {
    expect(metricOf(e('x', { m: ' 0.5 ' }), 'm')).toEqual({ value: 0.5 })
    expect(metricOf(e('x', { m: '' }), 'm')).toEqual({ reason: 'm is empty' })
    expect(metricOf(e('x', { m: '0x10' }), 'm')).toEqual({ reason: 'm is not a number' })
    expect(metricOf(e('x', { m: '1e999' }), 'm')).toEqual({ reason: 'm is not a finite number' })
    expect(metricOf(e('x', undefined), 'm')).toEqual({ reason: 'no m output' })
  })

  it('an entry without a status (a saved job-outputs file) is ranked', () => {
    const ranked = rankEntries([{ name: 'a', outputs: { m: '2' } }, { name: 'b', outputs: { m: '1' } }], { name: 'm', order: 'asc' })
    expect(rankedEntries(ranked)).toEqual([
      { name: 'b', outputs: { m: '1' }, rank: 1 },
      { name: 'a', outputs: { m: '2' }, rank: 2 }
    ])
  })

  it('nothing ranked, no best', () => {
    expect(bestOf(rankEntries([e('a', {}, 'FAILED')], { name: 'm', order: 'asc' }))).toBeUndefined()
  })
})

describe('entries from task results', () => {
  it('carry the results output\'s keys, outputs and cost', () => {
    expect(toResultEntry({ name: 't', cluster: 'c', jobId: '3', status: 'SUCCEEDED', exitCode: 0, attempts: 1, durationMs: 5, outputs: { a: '1' }, costUsd: 0.12 })).toEqual({
      name: 't', 'cluster-name': 'c', 'job-id': '3', status: 'SUCCEEDED', 'exit-code': 0, outputs: { a: '1' }, 'cost-usd': 0.12
    })
    expect(toResultEntry({ name: 't', status: 'FAILED', exitCode: 100, attempts: 1, durationMs: 5 })).not.toHaveProperty('cost-usd')
  })
})

describe('cells', () => {
  it('keep a value text: no cell break, HTML, link, code, math, mention or reference', () => {
    const text = cellText('a|b\nc <img src=x> [l](http://x) `c` $x$ @org/team #12 *e* :rocket:')
    expect(text).toBe('a\\|b c &lt;img src=x&gt; \\[l\\](http\\://x) \\`c\\` \\$x\\$ @\u200borg/team #\u200b12 \\*e\\* \\:rocket\\:')
    expect(cells(`| ${text} |`)).toHaveLength(1)
  })

  it('cut long values and drop control characters', () => {
    expect(cellText('x'.repeat(300), 10)).toBe('xxxxxxxxx…')
    expect(cellText('a\u001b[31mb\u0000')).toBe('a\\[31mb')
    expect(cellText(undefined)).toBe('–')
  })

  it('dollars', () => {
    expect(formatUsd(0.7502)).toBe('$0.75')
    expect(formatUsd(0.004)).toBe('< $0.01')
    expect(formatUsd(0)).toBe('$0.00')
    expect(formatUsd(undefined)).toBe('–')
    expect(formatUsd(Number.NaN)).toBe('–')
  })
})

describe('tables', () => {
  it('one run\'s outputs, declared names not set say so', () => {
    const md = renderJobOutputs({ val_loss: '0.41', model_path: 's3://b/m' }, ['val_loss', 'accuracy', 'model_path'])
    expect(md.split('\n')).toEqual([
      '#### Job outputs', '', '| Output | Value |', '|---|---|',
      '| val\\_loss | 0.41 |', '| accuracy | – (not set by the job) |', '| model\\_path | s3\\://b/m |', ''
    ])
    expect(renderJobOutputs({}, [])).toBe('')
  })

  it('the leaderboard: rank, task, metric, other outputs, status, cost; unranked last with the reason', () => {
    const md = renderLeaderboard(rankEntries(sweep, { name: 'val_loss', order: 'asc' }), { name: 'val_loss', order: 'asc' })
    const lines = md.split('\n')
    expect(lines[0]).toBe('#### Leaderboard: val\\_loss (lowest first)')
    expect(cells(lines[2]!)).toEqual(['Rank', 'Task', 'val\\_loss', 'Other outputs', 'Status', 'Cost (est.)'])
    const rows = lines.filter((l) => l.startsWith('| ') && !l.startsWith('| Rank')).map(cells)
    expect(rows[0]).toEqual(['🥇 1', 'lr0.01', '0.41', 'accuracy: 0.88', '✅ SUCCEEDED', '$0.40'])
    expect(rows[1]!.slice(0, 3)).toEqual(['🥇 1', 'lr0.02', '4.1e-1'])
    expect(rows[2]!.slice(0, 3)).toEqual(['3', 'lr0.1', '0.93'])
    expect(rows[3]!.slice(0, 3)).toEqual(['–', 'lr0.001', 'nan (not ranked: val\\_loss is not a number)'])
    expect(rows[4]!.slice(0, 3)).toEqual(['–', 'lr0.03', '(not ranked: no val\\_loss output)'])
    expect(rows[5]).toEqual(['–', 'lr0.3', '0.05 (not ranked: did not succeed (FAILED))', '–', '❌ FAILED', '–'])
    expect(md).toContain("Costs are SkyPilot's estimates")
  })

  it('a hostile task name breaks neither the table nor the chart', () => {
    const name = 'a|b "quoted"\n```\n#1; <b>x</b>'
    const ranked = rankEntries([e(name, { m: '1' }), e('ok', { m: '2' })], { name: 'm', order: 'asc' })
    const md = renderLeaderboard(ranked, { name: 'm', order: 'asc' })
    const rows = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Rank'))
    expect(rows).toHaveLength(2)
    for (const row of rows) expect(cells(row)).toHaveLength(5)
    expect(md).not.toContain('<b>')
    const chart = renderChart(ranked, { name: 'm', order: 'asc' })
    const axis = chart.split('\n').find((l) => l.includes('x-axis'))!
    expect(axis).toBe('    x-axis ["1: a_b _quoted_______1_ _b_x_/b_", "2: ok"]')
    expect(chart.match(/```/g)).toHaveLength(2)
  })

  it('results without rank-by: one row per task, in order', () => {
    const md = renderResultsTable([e('a', { x: '1', y: '2' }), e('b', undefined, 'FAILED')])
    const rows = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Task')).map(cells)
    expect(rows).toEqual([
      ['a', 'x: 1<br>y: 2', '✅ SUCCEEDED'],
      ['b', '–', '❌ FAILED']
    ])
    expect(md).not.toContain('Cost')
  })
})

describe('the chart', () => {
  it('a Mermaid xychart of the ranked metric, best first, from zero', () => {
    const by = { name: 'val_loss', order: 'asc' } as const
    expect(renderChart(rankEntries(sweep, by), by)).toBe(
      [
        '```mermaid',
        'xychart-beta',
        '    title "val_loss (lowest first)"',
        '    x-axis ["1: lr0.01", "1: lr0.02", "3: lr0.1"]',
        '    y-axis "val_loss" 0 --> 0.93',
        '    bar [0.41, 0.41, 0.93]',
        '```',
        ''
      ].join('\n')
    )
  })

  it('numbers never in exponent notation (Mermaid reads plain decimals only)', () => {
    const by = { name: 'm', order: 'asc' } as const
    const chart = renderChart(rankEntries([e('a', { m: '1e-7' }), e('b', { m: '-2.5e3' })], by), by)
    expect(chart).toContain('bar [-2500, 0.0000001]')
    expect(chart).toContain('y-axis "m" -2500 --> 0.0000001')
    expect(chart).not.toMatch(/\de[-+]?\d/)
  })

  it(`at most ${CHART_MAX_BARS} bars, and says so`, () => {
    const many = Array.from({ length: 40 }, (_, i) => e(`t${i}`, { m: String(i) }))
    const by = { name: 'm', order: 'asc' } as const
    const chart = renderChart(rankEntries(many, by), by)
    expect(chart.match(/"\d+: t\d+"/g)).toHaveLength(CHART_MAX_BARS)
    expect(chart).toContain(`The chart shows the best ${CHART_MAX_BARS}; the table has all 40.`)
  })

  it('no ranked entry, no chart', () => {
    expect(renderChart(rankEntries([e('a', {})], { name: 'm', order: 'asc' }), { name: 'm', order: 'asc' })).toBe('')
  })
})

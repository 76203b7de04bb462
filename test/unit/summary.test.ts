import { describe, it, expect } from 'vitest'
import { cell, formatDuration, renderSummary, type TaskResult } from '../../src/summary.js'
import type { Plan } from '../../src/plan.js'

function plan(overrides: Partial<Plan> = {}): Plan {
  return {
    mode: 'launch', version: '0.14.1', versionFrom: 'pinned', extras: [], extrasFrom: 'task',
    tasks: [{ name: 'train', label: 'train.yaml', cluster: 'c1', taskPath: '/ws/train.yaml', cwd: '/ws', argv: ['launch', '-y', '-c', 'c1', '--gpus', 'A100:1', '--use-spot', '/ws/train.yaml'] }],
    down: true, detach: false, idleMinutes: 10, secretNames: [], teardown: ['c1'], keep: [], onSlurm: false, ...overrides
  }
}

const ok: TaskResult = { name: 'train', cluster: 'c1', jobId: '1', status: 'SUCCEEDED', exitCode: 0, attempts: 1, durationMs: 65_000 }

describe('renderSummary', () => {
  it('renders the title, the info table and a result row', () => {
    const md = renderSummary({ title: 'SkyPilot', plan: plan(), task: 'train.yaml', results: [ok], version: '0.14.1', installSource: 'cache', runUrl: 'https://gh/run/1' })
    const lines = md.split('\n')
    expect(lines[0]).toBe('### SkyPilot')
    expect(lines).toContain('| Task | train.yaml |')
    expect(lines).toContain('| Mode | launch |')
    expect(lines).toContain('| Resources asked for | gpus A100:1, spot |')
    expect(lines).toContain('| SkyPilot | 0.14.1 (cache) |')
    expect(lines).toContain('| Run | [logs](https://gh/run/1) |')
    expect(lines).toContain('| Task | Cluster | Job | Status | Exit | Attempts | Duration |')
    expect(lines).toContain('| train | c1 | 1 | ✅ SUCCEEDED | 0 | 1 | 1m 5s |')
    expect(md).toContain('Teardown: the post step runs `sky down -y c1`')
  })

  it('escapes pipes and newlines in cells', () => {
    const md = renderSummary({ title: 'T', results: [{ ...ok, name: 'a|b', cluster: undefined, jobId: undefined, status: 'FAILED', exitCode: 100, message: 'line one\nwith | pipe' }] })
    expect(md).toContain('| a\\|b | – | – | ❌ FAILED | 100 | 1 | 1m 5s |')
    expect(md).toContain('- **a\\|b**: line one with \\| pipe')
    // Every table row still has exactly 8 unescaped separators.
    const row = md.split('\n').find((l) => l.startsWith('| a'))!
    expect(row.replace(/\\\|/g, '').split('|').length - 1).toBe(8)
  })

  it('a kept cluster gets the sky down hint', () => {
    const md = renderSummary({ title: 'T', plan: plan({ teardown: [], keep: [{ cluster: 'kept-1', why: 'down is false' }] }), results: [ok] })
    expect(md).toContain('⚠️ Cluster `kept-1` is left running (down is false). Remove it with `sky down -y kept-1`.')
    expect(md).not.toContain('Teardown:')
  })

  it('dry-run commands go in a details block', () => {
    const md = renderSummary({ title: 'T', plan: plan(), results: [], dryRunCommands: ['uv venv x', 'sky launch -y -c c1 /ws/t.yaml'] })
    expect(md).toContain('<details><summary>Plan (dry run)</summary>\n\n```sh\nuv venv x\nsky launch -y -c c1 /ws/t.yaml\n```\n</details>')
  })

  it('shows detached mode, recovery count and no message row for success', () => {
    const md = renderSummary({ title: 'T', plan: plan({ detach: true, mode: 'managed' }), results: [{ ...ok, recoveryCount: 2, message: 'fine' }] })
    expect(md).toContain('| Mode | managed (detached) |')
    expect(md).toContain('✅ SUCCEEDED (recovered 2×)')
    expect(md).not.toContain('**train**')
  })

  it('says "as in the task" with no resource flags and names task accelerators', () => {
    expect(renderSummary({ title: 'T', plan: plan({ tasks: [{ name: 'x', label: 'x', taskPath: '/x', cwd: '/', argv: ['launch', '/x'] }] }), results: [] })).toContain('| Resources asked for | as in the task |')
    expect(renderSummary({ title: 'T', plan: plan({ tasks: [{ name: 'x', label: 'x', taskPath: '/x', cwd: '/', argv: ['launch', '/x'], accelerators: 'H100:8' }] }), results: [] })).toContain('accelerators H100:8 (task)')
  })
})

describe('cell and formatDuration', () => {
  it('cell', () => {
    expect(cell(undefined)).toBe('–')
    expect(cell(null)).toBe('–')
    expect(cell('')).toBe('–')
    expect(cell(0)).toBe('0')
    expect(cell('a|b\r\nc')).toBe('a\\|b c')
  })

  it('formatDuration', () => {
    expect(formatDuration(0)).toBe('0s')
    expect(formatDuration(59_000)).toBe('59s')
    expect(formatDuration(60_000)).toBe('1m 0s')
    expect(formatDuration(3_725_000)).toBe('1h 2m')
  })
})

describe('renderSummary on Slurm', () => {
  it('says that the idle autodown is not a backstop there, and that the post step tears down', () => {
    const md = renderSummary({ title: 'SkyPilot', plan: plan({ onSlurm: true }), results: [ok] })
    expect(md).toMatch(/⚠️ On Slurm, SkyPilot's idle autodown \(`--down -i N`\) depends on its skylet .*do not count on it\. The post step tears the cluster down itself/)
    expect(renderSummary({ title: 'SkyPilot', plan: plan(), results: [ok] })).not.toMatch(/On Slurm/)
  })
})

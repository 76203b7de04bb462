import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseTaskYaml } from '../../src/task/parse.js'
import { pyStr } from '../../src/task/python.js'
import { validateTask } from '../../src/task/validate.js'

/**
 * How PyYAML's safe_load (what SkyPilot reads tasks with) resolves plain scalars, as a value and
 * as a key: the Python type and str() of each. The table was made with PyYAML's CSafeLoader; the
 * real tier (test/real/validation.test.ts) checks it against the PyYAML SkyPilot runs on.
 */
interface Resolved {
  type?: string
  str?: string
  error?: string
}
interface Row {
  text: string
  value: Resolved
  key?: Resolved
}
const table = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/tasks/pyyaml-scalars.json'), 'utf8')) as Row[]

/** The action's reading of `text` as a value (`k: text`) or a key (`text: 1`): type and str(), or an error. */
function actionReads(text: string, as: 'value' | 'key'): Resolved {
  const parsed = parseTaskYaml(as === 'value' ? `k: ${text}\n` : `${text}: 1\n`)
  const doc = parsed.documents[0]
  if (parsed.problems.length > 0 || doc?.py.type !== 'dict') return { error: 'error' }
  const entry = doc.py.entries[0]
  const node = as === 'value' ? entry?.value : entry?.key
  return node ? { type: node.type, str: pyStr(node) } : { error: 'error' }
}
const simplify = (r: Resolved): Resolved => (r.error ? { error: 'error' } : r)

describe('plain scalars resolve as PyYAML resolves them', () => {
  it.each(table)('$text', (row) => {
    expect(actionReads(row.text, 'value')).toEqual(simplify(row.value))
    if (row.key) expect(actionReads(row.text, 'key')).toEqual(simplify(row.key))
  })

  it('covers every implicit type and the texts YAML 1.1 readers disagree on', () => {
    const types = new Set(table.flatMap((r) => [r.value.type ?? 'error', r.key?.type ?? 'error']))
    expect([...types].sort()).toEqual(['NoneType', 'bool', 'bytes', 'date', 'datetime', 'error', 'float', 'int', 'str'])
    for (const text of ['.', '1e5', '-.5', '1_000', '0b101', '007', '1:30', '.inf', '.nan', '~', '2024-01-01', '<<', '=', 'on', 'y']) {
      expect(table.map((r) => r.text)).toContain(text)
    }
  })
})

describe('what SkyPilot makes of those values in a task', () => {
  const run = (yaml: string, envs: Record<string, string> = {}) => validateTask(yaml, { envs, secrets: {} })

  it('accepts workdir: . (a string, not a float)', () => {
    expect(run('workdir: .\nrun: echo hi\n').problems).toEqual([])
  })

  it('keeps 1e5 as text and reads 1.0e+5 as a number', () => {
    const { info } = run('envs:\n  A: 1e5\n  B: 1.0e+5\n  C: .5\n  D: 1_000\nrun: echo\n')
    expect(info?.documents[0]?.envs).toEqual({ A: '1e5', B: 100000, C: 0.5, D: 1000 })
  })

  it('turns env values into text as Python str() does, maps and lists and dates included', () => {
    const r = run('envs:\n  A: 1.0\n  B: yes\n  C: {x: 1, y: [a, null]}\n  D: [1, 2024-01-01]\n  E: 2024-01-01\n  F: 0x1F\n  G: 12345678901234567890\nrun: echo $A\n')
    expect(r.problems).toEqual([])
    // The values as the task sees them: what `$A` and friends turn into.
    const yaml = 'envs:\n  A: 1.0\n  B: yes\n  C: {x: 1, y: [a, null]}\n  D: [1, 2024-01-01]\n  E: 2024-01-01\n  F: 0x1F\n  G: 12345678901234567890\n'
    const mounts = Object.entries({ A: '1.0', B: 'True', C: "{'x': 1, 'y': ['a', None]}", D: '[1, datetime.date(2024, 1, 1)]', E: '2024-01-01', F: '31', G: '12345678901234567890' })
    const withMounts = yaml + 'file_mounts:\n' + mounts.map(([k]) => `  /m/${k}:\n    name: b-$${k}\n    store: s3\n`).join('')
    expect(run(withMounts).info?.clouds).toEqual(['aws'])
    const parsed = parseTaskYaml(yaml).documents[0]
    const envs = parsed?.py.type === 'dict' ? parsed.py.entries[0]?.value : undefined
    expect(envs?.type === 'dict' ? Object.fromEntries(envs.entries.map((e) => [pyStr(e.key), pyStr(e.value)])) : undefined).toEqual(Object.fromEntries(mounts))
  })

  it('refuses a date where SkyPilot wants text, saying to quote it', () => {
    const { problems } = run('name: 2024-01-01\nrun: echo\n')
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatchObject({ line: 1, message: expect.stringContaining("name: must be text, got the date 2024-01-01 (line 1). Quote it to make it text: '2024-01-01'") })
  })

  it('refuses a date that does not exist, as PyYAML does', () => {
    const { problems } = run('envs:\n  D: 2024-02-30\nrun: echo\n')
    expect(problems[0]?.message).toContain("'2024-02-30' is read as a date (a YAML 1.1 timestamp), but day is out of range for month")
    expect(problems[0]?.message).toContain("Quote it to make it text: '2024-02-30'")
  })

  it('reads keys the same way: on is the boolean True, null is None', () => {
    expect(run('on: push\nrun: echo\n').problems[0]?.message).toContain("Unknown key 'True' in the task")
    // envs keys are turned into text: True and None are valid env names, 1 is not.
    expect(run('envs:\n  yes: a\n  null: b\nrun: echo\n').problems).toEqual([])
    expect(run('envs:\n  1: a\nrun: echo\n').problems[0]?.message).toContain('envs.1: env names must match')
  })

  it('refuses = and << as values, as PyYAML has no constructor for them', () => {
    expect(run('run: =\n').problems[0]?.message).toContain("'=' alone is YAML 1.1's special 'value' key")
    expect(run('run: <<\n').problems[0]?.message).toContain("'<<' alone is YAML 1.1's merge key")
    expect(run('=: 1\nrun: echo\n').problems[0]?.message).toContain("Unknown key '='")
  })

  it('merges maps with << as PyYAML does: the map\'s own keys win, then earlier merged maps', () => {
    const yaml = 'x: &a {cpus: 2, memory: 4}\ny: &b {cpus: 8, disk_size: 100}\n'
    const parsed = parseTaskYaml(`${yaml}z:\n  <<: [*a, *b]\n  memory: 16\n`).documents[0]?.value as Record<string, unknown>
    expect(parsed.z).toEqual({ cpus: 2, memory: 16, disk_size: 100 })
  })
})

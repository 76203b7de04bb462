import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { RunnerContext } from '../../src/context.js'
import { UserError } from '../../src/errors.js'
import type { Inputs } from '../../src/inputs.js'
import { MAX_ANNOTATIONS, failureMessage, prepareTasks } from '../../src/run/prepare.js'

/**
 * One problem, one annotation: each task problem is annotated on its file and line, and the
 * step's failure message counts and points there instead of repeating them (the runner shows the
 * failure message as one more error annotation).
 */
describe('failureMessage', () => {
  const p = (line?: number, message = `problem on line ${line}`) => ({ message, ...(line ? { line } : {}) })

  it('counts and points for one file', () => {
    expect(failureMessage([{ prefix: '', file: 'examples/train.yaml', annotated: [p(4), p(9), p(12)], listed: [] }], [])).toBe(
      'The task has 3 problems, annotated on examples/train.yaml at lines 4, 9 and 12. Fix them there, then run again.'
    )
    expect(failureMessage([{ prefix: '', file: 'examples/train.yaml', annotated: [p(10)], listed: [] }], [])).toBe(
      'The task has 1 problem, annotated on examples/train.yaml at line 10. Fix it there, then run again.'
    )
  })

  it('says when a problem concerns the whole file', () => {
    expect(failureMessage([{ prefix: '', file: 't.yaml', annotated: [p(3), p(undefined, 'a pipeline')], listed: [] }], [])).toBe(
      'The task has 2 problems, annotated on t.yaml at line 3 and on the file as a whole. Fix them there, then run again.'
    )
  })

  it('reads well for inline task-yaml', () => {
    expect(failureMessage([{ prefix: '', annotated: [p(2), p(5)], listed: [] }], [])).toBe(
      'The task has 2 problems, annotated on the task YAML at lines 2 and 5. Fix them there, then run again.'
    )
  })

  it('lists in full what could not be annotated', () => {
    const annotated = Array.from({ length: 9 }, (_, i) => p(i + 1))
    expect(failureMessage([{ prefix: '', file: 't.yaml', annotated, listed: [p(40, 'late one'), p(41, 'later one')] }], [])).toBe(
      'The task has 11 problems: 9 annotated on t.yaml at lines 1, 2, 3, 4, 5, 6, 7, 8 and 9, and 2 more:\n- late one (t.yaml:40)\n- later one (t.yaml:41)'
    )
  })

  it('puts fan-out tasks and problems outside any task YAML in one list', () => {
    expect(
      failureMessage(
        [
          { prefix: "task 'a'", file: 'a.yaml', annotated: [p(3)], listed: [] },
          { prefix: "task 'b'", annotated: [], listed: [p(undefined, 'b is wrong (line 2)')] }
        ],
        ["task 'c': 'task' c.yaml does not exist under /ws. Check the path."]
      )
    ).toBe(
      "3 problems:\n- task 'a' has 1 problem, annotated on a.yaml at line 3\n- task 'b' has 1 problem:\n  - b is wrong (line 2)\n- task 'c': 'task' c.yaml does not exist under /ws. Check the path."
    )
  })
})

describe('prepareTasks', () => {
  let ws: string
  let stdout: () => string
  const ctx = (): RunnerContext => ({ workspace: ws, temp: path.join(ws, 'tmp'), toolCache: ws, runId: '1', runAttempt: '1', job: 'j', repository: 'o/r', serverUrl: 'https://github.com', os: 'linux', arch: 'x64' })
  const inputs = (over: Partial<Inputs>): Inputs => ({ mode: 'launch', envs: {}, secrets: {}, clusterPrefix: 'gha', jobIndex: '', resources: {}, caps: {}, ...over }) as Inputs
  const failure = async (i: Inputs): Promise<string> => {
    try {
      await prepareTasks(i, ctx())
    } catch (error) {
      expect(error).toBeInstanceOf(UserError)
      return (error as Error).message
    }
    throw new Error('prepareTasks did not fail')
  }
  const errors = (): string[] => stdout().split(os.EOL).filter((l) => l.startsWith('::error'))

  beforeEach(() => {
    ws = fs.mkdtempSync(path.join(os.tmpdir(), 'prepare-'))
    fs.mkdirSync(path.join(ws, 'tmp'))
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
    stdout = () => spy.mock.calls.map((c) => String(c[0])).join('')
  })
  afterEach(() => {
    vi.restoreAllMocks()
    fs.rmSync(ws, { recursive: true, force: true })
  })

  it('annotates each problem once, on its file and line, and the failure message only counts and points', async () => {
    fs.writeFileSync(path.join(ws, 'bad.yaml'), 'name: t\nnum_nodes: 0\nresources:\n  disk_tier: fastest\n  cpus: 0\nrun: echo\n')
    const message = await failure(inputs({ source: { kind: 'workspace', task: 'bad.yaml' } }))
    expect(message).toBe('The task has 3 problems, annotated on bad.yaml at lines 2, 4 and 5. Fix them there, then run again.')
    const annotations = errors()
    expect(annotations).toHaveLength(3)
    expect(annotations.map((a) => /file=bad.yaml,line=(\d+)/.exec(a)?.[1])).toEqual(['2', '4', '5'])
    // No problem's text appears twice: the failure message does not repeat them.
    expect(message).not.toContain('fastest')
  })

  it('lists the problems beyond the runner annotation limit in the failure message', async () => {
    const envs = Array.from({ length: 12 }, (_, i) => `  E${i}: null`).join('\n')
    fs.writeFileSync(path.join(ws, 'many.yaml'), `envs:\n${envs}\nrun: echo\n`)
    const message = await failure(inputs({ source: { kind: 'workspace', task: 'many.yaml' } }))
    expect(errors()).toHaveLength(MAX_ANNOTATIONS)
    expect(message).toMatch(/^The task has 12 problems: 9 annotated on many\.yaml at lines 2, 3, 4, 5, 6, 7, 8, 9 and 10, and 3 more:\n/)
    expect(message.split('\n').slice(1)).toEqual([9, 10, 11].map((i) => expect.stringMatching(new RegExp(`^- Required env 'E${i}' has no value.*\\(many\\.yaml:${i + 2}\\)$`))))
  })

  it('passes the resource inputs to the validation: a pipeline with gpus is refused in managed mode', async () => {
    const yaml = 'name: p\n---\nrun: echo a\n---\nrun: echo b\n'
    const message = await failure(inputs({ mode: 'managed', source: { kind: 'inline', yaml }, resources: { gpus: 'A100:1' } }))
    expect(message).toBe('The task has 1 problem, annotated on the task YAML as a whole. Fix it there, then run again.')
    expect(errors().join('\n')).toContain("The input 'gpus' overrides resources, but the task YAML is a pipeline of 2 tasks")
  })
})

import { describe, expect, it } from 'vitest'
import { parseTaskYaml } from '../../src/task/parse.js'
import { CAPS_METADATA_KEY, stampTask } from '../../src/task/stamp.js'

const values = (text: string) => parseTaskYaml(text).documents.map((d) => d.value)
const stamp = { maxDurationS: 1200, maxCostUsd: 12.5, slurmTimeMinutes: 30, podDeadlineS: 1800 }
const caps = { _metadata: { [CAPS_METADATA_KEY]: { max_duration_s: 1200, max_cost_usd: 12.5 } }, config: { slurm: { sbatch_options: { time: 30 } }, kubernetes: { pod_config: { spec: { activeDeadlineSeconds: 1800 } } } } }

describe('the caps written into the task', () => {
  it('read back by the PyYAML reader, the task is the same values plus the caps, scalars PyYAML would read differently included', () => {
    const task = [
      'name: t',
      'envs: {A: 2.0, B: yes, C: 0o17, D: 1_000, E: 1e21, F: .inf, G: "x\\ty", H: 017, I: 1.5e-7, J: null, K: "ünï"}',
      'resources: {cpus: 4+, any_of: [{infra: slurm}, {infra: k8s}]}',
      'run: |',
      '  echo "$A"',
      ''
    ].join('\n')
    const r = stampTask(task, stamp)
    expect('text' in r).toBe(true)
    const [original] = values(task) as [Record<string, unknown>]
    expect(values((r as { text: string }).text)).toEqual([{ ...original, ...caps }])
  })

  it("keeps the user's own limits and metadata, and stamps every task of a pipeline, not its header", () => {
    const task = 'name: pipe\n---\nname: a\nrun: echo a\nconfig: {slurm: {sbatch_options: {time: 5, partition: gpu}}}\n_metadata: {mine: 1}\n---\nname: b\nrun: echo b\n'
    const r = stampTask(task, stamp) as { text: string }
    const [header, a, b] = values(r.text) as Record<string, any>[]
    expect(header).toEqual({ name: 'pipe' })
    expect(a!.config.slurm.sbatch_options).toEqual({ time: 5, partition: 'gpu' })
    expect(a!._metadata).toEqual({ mine: 1, [CAPS_METADATA_KEY]: caps._metadata[CAPS_METADATA_KEY] })
    expect(b!._metadata).toEqual(caps._metadata)
  })

  it('refuses what it cannot carry unchanged (a date, a non-text key), saying what', () => {
    expect(stampTask('run: echo\nenvs: {D: 2024-01-01}\n', stamp)).toEqual({ why: expect.stringMatching(/date/) })
    expect(stampTask('run: echo\nenvs: {1: x}\n', stamp)).toEqual({ why: expect.stringMatching(/key that is not text \(int\)/) })
  })
})

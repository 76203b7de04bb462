import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { INPUT_NAMES, parseInputs, type RawInputs } from '../../src/inputs.js'
import { buildPlan } from '../../src/plan.js'
import * as args from '../../src/sky/args.js'
import { UserError } from '../../src/errors.js'
import { realSky, ROOT, type CliItem } from './lib/real-sky.js'

/**
 * Every `sky` command line the action can emit, parsed by the real SkyPilot CLI (click, with every
 * option's type and callback; no command runs). The launch lines come from the plan itself, over
 * every combination of the inputs that shape them that the action accepts; the rest from each
 * argument builder the action calls.
 */

const TASK = path.join(ROOT, 'examples', 'train.yaml')
const SECRETS = { S1: 'secret-one', S2: 'secret-two' }

function raw(over: Partial<RawInputs>): RawInputs {
  const r = {} as RawInputs
  for (const name of INPUT_NAMES) r[name] = ''
  return { ...r, ...over }
}

const product = <T>(...lists: T[][]): T[][] => lists.reduce<T[][]>((acc, list) => acc.flatMap((a) => list.map((x) => [...a, x])), [[]])

/** The plan's task command for each accepted combination of the inputs that shape it. */
function plannedLines(): string[][] {
  const resources: Partial<RawInputs>[] = [
    {},
    { infra: 'aws/us-east-1', gpus: 'A100:8', 'num-nodes': '2', 'use-spot': 'true', cpus: '8+', memory: '32+', 'disk-size': '256' },
    { infra: 'k8s', 'use-spot': 'false' }
  ]
  const lines: string[][] = []
  const combos = product<Partial<RawInputs>>(
    [{ mode: 'launch' }, { mode: 'exec', 'cluster-name': 'c1' }, { mode: 'managed' }],
    [{}, { detach: 'true' }],
    [{}, { down: 'true' }, { down: 'false' }],
    [{}, { 'idle-minutes-to-autostop': '0' }, { 'idle-minutes-to-autostop': '10' }],
    [{}, { 'job-name': 'train-1' }],
    [{}, { 'job-recovery': 'FAILOVER' }],
    resources,
    [{}, { envs: 'A=1\nB=x=y' }],
    [{}, { secrets: 'S1=secret-one\nS2=secret-two' }]
  )
  for (const parts of combos) {
    let inputs
    try {
      // An API server (detach needs one); the task itself is never read here.
      inputs = parseInputs(raw(Object.assign({ task: 'train.yaml' }, ...parts)), { SKYPILOT_API_SERVER_ENDPOINT: 'http://127.0.0.1:46580' })
    } catch (error) {
      if (error instanceof UserError) continue // a combination the action refuses emits nothing
      throw error
    }
    const cluster = inputs.clusterName ?? 'gha-1-1-train'
    const plan = buildPlan(inputs, [{ name: 't', label: 't', path: TASK, cwd: ROOT, cluster, envs: {}, clouds: [] }], { version: '0.14.1', versionFrom: 'pinned', extras: [], extrasFrom: 'task' })
    for (const t of plan.tasks) lines.push(t.argv)
  }
  return lines
}

/** Every other command, from the builders the action calls (each variant it uses). */
function runtimeLines(): string[][] {
  return [
    args.versionArgs(),
    args.downArgs(['c1']),
    args.downArgs(['c1', 'c2']),
    args.statusArgs([]),
    args.statusArgs(['c1', 'c2']),
    args.queueArgs('c1'),
    args.logsArgs('c1', '3'),
    args.logsArgs('c1', '3', false),
    args.logsStatusArgs('c1', '3'),
    args.jobsQueueArgs(),
    args.jobsLogsArgs('12'),
    args.jobsLogsArgs('12', false),
    args.jobsCancelArgs(['12']),
    args.jobsCancelByNameArgs('gha-1-1-train'),
    args.cancelArgs('c1', '3'),
    args.apiCancelArgs('1a2b3c4d'),
    args.apiStatusArgs(),
    args.costReportArgs(Date.now() - 3_600_000)
  ]
}

/** A line's shape: its words with every value replaced, so that lines differing only in values count once. */
function shape(argv: string[]): string {
  return argv.map((a, i) => (a.startsWith('-') || (i < 2 && /^[a-z]+$/.test(a)) ? a : '_')).join(' ')
}

describe('every sky command line the action can emit, parsed by the real CLI', () => {
  it('is accepted', async () => {
    const all = [...plannedLines(), ...runtimeLines()]
    const unique = [...new Map(all.map((argv) => [argv.join('\u0000'), argv])).values()]
    const items: CliItem[] = unique.map((argv) => ({ argv, cwd: ROOT, env: SECRETS }))
    // The checker must bite: lines the real CLI refuses, among the others.
    const refused: CliItem[] = [
      { argv: ['jobs', 'queue', '--skip', '-o', 'json'], cwd: ROOT },
      { argv: ['launch', '-y', '--secret', 'NOT_SET_ANYWHERE', TASK], cwd: ROOT },
      { argv: ['logs', '--tail', 'all-of-it', 'c1', '3'], cwd: ROOT }
    ]
    const verdicts = await realSky().checkCli([...items, ...refused])
    const bad = items.map((item, i) => ({ line: item.argv.join(' '), verdict: verdicts[i]! })).filter((x) => !x.verdict.ok)
    expect(bad).toEqual([])
    expect(verdicts.slice(items.length).map((v) => v.ok)).toEqual([false, false, false])
    const shapes = new Set(unique.map(shape))
    console.log(`real CLI: ${unique.length} command lines the action can emit (${shapes.size} shapes) parsed by SkyPilot's own CLI, all accepted`)
    expect(unique.length).toBeGreaterThan(100)
  })
})

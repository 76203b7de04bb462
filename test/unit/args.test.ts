import { describe, it, expect } from 'vitest'
import fs from 'node:fs'
import * as a from '../../src/sky/args.js'
import type { Resources } from '../../src/inputs.js'

interface OptSpec { opts: string[]; secondary: string[]; flag: boolean }
interface ArgSpec { arg: string; nargs: number }
type Grammar = Record<string, (OptSpec | ArgSpec)[]>

// The real CLI's grammar (a copy of shared/reference/sky-cli-grammar.json, which the test double reads too).
const grammar = JSON.parse(fs.readFileSync(new URL('../fake-sky/grammar.json', import.meta.url), 'utf8')) as Grammar

/**
 * Parses argv the way click would for the command named by its leading words: every option must
 * exist for that command (or its --no- twin), valued options must get a value, and the positional
 * count must not exceed the command's arguments.
 */
function checkAgainstGrammar(argv: string[]): { command: string; positionals: string[]; options: string[] } {
  const command = [2, 1].map((n) => argv.slice(0, n).join(' ')).find((k) => k in grammar && !argv.slice(0, k.split(' ').length).some((t) => t.startsWith('-')))
  if (!command) throw new Error(`no such command in the grammar: ${argv.join(' ')}`)
  const specs = grammar[command]!
  const opts = specs.filter((s): s is OptSpec => 'opts' in s)
  const args = specs.filter((s): s is ArgSpec => 'arg' in s)
  const rest = argv.slice(command.split(' ').length)
  const positionals: string[] = []
  const options: string[] = []
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i]!
    if (!token.startsWith('-')) {
      positionals.push(token)
      continue
    }
    const spec = opts.find((o) => o.opts.includes(token) || o.secondary.includes(token))
    if (!spec) throw new Error(`'sky ${command}' has no option ${token} (argv: ${JSON.stringify(argv)})`)
    options.push(token)
    if (!spec.flag) {
      const value = rest[i + 1]
      if (value === undefined) throw new Error(`'sky ${command}' option ${token} needs a value`)
      i++
    }
  }
  // The grammar does not say which arguments are optional (`jobs logs` takes job_id and task, both
  // optional), so only the upper bound is checked here; the tests assert the positionals themselves.
  const max = args.reduce((n, s) => n + (s.nargs === -1 ? Infinity : s.nargs), 0)
  if (positionals.length > max) {
    throw new Error(`'sky ${command}' takes ${args.map((s) => `${s.arg}(${s.nargs})`).join(' ')}, got positionals ${JSON.stringify(positionals)}`)
  }
  return { command, positionals, options }
}

const ALL: Resources = { infra: 'aws/us-east-1', gpus: 'A100:8', numNodes: 2, useSpot: true, cpus: '8+', memory: '32+', diskSize: 256 }
const NONE: Resources = {}
const base = { taskPath: '/work/task.yaml', envs: {}, secretNames: [], resources: NONE }

describe('launchArgs', () => {
  it('launch with down and an idle backstop', () => {
    expect(a.launchArgs({ ...base, cluster: 'c1', down: true, idleMinutes: 10, detach: false })).toEqual(['launch', '-y', '-c', 'c1', '--down', '-i', '10', '/work/task.yaml'])
  })

  it('launch without down and without idle minutes has neither --down nor -i', () => {
    expect(a.launchArgs({ ...base, cluster: 'c1', down: false, detach: false })).toEqual(['launch', '-y', '-c', 'c1', '/work/task.yaml'])
  })

  it('launch with down and no idle minutes has --down only', () => {
    expect(a.launchArgs({ ...base, cluster: 'c1', down: true, detach: false })).toEqual(['launch', '-y', '-c', 'c1', '--down', '/work/task.yaml'])
  })

  it('idle minutes imply --down (autodown, not autostop), also with down false', () => {
    expect(a.launchArgs({ ...base, cluster: 'c1', down: false, idleMinutes: 0, detach: false })).toEqual(['launch', '-y', '-c', 'c1', '--down', '-i', '0', '/work/task.yaml'])
  })

  it('launch with job name, detach, every resource, envs and secret names', () => {
    const argv = a.launchArgs({
      taskPath: '/w/t.yaml',
      envs: { LR: '0.01', CMD: '$(rm -rf /) `x` "q"' },
      secretNames: ['HF_TOKEN', 'WANDB_KEY'],
      resources: ALL,
      cluster: 'c1',
      down: true,
      idleMinutes: 5,
      detach: true,
      jobName: 'train'
    })
    expect(argv).toEqual([
      'launch', '-y', '-c', 'c1', '-n', 'train', '-d', '--down', '-i', '5',
      '--infra', 'aws/us-east-1', '--gpus', 'A100:8', '--num-nodes', '2', '--use-spot', '--cpus', '8+', '--memory', '32+', '--disk-size', '256',
      '--env', 'LR=0.01', '--env', 'CMD=$(rm -rf /) `x` "q"',
      '--secret', 'HF_TOKEN', '--secret', 'WANDB_KEY',
      '/w/t.yaml'
    ])
  })

  it('secrets are passed by name only, never with a value', () => {
    const argv = a.launchArgs({ ...base, secretNames: ['TOKEN'], cluster: 'c', down: true, detach: false })
    const i = argv.indexOf('--secret')
    expect(argv[i + 1]).toBe('TOKEN')
    expect(argv.some((t) => t.startsWith('TOKEN='))).toBe(false)
  })

  it.each([
    [true, ['--use-spot']],
    [false, ['--no-use-spot']],
    [undefined, []]
  ] as const)('use-spot %s → %j', (useSpot, expected) => {
    const argv = a.launchArgs({ ...base, resources: { useSpot }, cluster: 'c', down: false, detach: false })
    expect(argv.filter((t) => t.includes('use-spot'))).toEqual(expected)
  })

  it('numNodes and diskSize are passed as strings', () => {
    const argv = a.launchArgs({ ...base, resources: { numNodes: 1, diskSize: 50 }, cluster: 'c', down: false, detach: false })
    expect(argv).toEqual(['launch', '-y', '-c', 'c', '--num-nodes', '1', '--disk-size', '50', '/work/task.yaml'])
  })

  it('the task path is the last argument', () => {
    const argv = a.launchArgs({ ...base, resources: ALL, envs: { A: '1' }, secretNames: ['S'], cluster: 'c', down: true, idleMinutes: 1, detach: true, jobName: 'j' })
    expect(argv.at(-1)).toBe('/work/task.yaml')
  })
})

describe('execArgs', () => {
  it('has no -y, --down or -i, and puts cluster then task last', () => {
    const argv = a.execArgs({ ...base, cluster: 'c1', detach: false })
    expect(argv).toEqual(['exec', 'c1', '/work/task.yaml'])
  })

  it('with job name, detach, resources, envs and secrets', () => {
    const argv = a.execArgs({ taskPath: '/t.yaml', envs: { A: 'x y' }, secretNames: ['S'], resources: { gpus: 'H100:1', useSpot: false }, cluster: 'c1', detach: true, jobName: 'j' })
    expect(argv).toEqual(['exec', '-n', 'j', '-d', '--gpus', 'H100:1', '--no-use-spot', '--env', 'A=x y', '--secret', 'S', 'c1', '/t.yaml'])
    for (const f of ['-y', '--down', '-i', '--yes']) expect(argv).not.toContain(f)
  })
})

describe('managedLaunchArgs', () => {
  it('jobs launch -y -n NAME ... task', () => {
    expect(a.managedLaunchArgs({ ...base, name: 'my-job', detach: false })).toEqual(['jobs', 'launch', '-y', '-n', 'my-job', '/work/task.yaml'])
  })

  it('with job recovery, detach, resources, envs and secrets', () => {
    const argv = a.managedLaunchArgs({ taskPath: '/t.yaml', envs: { A: '1' }, secretNames: ['S'], resources: ALL, name: 'j', jobRecovery: 'EAGER_NEXT_REGION', detach: true })
    expect(argv).toEqual([
      'jobs', 'launch', '-y', '-n', 'j', '--job-recovery', 'EAGER_NEXT_REGION', '-d',
      '--infra', 'aws/us-east-1', '--gpus', 'A100:8', '--num-nodes', '2', '--use-spot', '--cpus', '8+', '--memory', '32+', '--disk-size', '256',
      '--env', 'A=1', '--secret', 'S', '/t.yaml'
    ])
    expect(argv).not.toContain('--down')
    expect(argv).not.toContain('-c')
  })
})

describe('small commands', () => {
  it('exact argv', () => {
    expect(a.versionArgs()).toEqual(['--version'])
    expect(a.downArgs(['c1', 'c2'])).toEqual(['down', '-y', 'c1', 'c2'])
    expect(a.statusArgs(['c1'])).toEqual(['status', '-o', 'json', 'c1'])
    expect(a.queueArgs('c1')).toEqual(['queue', '-o', 'json', 'c1'])
    // The whole log unless re-attaching: sky shows only the last 1000 lines without --tail 0.
    expect(a.logsArgs('c1', '7')).toEqual(['logs', '--tail', '0', 'c1', '7'])
    expect(a.logsArgs('c1', '7', false)).toEqual(['logs', 'c1', '7'])
    expect(a.logsStatusArgs('c1', '7')).toEqual(['logs', '--status', 'c1', '7'])
    // Every job (-a: not only the 50 newest), with failure reasons (-v).
    expect(a.jobsQueueArgs()).toEqual(['jobs', 'queue', '-a', '-v', '-o', 'json'])
    expect(a.jobsLogsArgs('12')).toEqual(['jobs', 'logs', '--tail', '0', '12'])
    expect(a.jobsLogsArgs('12', false)).toEqual(['jobs', 'logs', '12'])
    expect(a.jobsCancelArgs(['12', '13'])).toEqual(['jobs', 'cancel', '-y', '12', '13'])
    expect(a.jobsCancelByNameArgs('gha-1-1-train')).toEqual(['jobs', 'cancel', '-y', '-n', 'gha-1-1-train'])
    expect(a.cancelArgs('c1', '7')).toEqual(['cancel', '-y', 'c1', '7'])
    expect(a.apiCancelArgs('1a2b3c4d')).toEqual(['api', 'cancel', '1a2b3c4d'])
    expect(a.apiStatusArgs()).toEqual(['api', 'status', '-v', '-o', 'json'])
  })
})

describe('every argv matches the sky CLI grammar', () => {
  const full = { taskPath: '/t.yaml', envs: { A: '1', B: 'x=y' }, secretNames: ['S1', 'S2'], resources: ALL }
  const cases: [string, string[]][] = [
    ['launch', a.launchArgs({ ...full, cluster: 'c1', down: true, idleMinutes: 10, detach: true, jobName: 'j' })],
    ['launch', a.launchArgs({ ...full, resources: { ...ALL, useSpot: false }, cluster: 'c1', down: false, detach: false })],
    ['launch', a.launchArgs({ ...base, cluster: 'c1', down: false, detach: false })],
    ['exec', a.execArgs({ ...full, cluster: 'c1', detach: true, jobName: 'j' })],
    ['exec', a.execArgs({ ...full, resources: { useSpot: false }, cluster: 'c1', detach: false })],
    ['jobs launch', a.managedLaunchArgs({ ...full, name: 'j', jobRecovery: 'FAILOVER', detach: true })],
    ['jobs launch', a.managedLaunchArgs({ ...full, resources: { useSpot: false }, name: 'j', detach: false })],
    ['down', a.downArgs(['c1', 'c2'])],
    ['status', a.statusArgs(['c1', 'c2'])],
    ['status', a.statusArgs([])],
    ['queue', a.queueArgs('c1')],
    ['logs', a.logsArgs('c1', '3')],
    ['logs', a.logsStatusArgs('c1', '3')],
    ['jobs queue', a.jobsQueueArgs()],
    ['jobs logs', a.jobsLogsArgs('12')],
    ['jobs cancel', a.jobsCancelArgs(['12'])],
    ['api cancel', a.apiCancelArgs('1a2b3c4d')],
    ['logs', a.logsArgs('c1', '3', false)],
    ['jobs logs', a.jobsLogsArgs('12', false)],
    ['jobs cancel', a.jobsCancelByNameArgs('gha-1-1-train')],
    ['cancel', a.cancelArgs('c1', '3')],
    ['api status', a.apiStatusArgs()]
  ]

  it.each(cases)('sky %s: %j', (command, argv) => {
    const parsed = checkAgainstGrammar(argv)
    expect(parsed.command).toBe(command)
  })

  it('launch and exec take the task as an entrypoint and exec takes the cluster first', () => {
    expect(checkAgainstGrammar(a.execArgs({ ...full, cluster: 'c1', detach: false })).positionals).toEqual(['c1', '/t.yaml'])
    expect(checkAgainstGrammar(a.launchArgs({ ...full, cluster: 'c1', down: true, detach: false })).positionals).toEqual(['/t.yaml'])
  })

  it('the checker itself rejects a flag the command does not have', () => {
    expect(() => checkAgainstGrammar(['exec', '--down', 'c1', '/t.yaml'])).toThrow(/has no option --down/)
    expect(() => checkAgainstGrammar(['exec', '-y', 'c1', '/t.yaml'])).toThrow(/has no option -y/)
    expect(() => checkAgainstGrammar(['jobs', 'launch', '--down', '/t.yaml'])).toThrow(/has no option --down/)
    expect(() => checkAgainstGrammar(['jobs', 'logs', '1', 'task', 'extra'])).toThrow(/takes job_id/)
    expect(() => checkAgainstGrammar(['launch', '-c'])).toThrow(/needs a value/)
  })
})

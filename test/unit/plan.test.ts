import { describe, it, expect, vi } from 'vitest'
import { INPUT_NAMES, parseInputs, type Inputs, type RawInputs } from '../../src/inputs.js'
import { DEFAULT_IDLE_MINUTES, buildPlan, describePlan, renderCommand, resolveExtras, resolveVersion, type PlanTaskInput } from '../../src/plan.js'
import { PINNED_SKYPILOT_VERSION } from '../../src/install/plan.js'
import type { RunnerContext } from '../../src/context.js'

function inputs(overrides: Partial<RawInputs> = {}, extra: Partial<Inputs> = {}): Inputs {
  const raw = {} as RawInputs
  for (const name of INPUT_NAMES) raw[name] = ''
  return { ...parseInputs({ ...raw, task: 't.yaml', ...overrides }, {}), ...extra }
}

const ctx: RunnerContext = {
  workspace: '/ws', temp: '/tmp/rt', toolCache: '/opt/hostedtoolcache', runId: '123', runAttempt: '1', job: 'build',
  repository: 'o/r', serverUrl: 'https://github.com', os: 'linux', arch: 'x64'
}

function task(overrides: Partial<PlanTaskInput> = {}): PlanTaskInput {
  return { name: 'train', label: 'examples/train.yaml', path: '/ws/examples/train.yaml', cwd: '/ws', cluster: 'gha-123-1-build', envs: {}, clouds: [], ...overrides }
}

const resolved = { version: '0.14.1', versionFrom: 'pinned' as const, extras: ['aws'], extrasFrom: 'task' as const }

describe('resolveVersion', () => {
  it('prefers the input, then the server, then the pinned version', () => {
    expect(resolveVersion(inputs({ 'skypilot-version': '0.13.0' }), '0.14.0')).toEqual({ version: '0.13.0', from: 'input' })
    expect(resolveVersion(inputs(), '0.14.0')).toEqual({ version: '0.14.0', from: 'server' })
    expect(resolveVersion(inputs(), undefined)).toEqual({ version: PINNED_SKYPILOT_VERSION, from: 'pinned' })
  })
})

describe('resolveExtras', () => {
  it('uses the input as given', () => {
    expect(resolveExtras(inputs({ 'skypilot-extras': 'gcp' }), ['aws'], ['azure'])).toEqual({ extras: ['gcp'], from: 'input' })
  })

  it('installs no extras with a remote server', () => {
    expect(resolveExtras(inputs({}, { apiServer: { endpoint: 'https://sky.example.com' } }), ['aws'], ['gcp'])).toEqual({ extras: [], from: 'server' })
  })

  it('unions the task clouds, the infra input and the credential clouds, sorted and deduplicated', () => {
    expect(resolveExtras(inputs({ infra: 'k8s/my-ctx' }), ['gcp', 'aws'], ['aws'])).toEqual({ extras: ['aws', 'gcp', 'kubernetes'], from: 'task' })
  })

  it('drops names SkyPilot does not know as clouds, and a wildcard infra', () => {
    expect(resolveExtras(inputs({ infra: '*' }), ['not-a-cloud'], [])).toEqual({ extras: [], from: 'task' })
  })
})

describe('buildPlan', () => {
  it('launch with down: tears the cluster down and sets the default idle backstop', () => {
    const plan = buildPlan(inputs(), [task()], resolved)
    expect(plan.idleMinutes).toBe(DEFAULT_IDLE_MINUTES)
    expect(DEFAULT_IDLE_MINUTES).toBe(10)
    expect(plan.teardown).toEqual(['gha-123-1-build'])
    expect(plan.keep).toEqual([])
    expect(plan.tasks).toEqual([{
      name: 'train', label: 'examples/train.yaml', cluster: 'gha-123-1-build', taskPath: '/ws/examples/train.yaml', cwd: '/ws',
      argv: ['launch', '-y', '-c', 'gha-123-1-build', '--down', '-i', '10', '/ws/examples/train.yaml'], accelerators: undefined
    }])
    expect(plan).toMatchObject({ mode: 'launch', version: '0.14.1', versionFrom: 'pinned', extras: ['aws'], extrasFrom: 'task', down: true, detach: false })
  })

  it('launch with down false: keeps the cluster, says why, no idle default', () => {
    const plan = buildPlan(inputs({ down: 'false' }), [task()], resolved)
    expect(plan.teardown).toEqual([])
    expect(plan.keep).toEqual([{ cluster: 'gha-123-1-build', why: 'down is false' }])
    expect(plan.idleMinutes).toBeUndefined()
    expect(plan.tasks[0]?.argv).toEqual(['launch', '-y', '-c', 'gha-123-1-build', '/ws/examples/train.yaml'])
  })

  it('an explicit idle value wins', () => {
    const plan = buildPlan(inputs({ 'idle-minutes-to-autostop': '30' }), [task()], resolved)
    expect(plan.idleMinutes).toBe(30)
    expect(plan.tasks[0]?.argv).toContain('30')
  })

  it('detached: keeps the cluster (it downs itself) and says how to collect it', () => {
    const plan = buildPlan(inputs({}, { detach: true, apiServer: { endpoint: 'https://s' } }), [task()], resolved)
    expect(plan.teardown).toEqual([])
    expect(plan.keep).toHaveLength(1)
    expect(plan.keep[0]?.cluster).toBe('gha-123-1-build')
    expect(plan.keep[0]?.why).toContain('mode: collect')
    expect(plan.tasks[0]?.argv).toContain('-d')
    expect(plan.tasks[0]?.argv).toContain('--down')
  })

  it('exec: no idle default, no -y/--down, exec argv on the named cluster, nothing torn down', () => {
    const plan = buildPlan(inputs({ mode: 'exec', 'cluster-name': 'my-cluster' }), [task({ cluster: 'my-cluster' })], resolved)
    expect(plan.idleMinutes).toBeUndefined()
    expect(plan.tasks[0]?.argv).toEqual(['exec', 'my-cluster', '/ws/examples/train.yaml'])
    expect(plan.teardown).toEqual([])
    expect(plan.keep).toEqual([{ cluster: 'my-cluster', why: 'down is false' }])
  })

  it('managed: no cluster, uses jobs launch, no idle default and nothing to tear down', () => {
    const plan = buildPlan(inputs({ mode: 'managed', 'job-recovery': 'FAILOVER' }), [task()], resolved)
    expect(plan.tasks[0]?.cluster).toBeUndefined()
    expect(plan.tasks[0]?.argv).toEqual(['jobs', 'launch', '-y', '-n', 'gha-123-1-build', '--job-recovery', 'FAILOVER', '/ws/examples/train.yaml'])
    expect(plan.idleMinutes).toBeUndefined()
    expect(plan.teardown).toEqual([])
    expect(plan.keep).toEqual([])
  })

  it('managed with a job name uses it', () => {
    const plan = buildPlan(inputs({ mode: 'managed', 'job-name': 'nightly' }), [task()], resolved)
    expect(plan.tasks[0]?.argv.slice(0, 5)).toEqual(['jobs', 'launch', '-y', '-n', 'nightly'])
  })

  it('fan-out: each task gets its own argv, task envs override step envs, secrets go by name', () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
    const inp = inputs({ envs: 'LR=0.1\nSHARED=step', secrets: 'HF_TOKEN=hf_value' })
    out.mockRestore()
    const plan = buildPlan(inp, [
      task({ name: 'a', cluster: 'c-t1', path: '/ws/a.yaml', envs: { LR: '0.01' } }),
      task({ name: 'b', cluster: 'c-t2', path: '/ws/b.yaml', envs: { EXTRA: 'x' } })
    ], resolved)
    expect(plan.tasks.map((t) => t.argv)).toEqual([
      ['launch', '-y', '-c', 'c-t1', '--down', '-i', '10', '--env', 'LR=0.01', '--env', 'SHARED=step', '--secret', 'HF_TOKEN', '/ws/a.yaml'],
      ['launch', '-y', '-c', 'c-t2', '--down', '-i', '10', '--env', 'LR=0.1', '--env', 'SHARED=step', '--env', 'EXTRA=x', '--secret', 'HF_TOKEN', '/ws/b.yaml']
    ])
    expect(plan.teardown).toEqual(['c-t1', 'c-t2'])
    expect(plan.secretNames).toEqual(['HF_TOKEN'])
  })

  it('collect with a cluster name tears that cluster down', () => {
    const raw = {} as RawInputs
    for (const name of INPUT_NAMES) raw[name] = ''
    const inp = parseInputs({ ...raw, mode: 'collect', 'job-id': '4', 'cluster-name': 'kept' }, {})
    const plan = buildPlan(inp, [], resolved)
    expect(plan.teardown).toEqual(['kept'])
  })

  it('sorts the secret names', () => {
    const plan = buildPlan(inputs({}, { secrets: { ZED: '1', ALPHA: '2' } }), [task()], resolved)
    expect(plan.secretNames).toEqual(['ALPHA', 'ZED'])
  })
})

describe('renderCommand', () => {
  it('leaves plain words alone', () => {
    expect(renderCommand(['sky', 'launch', '-y', '-c', 'c1', '--env', 'A=1', '/ws/t.yaml', 'aws/us-east-1', 'A100:8', '8+'])).toBe('sky launch -y -c c1 --env A=1 /ws/t.yaml aws/us-east-1 A100:8 8+')
  })

  it('quotes spaces, quotes, $(...) and backticks', () => {
    expect(renderCommand(['--env', 'MSG=hello world'])).toBe(`--env 'MSG=hello world'`)
    expect(renderCommand(["it's"])).toBe(`'it'\\''s'`)
    expect(renderCommand(['$(rm -rf /)'])).toBe(`'$(rm -rf /)'`)
    expect(renderCommand(['`id`'])).toBe("'`id`'")
    expect(renderCommand(['"double"'])).toBe(`'"double"'`)
    expect(renderCommand(['a;b'])).toBe(`'a;b'`)
    expect(renderCommand([''])).toBe(`''`)
  })
})

describe('describePlan', () => {
  const SECRET_VALUES = ['hf_SuperSecretValue123', 'wandb-key-7788']

  function planWithSecrets(overrides: Partial<RawInputs> = {}) {
    const inp = inputs({ envs: 'LR=0.1', ...overrides }, { secrets: { HF_TOKEN: SECRET_VALUES[0]!, WANDB_API_KEY: SECRET_VALUES[1]! } })
    return buildPlan(inp, [task()], resolved)
  }

  it('lists the install commands with uv, the sky command and the teardown commands', () => {
    const lines = describePlan(planWithSecrets(), ctx, { uv: '/usr/bin/uv', python: '/usr/bin/python3' })
    const text = lines.join('\n')
    expect(lines[0]).toContain('SkyPilot 0.14.1 (pinned default), package skypilot[aws]==0.14.1')
    expect(lines).toContain('/usr/bin/uv venv --seed --quiet --python /usr/bin/python3 /opt/hostedtoolcache/skypilot/0.14.1/aws/x64/venv')
    expect(lines).toContain("/usr/bin/uv pip install --quiet --python /opt/hostedtoolcache/skypilot/0.14.1/aws/x64/venv/bin/python 'skypilot[aws]==0.14.1'")
    expect(lines).toContain('sky launch -y -c gha-123-1-build --down -i 10 --env LR=0.1 --secret HF_TOKEN --secret WANDB_API_KEY /ws/examples/train.yaml')
    expect(lines).toContain('sky down -y gha-123-1-build')
    expect(text).toContain('sky status -o json gha-123-1-build')
    expect(text).toContain('# train: examples/train.yaml (cwd /ws)')
    expect(text).toContain('secrets HF_TOKEN, WANDB_API_KEY reach sky through its environment')
    expect(text).not.toContain('uvx')
  })

  it('uses python -m venv and pip without uv', () => {
    const lines = describePlan(planWithSecrets(), ctx, {})
    expect(lines).toContain('python3 -m venv /opt/hostedtoolcache/skypilot/0.14.1/aws/x64/venv')
    expect(lines.some((l) => l.startsWith('/opt/hostedtoolcache/skypilot/0.14.1/aws/x64/venv/bin/python -m pip install'))).toBe(true)
  })

  it('says how to remove a kept cluster', () => {
    const lines = describePlan(planWithSecrets({ down: 'false' }), ctx, {})
    expect(lines.join('\n')).toContain('gha-123-1-build is left running: down is false. Remove it with: sky down -y gha-123-1-build')
    expect(lines.join('\n')).not.toContain('post step')
  })

  it('names the API server and that its version wins', () => {
    const lines = describePlan(planWithSecrets(), ctx, {}, 'https://sky.example.com')
    expect(lines.join('\n')).toContain('# API server: https://sky.example.com (its version is read from /api/health')
  })

  it('never holds a secret value', () => {
    for (const overrides of [{}, { down: 'false' }, { mode: 'managed' }] as Partial<RawInputs>[]) {
      const text = describePlan(planWithSecrets(overrides), ctx, { uv: 'uv' }).join('\n')
      for (const value of SECRET_VALUES) expect(text).not.toContain(value)
    }
  })
})

describe('buildPlan: where it runs', () => {
  it('on Slurm (by the infra input or every task): the idle autodown is not promised, and no price is asked for', () => {
    const byInput = buildPlan(inputs({ infra: 'slurm' }), [task()], resolved)
    expect([byInput.onSlurm, byInput.unpriced]).toEqual([true, 'Slurm'])
    const byTask = buildPlan(inputs(), [task({ clouds: ['slurm'] })], resolved)
    expect([byTask.onSlurm, byTask.unpriced]).toEqual([true, 'Slurm'])
    const detached = buildPlan(inputs({ infra: 'slurm' }, { detach: true, apiServer: { endpoint: 'https://s' } }), [task()], resolved)
    expect(detached.keep[0]!.why).toMatch(/on Slurm, SkyPilot's idle autodown is not to count on/)
    expect(buildPlan(inputs({ infra: 'k8s' }), [task()], resolved).unpriced).toBe('Kubernetes')
    const mixed = buildPlan(inputs(), [task({ clouds: ['slurm'] }), task({ clouds: ['aws'] })], resolved)
    expect([mixed.onSlurm, mixed.unpriced]).toEqual([false, undefined])
    expect(buildPlan(inputs(), [task()], resolved).onSlurm).toBe(false)
  })
})

import { describe, it, expect, vi, afterEach } from 'vitest'
import { INPUT_NAMES, isGitUrl, parseInputs, type RawInputs } from '../../src/inputs.js'
import { UserError } from '../../src/errors.js'

function raw(overrides: Partial<RawInputs> = {}): RawInputs {
  const r = {} as RawInputs
  for (const name of INPUT_NAMES) r[name] = ''
  return { ...r, ...overrides }
}

/** A task plus whatever else; the env is empty unless given. */
function parse(overrides: Partial<RawInputs> = {}, env: NodeJS.ProcessEnv = {}) {
  return parseInputs(raw({ task: 'task.yaml', ...overrides }), env)
}

function problemsOf(overrides: Partial<RawInputs>, env: NodeJS.ProcessEnv = {}, withTask = true): string[] {
  try {
    parseInputs(raw(withTask ? { task: 'task.yaml', ...overrides } : overrides), env)
  } catch (error) {
    expect(error).toBeInstanceOf(UserError)
    return (error as UserError).problems
  }
  throw new Error('expected a UserError')
}

function silenceStdout() {
  return vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('parseInputs: defaults', () => {
  it('uses the documented defaults', () => {
    const inputs = parse()
    expect(inputs.mode).toBe('launch')
    expect(inputs.down).toBe(true)
    expect(inputs.retries).toBe(2)
    expect(inputs.retryDelaySeconds).toBe(30)
    expect(inputs.maxParallel).toBe(4)
    expect(inputs.idleMinutes).toBeUndefined()
    expect(inputs.detach).toBe(false)
    expect(inputs.dryRun).toBe(false)
    expect(inputs.failFast).toBe(false)
    expect(inputs.retryOnJobFailure).toBe(false)
    expect(inputs.waitMinutes).toBe(300)
    expect(inputs.clusterPrefix).toBe('gha')
    expect(inputs.apiServer).toBeUndefined()
    expect(inputs.source).toEqual({ kind: 'workspace', task: 'task.yaml' })
    expect(inputs.resources).toEqual({ infra: undefined, gpus: undefined, numNodes: undefined, useSpot: undefined, cpus: undefined, memory: undefined, diskSize: undefined })
    expect(inputs.envs).toEqual({})
    expect(inputs.secrets).toEqual({})
  })

  it('defaults down to false for mode exec', () => {
    expect(parse({ mode: 'exec', 'cluster-name': 'my-cluster' }).down).toBe(false)
  })

  it('keeps an explicit down for exec', () => {
    expect(parse({ mode: 'exec', 'cluster-name': 'my-cluster', down: 'true' }).down).toBe(true)
  })

  it('reads explicit values', () => {
    const inputs = parse({
      'num-nodes': '2', 'use-spot': 'yes', gpus: 'A100:8', infra: 'gcp/us-central1', cpus: '8+', memory: '32', 'disk-size': '100',
      down: 'false', 'idle-minutes-to-autostop': '0', retries: '20', 'retry-delay-seconds': '0', 'max-parallel': '256',
      'skypilot-extras': 'kubernetes, aws,aws', 'skypilot-version': '0.14.1', mode: 'LAUNCH'
    })
    expect(inputs.resources).toEqual({ infra: 'gcp/us-central1', gpus: 'A100:8', numNodes: 2, useSpot: true, cpus: '8+', memory: '32', diskSize: 100 })
    expect(inputs.down).toBe(false)
    expect(inputs.idleMinutes).toBe(0)
    expect(inputs.retries).toBe(20)
    expect(inputs.retryDelaySeconds).toBe(0)
    expect(inputs.maxParallel).toBe(256)
    expect(inputs.skypilotExtras).toEqual(['aws', 'kubernetes'])
    expect(inputs.skypilotVersion).toBe('0.14.1')
    expect(inputs.mode).toBe('launch')
  })

  it('reads use-spot false as false (not as unset)', () => {
    expect(parse({ 'use-spot': 'false' }).resources.useSpot).toBe(false)
  })
})

describe('parseInputs: invalid values', () => {
  it('reports every problem at once', () => {
    const problems = problemsOf({ 'num-nodes': 'two', 'use-spot': 'maybe', retries: '21', 'disk-size': '0' })
    expect(problems).toHaveLength(4)
    expect(problems.some((p) => p.includes("'num-nodes'"))).toBe(true)
    expect(problems.some((p) => p.includes("'use-spot'"))).toBe(true)
    expect(problems.some((p) => p.includes("'retries'"))).toBe(true)
    expect(problems.some((p) => p.includes("'disk-size'"))).toBe(true)
    let error: UserError | undefined
    try {
      parse({ 'num-nodes': 'two', 'use-spot': 'maybe', retries: '21', 'disk-size': '0' })
    } catch (e) {
      error = e as UserError
    }
    expect(error?.message).toMatch(/^4 problems:/)
  })

  it.each([
    ['num-nodes', 'two', "'num-nodes' must be a whole number from 1 to 1000, got 'two'."],
    ['num-nodes', '-1', "'num-nodes' must be a whole number from 1 to 1000, got '-1'."],
    ['num-nodes', '1.5', "'num-nodes' must be a whole number from 1 to 1000, got '1.5'."],
    ['num-nodes', '0', "'num-nodes' must be a whole number from 1 to 1000, got '0'."],
    ['use-spot', 'maybe', "'use-spot' must be true, false or empty, got 'maybe'."],
    ['retries', '21', "'retries' must be a whole number from 0 to 20, got '21'."],
    ['disk-size', '0', "'disk-size' must be a whole number from 1 to 65536, got '0'."],
    ['detach', 'sometimes', "'detach' must be true or false, got 'sometimes'."],
    ['mode', 'serve', "'mode' must be launch, exec, managed, collect, down or report, got 'serve'."]
  ] as const)('%s = %j: %s', (name, value, message) => {
    expect(problemsOf({ [name]: value })).toEqual([message])
  })

  it.each([
    ['gpus', 'A100:1; rm -rf', 'A100:1 or H100:8'],
    ['infra', 'aws us-east-1', 'aws, gcp/us-central1 or k8s/my-context'],
    ['skypilot-version', '1.0; echo', '0.14.1 or nightly'],
    ['cpus', '4 cores', '4 or 8+'],
    ['memory', '--help', '16 or 32+'],
    ['infra', '--cloud=aws', 'aws, gcp/us-central1 or k8s/my-context'],
    ['gpus', '-A100', 'A100:1 or H100:8']
  ] as const)('%s = %j is refused with an example', (name, value, example) => {
    const problems = problemsOf({ [name]: value })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toBe(`'${name}' has an invalid value '${value}'; expected something like ${example}.`)
  })

  it('refuses an invalid cluster-name, saying the rule', () => {
    const problems = problemsOf({ 'cluster-name': 'Bad_' })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^'cluster-name': cluster name 'Bad_' is not valid: it must start with a letter, end with a letter or digit/)
  })

  it('refuses a reserved cluster-name prefix', () => {
    expect(problemsOf({ 'cluster-name': 'sky-jobs-controller-x' })[0]).toContain('reserves for its controllers')
  })

  it("refuses an invalid job-name by SkyPilot's task-name rule, calling it a job name", () => {
    for (const name of ['train---v2', 'train_', 'bad name']) expect(problemsOf({ 'job-name': name })[0]).toMatch(new RegExp(`^'job-name': job name '${name}' is not valid: SkyPilot wants letters and digits, separated by one or two`))
  })

  it('accepts job names that the cluster rule would refuse but SkyPilot accepts (task-name rule)', () => {
    expect(parse({ 'job-name': '9lives', mode: 'managed' }).jobName).toBe('9lives')
    expect(parse({ 'job-name': 'Train..v2', mode: 'managed' }).jobName).toBe('Train..v2')
  })

  it('a managed job named after its cluster name needs that name to be a job name too', () => {
    expect(problemsOf({ mode: 'managed', 'cluster-name': 'a---b' }).join('\n')).toMatch(/'cluster-name' names the managed job here.*Set 'job-name'/)
    expect(parse({ mode: 'managed', 'cluster-name': 'a---b', 'job-name': 'ab' }).jobName).toBe('ab')
  })

  it('refuses a cluster-prefix longer than 20 characters', () => {
    expect(problemsOf({ 'cluster-prefix': 'a'.repeat(21) })[0]).toContain("'cluster-prefix' must start with a letter and hold at most 20")
  })

  it('accepts nightly and dev versions', () => {
    expect(parse({ 'skypilot-version': 'nightly' }).skypilotVersion).toBe('nightly')
    expect(parse({ 'skypilot-version': '1.0.0.dev20250101' }).skypilotVersion).toBe('1.0.0.dev20250101')
  })

  it('refuses a bad extra name', () => {
    expect(problemsOf({ 'skypilot-extras': 'aws,../x' })[0]).toContain("'../x' is not an extra name")
  })

  it('refuses git-ref with ..', () => {
    const problems = problemsOf({ 'base-path': 'https://github.com/org/repo.git', task: 't.yaml', 'git-ref': 'main..evil' })
    expect(problems).toContain("'git-ref' must not contain '..'.")
  })

  it('refuses job-recovery outside managed mode', () => {
    expect(problemsOf({ 'job-recovery': 'FAILOVER' })).toEqual(["'job-recovery' applies to managed jobs only: set 'mode: managed'."])
    expect(parse({ 'job-recovery': 'FAILOVER', mode: 'managed' }).jobRecovery).toBe('FAILOVER')
  })
})

describe('parseInputs: task source', () => {
  it('reads a directory base-path', () => {
    expect(parse({ 'base-path': 'examples', task: 'train.yaml' }).source).toEqual({ kind: 'directory', basePath: 'examples', task: 'train.yaml' })
  })

  it('reads inline task-yaml verbatim', () => {
    const yaml = 'run: echo hi\n'
    expect(parseInputs(raw({ 'task-yaml': yaml }), {}).source).toEqual({ kind: 'inline', yaml })
  })

  it('refuses task-yaml together with task', () => {
    const problems = problemsOf({ 'task-yaml': 'run: echo hi', task: 't.yaml' }, {}, false)
    expect(problems).toEqual(["Give either 'task-yaml' (inline) or 'task'/'base-path' (a file), not both."])
  })

  it('refuses base-path without task', () => {
    const problems = problemsOf({ 'base-path': 'examples' }, {}, false)
    expect(problems).toEqual(["'base-path' needs 'task': the task YAML's path relative to it, e.g. train.yaml."])
  })

  it('refuses git-ref without a git URL', () => {
    expect(problemsOf({ 'git-ref': 'main' })).toEqual(["'git-ref' needs 'base-path' set to a git URL."])
    const problems = problemsOf({ 'git-ref': 'main', 'base-path': 'examples' })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toContain("'git-ref' applies to a git URL in 'base-path', but 'examples' is a directory.")
  })

  it('refuses no task at all, listing the ways to give one', () => {
    const problems = problemsOf({}, {}, false)
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^No task given: set 'task'/)
    expect(problems[0]).toContain("'task-yaml'")
    expect(problems[0]).toContain("'tasks'")
  })

  it.each([
    'https://github.com/org/repo.git',
    'git@github.com:org/repo.git',
    'ssh://git@github.com/org/repo.git',
    'file:///tmp/repo'
  ])('detects %s as a git URL', (url) => {
    expect(isGitUrl(url)).toBe(true)
    expect(parse({ 'base-path': url, task: 'train.yaml', 'git-ref': 'v1.2' }).source).toEqual({ kind: 'git', url, ref: 'v1.2', task: 'train.yaml' })
  })

  it.each(['examples', './examples', '/abs/path', 'dir:with:colon'])('treats %s as a directory', (p) => {
    expect(isGitUrl(p)).toBe(false)
  })

  it('refuses credentials in an https git URL', () => {
    const problems = problemsOf({ 'base-path': 'https://user:token@github.com/org/repo.git', task: 't.yaml' })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toContain("'base-path' holds credentials in the URL; remove them")
    expect(problems[0]).toContain('deploy key')
  })

  it('refuses a token-only https git URL', () => {
    expect(problemsOf({ 'base-path': 'https://ghp_xxx@github.com/org/repo.git', task: 't.yaml' })[0]).toContain('holds credentials')
  })

  it('refuses plain http git URLs', () => {
    const problems = problemsOf({ 'base-path': 'http://example.com/repo.git', task: 't.yaml' })
    expect(problems).toEqual(["'base-path' uses plain http; use https (or ssh) so the task cannot be tampered with in transit."])
  })
})

describe('parseInputs: API server and token', () => {
  it('reads the endpoint from the input and strips trailing slashes', () => {
    silenceStdout()
    expect(parse({ 'api-server-endpoint': 'https://sky.example.com/' }).apiServer).toEqual({ endpoint: 'https://sky.example.com', token: undefined })
  })

  it('reads the endpoint and the token from env', () => {
    silenceStdout()
    const inputs = parse({}, { SKYPILOT_API_SERVER_ENDPOINT: 'https://sky.example.com', SKYPILOT_SERVICE_ACCOUNT_TOKEN: 'sky_abc123' })
    expect(inputs.apiServer).toEqual({ endpoint: 'https://sky.example.com', token: 'sky_abc123' })
  })

  it('prefers the input over env', () => {
    silenceStdout()
    const inputs = parse({ 'api-server-endpoint': 'https://a.example.com', 'service-account-token': 'sky_input' }, { SKYPILOT_API_SERVER_ENDPOINT: 'https://b.example.com', SKYPILOT_SERVICE_ACCOUNT_TOKEN: 'sky_env' })
    expect(inputs.apiServer).toEqual({ endpoint: 'https://a.example.com', token: 'sky_input' })
  })

  it("refuses a token that does not start with sky_", () => {
    silenceStdout()
    const problems = problemsOf({ 'api-server-endpoint': 'https://sky.example.com', 'service-account-token': 'abc' })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toContain("must start with 'sky_'")
  })

  it('refuses a token without an endpoint', () => {
    silenceStdout()
    const problems = problemsOf({}, { SKYPILOT_SERVICE_ACCOUNT_TOKEN: 'sky_abc' })
    expect(problems).toEqual(["'service-account-token' is given but no API server: set 'api-server-endpoint' (or env SKYPILOT_API_SERVER_ENDPOINT)."])
  })

  it.each(['not a url', 'ftp://x.example.com'])('refuses the endpoint %j', (endpoint) => {
    silenceStdout()
    const problems = problemsOf({ 'api-server-endpoint': endpoint })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toContain("'api-server-endpoint'")
  })

  it('refuses detach without a server, saying the state dies with the runner', () => {
    const problems = problemsOf({ detach: 'true' })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toContain("'detach: true' needs a remote API server")
    expect(problems[0]).toContain('dies with it')
  })

  it('accepts detach with a server', () => {
    silenceStdout()
    expect(parse({ detach: 'true', 'api-server-endpoint': 'https://sky.example.com' }).detach).toBe(true)
  })
})

describe('parseInputs: modes', () => {
  it('refuses exec without cluster-name', () => {
    const problems = problemsOf({ mode: 'exec' })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^'mode: exec' runs on an existing cluster: set 'cluster-name'/)
  })

  it('refuses collect without job-id', () => {
    const problems = problemsOf({ mode: 'collect' }, {}, false)
    expect(problems).toEqual(["'mode: collect' needs 'job-id': the id the detached launch gave as its 'job-id' output."])
  })

  it('refuses collect with a task', () => {
    const problems = problemsOf({ mode: 'collect', 'job-id': '42' })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toContain("'mode: collect' takes no task")
  })

  it('accepts collect with a job id and no task', () => {
    const inputs = parseInputs(raw({ mode: 'collect', 'job-id': '42' }), {})
    expect(inputs.mode).toBe('collect')
    expect(inputs.jobId).toBe('42')
    expect(inputs.source).toBeUndefined()
  })

  it('refuses a non-numeric job-id', () => {
    expect(problemsOf({ mode: 'collect', 'job-id': '42; ls' }, {}, false)[0]).toContain("'job-id' has an invalid value")
  })
})

describe('parseInputs: tasks fan-out', () => {
  it('reads a YAML list with envs as a map or as KEY=VALUE text', () => {
    const tasks = `
- task: examples/a.yaml
  envs: {LR: 0.01, EPOCHS: 3}
- name: second
  task: examples/b.yaml
  envs: |
    LR=0.1
    MSG=hello world
- task-yaml: "run: echo hi"
  cluster-name: my-own
`
    const inputs = parseInputs(raw({ tasks }), {})
    expect(inputs.source).toBeUndefined()
    expect(inputs.tasks).toEqual([
      { name: 'task-1', source: { kind: 'workspace', task: 'examples/a.yaml' }, envs: { LR: '0.01', EPOCHS: '3' }, clusterName: undefined },
      { name: 'second', source: { kind: 'workspace', task: 'examples/b.yaml' }, envs: { LR: '0.1', MSG: 'hello world' }, clusterName: undefined },
      { name: 'task-3', source: { kind: 'inline', yaml: 'run: echo hi' }, envs: {}, clusterName: 'my-own' }
    ])
  })

  it('reads a JSON list', () => {
    const inputs = parseInputs(raw({ tasks: JSON.stringify([{ task: 'a.yaml', envs: { A: '1' } }, { 'base-path': 'https://github.com/o/r.git', task: 'b.yaml', 'git-ref': 'main' }]) }), {})
    expect(inputs.tasks).toHaveLength(2)
    expect(inputs.tasks?.[0]?.envs).toEqual({ A: '1' })
    expect(inputs.tasks?.[1]?.source).toEqual({ kind: 'git', url: 'https://github.com/o/r.git', ref: 'main', task: 'b.yaml' })
  })

  it('refuses duplicate names', () => {
    const problems = problemsOf({ tasks: '[{name: a, task: x.yaml}, {name: a, task: y.yaml}]' }, {}, false)
    expect(problems).toEqual(["'tasks' item 2: the name 'a' is used twice; names must be unique."])
  })

  it('refuses unknown keys, listing the known ones', () => {
    const problems = problemsOf({ tasks: '[{task: x.yaml, gpu: A100}]' }, {}, false)
    expect(problems).toHaveLength(1)
    expect(problems[0]).toContain("'tasks' item 1 has unknown key 'gpu'")
    expect(problems[0]).toContain('known keys: name, task')
  })

  it('refuses more than 256 items', () => {
    const list = Array.from({ length: 257 }, (_, i) => ({ task: `t${i}.yaml` }))
    const problems = problemsOf({ tasks: JSON.stringify(list) }, {}, false)
    expect(problems[0]).toBe("'tasks' has 257 items; at most 256 run from one step (split it with a matrix).")
  })

  // BUG (src/inputs.ts, parseInputs, `else if (!source && !tasks)`): when 'tasks' is given but
  // invalid (too many items, empty list, broken YAML), parseFanout returns undefined and the user
  // also gets "No task given: set ... or 'tasks' (a list)", which is false: they did set 'tasks'.
  it.each([
    ['257 items', JSON.stringify(Array.from({ length: 257 }, (_, i) => ({ task: `t${i}.yaml` })))],
    ['an empty list', '[]'],
    ['broken YAML', '[{task: x.yaml']
  ])("does not also claim 'No task given' when 'tasks' holds %s", (_what, tasks) => {
    const problems = problemsOf({ tasks }, {}, false)
    expect(problems).toHaveLength(1)
    expect(problems.join('\n')).not.toContain('No task given')
  })

  it('accepts exactly 256 items', () => {
    const list = Array.from({ length: 256 }, (_, i) => ({ task: `t${i}.yaml` }))
    expect(parseInputs(raw({ tasks: JSON.stringify(list) }), {}).tasks).toHaveLength(256)
  })

  it('refuses tasks together with task', () => {
    const problems = problemsOf({ tasks: '[{task: x.yaml}]' })
    expect(problems).toEqual(["Give either 'tasks' (fan-out) or one task ('task', 'base-path' + 'task', or 'task-yaml'), not both."])
  })

  it('refuses an empty list, a map and broken YAML', () => {
    expect(problemsOf({ tasks: '[]' }, {}, false)[0]).toContain("'tasks' must be a non-empty list")
    expect(problemsOf({ tasks: 'task: x.yaml' }, {}, false)[0]).toContain("'tasks' must be a non-empty list")
    expect(problemsOf({ tasks: '[{task: x.yaml' }, {}, false)[0]).toContain("'tasks' is not valid YAML/JSON")
  })

  it('refuses an item without a task, and bad envs in an item', () => {
    const problems = problemsOf({ tasks: '[{name: a}, {task: y.yaml, envs: {"1BAD": x}}]' }, {}, false)
    expect(problems).toHaveLength(2)
    expect(problems[0]).toBe("'tasks' item 1 needs 'task' or 'task-yaml'.")
    expect(problems[1]).toContain("'tasks' item 2 'envs': '1BAD' is not a valid name")
  })

  it('refuses tasks with another mode, with cluster-name, or with detach', () => {
    expect(problemsOf({ tasks: '[{task: x.yaml}]', mode: 'managed' }, {}, false)).toEqual(["'tasks' (fan-out) runs with mode 'launch' only, not 'managed'."])
    expect(problemsOf({ tasks: '[{task: x.yaml}]', 'cluster-name': 'c1' }, {}, false)[0]).toContain("With 'tasks', set each task's 'cluster-name'")
    silenceStdout()
    expect(problemsOf({ tasks: '[{task: x.yaml}]', detach: 'true', 'api-server-endpoint': 'https://sky.example.com' }, {}, false)).toEqual(["'detach' cannot be combined with 'tasks'."])
  })

  it('refuses a YAML alias in tasks', () => {
    const problems = problemsOf({ tasks: '- &a {task: x.yaml}\n- *a\n' }, {}, false)
    expect(problems[0]).toContain("'tasks' is not valid YAML/JSON")
  })
})

describe('parseInputs: secrets', () => {
  it.each(['PATH', 'SKYPILOT_X', 'LD_PRELOAD', 'GITHUB_TOKEN', 'PYTHONPATH'])('refuses the reserved name %s', (name) => {
    silenceStdout()
    const problems = problemsOf({ secrets: `${name}=value` })
    expect(problems).toEqual([`'secrets': '${name}' is reserved (it would change how sky itself runs); rename the secret in the task and here.`])
  })

  it('refuses a name given both in envs and in secrets', () => {
    silenceStdout()
    expect(problemsOf({ secrets: 'A=1', envs: 'A=2' })).toEqual(["'A' is given both in 'envs' and in 'secrets'; keep it in one."])
  })

  it('reads secrets and envs', () => {
    silenceStdout()
    const inputs = parse({ secrets: 'HF_TOKEN=hf_abc\nWANDB=$(x)', envs: '{"LR": 0.1}' })
    expect(inputs.secrets).toEqual({ HF_TOKEN: 'hf_abc', WANDB: '$(x)' })
    expect(inputs.envs).toEqual({ LR: '0.1' })
  })
})

describe('parseInputs: masking', () => {
  function masked(spy: ReturnType<typeof silenceStdout>): string[] {
    return spy.mock.calls.map((c) => String(c[0])).filter((s) => s.startsWith('::add-mask::'))      .map((s) => s.slice('::add-mask::'.length).replace(/\r?\n$/, ''))
      // The runner unescapes command data: %0D, %0A, then %25.
      .map((s) => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%'))
  }

  it('masks every secret value, the token, the endpoint and the password in it', () => {
    const spy = silenceStdout()
    parse(
      { secrets: 'A=first-secret\nB=second secret value', 'api-server-endpoint': 'https://user:p4ss@sky.example.com' },
      { SKYPILOT_SERVICE_ACCOUNT_TOKEN: 'sky_token_value' }
    )
    const masks = masked(spy)
    expect(masks).toContain('first-secret')
    expect(masks).toContain('second secret value')
    expect(masks).toContain('sky_token_value')
    expect(masks).toContain('https://user:p4ss@sky.example.com')
    expect(masks).toContain('p4ss')
    expect(masks).toContain('user:p4ss')
  })

  it('masks the decoded password too', () => {
    const spy = silenceStdout()
    parse({ 'api-server-endpoint': 'https://user:p%40ss@sky.example.com' })
    const masks = masked(spy)
    expect(masks).toContain('p@ss')
    expect(masks).toContain('p%40ss')
  })

  it('masks each line of a multi-line secret', () => {
    const spy = silenceStdout()
    const key = '-----BEGIN KEY-----\nAAAAlineone\nBBBBlinetwo\n-----END KEY-----'
    parse({ secrets: JSON.stringify({ KEY: key }) })
    const masks = masked(spy)
    expect(masks).toContain(key)
    // A command is one line: the raw value's newlines are escaped on the wire.
    expect(spy.mock.calls.map((c) => String(c[0]))).toContain(`::add-mask::${key.replace(/\n/g, '%0A')}\n`)
    for (const line of key.split('\n')) expect(masks).toContain(line)
  })

  it('masks secrets even when other inputs are invalid', () => {
    const spy = silenceStdout()
    expect(() => parse({ secrets: 'S=still-masked', 'num-nodes': 'bad' })).toThrow(UserError)
    expect(masked(spy)).toContain('still-masked')
  })

  it("masks the kubeconfig's credentials, not its other lines (more in kubeconfig.test.ts)", () => {
    const spy = silenceStdout()
    parse({ kubeconfig: 'apiVersion: v1\nusers:\n- name: default\n  user:\n    token: kube-token-abc123\n' })
    expect(masked(spy)).toContain('kube-token-abc123')
    expect(masked(spy)).not.toContain('apiVersion: v1')
    expect(masked(spy)).not.toContain('- name: default')
  })
})

describe('parseInputs: results back into the workflow', () => {
  it('reads job-outputs, rank-by and missing-ok', () => {
    const i = parseInputs(raw({ tasks: '- {task: examples/train.yaml}', 'job-outputs': 'val_loss, accuracy\nmodel_path', 'rank-by': 'accuracy DESC' }), {})
    expect(i.jobOutputs).toEqual(['val_loss', 'accuracy', 'model_path'])
    expect(i.rankBy).toEqual({ name: 'accuracy', order: 'desc' })
    expect(parseInputs(raw({ mode: 'down', 'cluster-name': 'c1', 'missing-ok': 'true' }), {}).missingOk).toBe(true)
  })

  it.each([
    [{ task: 't.yaml', 'job-outputs': 'status' }, /one of the action's own outputs/],
    [{ task: 't.yaml', 'job-outputs': '1loss' }, /is not an output name/],
    [{ tasks: '- {task: examples/train.yaml}', 'rank-by': 'loss' }, /not in 'job-outputs'/],
    [{ task: 't.yaml', 'rank-by': 'loss', 'job-outputs': 'loss' }, /use it with 'tasks'/],
    [{ task: 't.yaml', 'rank-by': 'loss sideways' }, /optionally followed by asc or desc/],
    [{ task: 't.yaml', 'missing-ok': 'true' }, /applies to 'mode: down' with 'cluster-name' only/],
    [{ mode: 'report' }, /needs 'results-path'/]
  ] as const)('%j is refused', (given, message) => {
    expect(problemsOf(given as Partial<RawInputs>, {}, false).join('\n')).toMatch(message)
  })
})

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { extrasForClouds, validateTask } from '../../src/task/validate.js'
import type { ValidateOptions } from '../../src/task/validate.js'
import { validateResourcesSchema } from '../../src/task/generated/validators.js'
import { pythonPatternToJs } from '../../scripts/gen-task-schema.mjs'

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, '../fixtures/tasks', name), 'utf8')
const none: ValidateOptions = { envs: {}, secrets: {} }
const run = (text: string, options: Partial<ValidateOptions> = {}) => validateTask(text, { ...none, ...options })

/** A message says what to do when it carries an instruction, not only a diagnosis. */
const ACTIONABLE = /Did you mean|Valid keys|Use |Write |Quote |Rename |Remove |Add |pass it|Change |Fix |Keep |Move |Give |Set |Flatten|Simplify|Make /

interface Case {
  name: string
  yaml: string
  options?: Partial<ValidateOptions>
  /** Expected problems: a substring of each message and its line. Empty: valid. */
  problems: { includes: string; line?: number }[]
}

const cases: Case[] = [
  { name: 'minimal task', yaml: fixture('minimal.yaml'), problems: [] },
  {
    name: 'empty file (SkyPilot refuses it)',
    yaml: '',
    problems: [{ includes: 'The task YAML is empty or holds no task definition, which SkyPilot refuses. Add at least a `run:`' }]
  },
  {
    name: 'comments only, or an empty map, is empty too',
    yaml: '# nothing yet\n---\n{}\n',
    problems: [{ includes: 'The task YAML is empty or holds no task definition' }]
  },
  {
    name: 'example task with its required env provided',
    yaml: fixture('example.yaml'),
    options: { envs: { DATA_BUCKET_NAME: 'my-bucket' } },
    problems: []
  },
  {
    name: 'example task without its required env',
    yaml: fixture('example.yaml'),
    problems: [
      {
        includes:
          "Required env 'DATA_BUCKET_NAME' has no value: the task declares it as null; pass it with the 'envs' input (DATA_BUCKET_NAME=...)",
        line: 10
      }
    ]
  },
  {
    name: 'unknown top-level key',
    yaml: 'name: t\nrun: echo\nreources:\n  cloud: aws\n',
    problems: [{ includes: "Unknown key 'reources' in the task (line 3). Did you mean 'resources'?", line: 3 }]
  },
  {
    name: 'unknown key inside resources',
    yaml: 'resources:\n  cloud: aws\n  acelerators: A100:1\n',
    problems: [{ includes: "Unknown key 'acelerators' in 'resources' (line 3). Did you mean 'accelerators'?", line: 3 }]
  },
  {
    name: 'unknown key with nothing similar lists the valid keys',
    yaml: 'resources:\n  zzzzzz: 1\n',
    problems: [{ includes: 'Valid keys: cloud, region, zone, infra', line: 2 }]
  },
  {
    name: 'wrong type',
    yaml: 'num_nodes: two\n',
    problems: [{ includes: "num_nodes: must be a whole number, got the text 'two' (line 1)", line: 1 }]
  },
  { name: 'num_nodes below 1', yaml: 'num_nodes: 0\n', problems: [{ includes: 'num_nodes: must be 1 or more', line: 1 }] },
  {
    name: 'invalid env name',
    yaml: 'run: echo\nenvs:\n  OK_VAR: x\n  MY-VAR: x\n',
    problems: [{ includes: 'envs.MY-VAR: env names must match [a-zA-Z_][a-zA-Z0-9_]* (line 4)', line: 4 }]
  },
  { name: 'env numbers and booleans are cast to text like SkyPilot', yaml: 'envs:\n  EPOCHS: 10\n  DEBUG: true\n  LR: 0.5\n', problems: [] },
  { name: 'env list instead of map', yaml: 'envs:\n  - A=1\n', problems: [{ includes: 'envs: must be a map', line: 2 }] },
  {
    name: 'infra foo/bar rejected',
    yaml: 'resources:\n  infra: foo/bar\n',
    problems: [{ includes: "resources.infra: 'foo/bar' is not a valid infra (line 2)", line: 2 }]
  },
  { name: 'infra k8s/ctx accepted', yaml: 'resources:\n  infra: k8s/ctx\n', problems: [] },
  { name: 'case-insensitive cloud AWS accepted', yaml: 'resources:\n  cloud: AWS\n', problems: [] },
  {
    name: 'unknown cloud',
    yaml: 'resources:\n  cloud: awz\n',
    problems: [{ includes: "resources.cloud: 'awz' is not allowed (line 2). Did you mean 'aws'?", line: 2 }]
  },
  { name: 'accelerators as string', yaml: 'resources:\n  accelerators: A100:1\n', problems: [] },
  { name: 'accelerators as map', yaml: 'resources:\n  accelerators: {A100: 1}\n', problems: [] },
  { name: 'accelerators as list', yaml: 'resources:\n  accelerators: [A100:1, H100:1]\n', problems: [] },
  { name: 'gpus alias of accelerators', yaml: 'resources:\n  gpus: H100:8\n', problems: [] },
  {
    name: 'gpus and accelerators together',
    yaml: 'resources:\n  gpus: H100:8\n  accelerators: A100:1\n',
    problems: [{ includes: "Both 'gpus' and 'accelerators' are set. Keep only one of them", line: 2 }]
  },
  {
    name: 'accelerators map with a bad count reports the innermost value only',
    yaml: 'resources:\n  accelerators: {A100: many}\n',
    problems: [{ includes: "resources.accelerators.A100: must be empty (null) or a number, got the text 'many'", line: 2 }]
  },
  {
    name: 'anyOf noise folded into one line',
    yaml: 'resources:\n  cpus: [4]\n',
    problems: [{ includes: 'resources.cpus: must be text or a number, got a list (line 2)', line: 2 }]
  },
  {
    name: 'any_of items are checked against the resources schema',
    yaml: 'resources:\n  any_of:\n    - infra: k8s/a\n    - cloud: gcp\n      regoin: us\n',
    problems: [{ includes: "Unknown key 'regoin' in 'resources.any_of[1]' (line 5). Did you mean 'region'?", line: 5 }]
  },
  {
    name: 'file_mounts storage dict with a bad key',
    yaml: 'file_mounts:\n  /data:\n    name: my-bucket\n    stor: s3\n',
    problems: [{ includes: "Unknown key 'stor' in 'file_mounts./data' (line 4). Did you mean 'store'?", line: 4 }]
  },
  {
    name: 'file_mounts storage mode is case-insensitive, unknown mode rejected',
    yaml: 'file_mounts:\n  /a:\n    store: S3\n    mode: mount\n  /b:\n    store: gcs\n    mode: sync\n',
    problems: [{ includes: "file_mounts./b.mode: 'sync' is not allowed (line 7). Use one of: MOUNT, COPY, MOUNT_CACHED", line: 7 }]
  },
  {
    name: 'file_mounts entry with no value',
    yaml: 'file_mounts:\n  /data:\n',
    problems: [{ includes: 'file_mounts./data: must be a source path or URL', line: 2 }]
  },
  {
    name: 'service is checked against the service schema',
    yaml: 'service:\n  readiness_probe: /health\n  replica: 2\n',
    problems: [{ includes: "Unknown key 'replica' in 'service' (line 3). Did you mean 'replicas'?", line: 3 }]
  },
  {
    name: 'required secret missing',
    yaml: 'run: echo\nsecrets:\n  HF_TOKEN: null\n',
    problems: [{ includes: "Required secret 'HF_TOKEN' has no value: the task declares it as null; pass it with the 'secrets' input (HF_TOKEN=...)", line: 3 }]
  },
  {
    name: 'required secret provided',
    yaml: 'run: echo\nsecrets:\n  HF_TOKEN: null\n',
    options: { secrets: { HF_TOKEN: 'x' } },
    problems: []
  },
  {
    name: 'listed secret missing',
    yaml: 'secrets: [WANDB_API_KEY]\n',
    problems: [{ includes: "Required secret 'WANDB_API_KEY' has no value", line: 1 }]
  },
  { name: 'listed secret provided', yaml: 'secrets: [WANDB_API_KEY]\n', options: { secrets: { WANDB_API_KEY: 'k' } }, problems: [] },
  { name: 'managed secret reference needs no --secret', yaml: 'secrets: ["secrets:HF_TOKEN"]\n', problems: [] },
  {
    name: 'YAML syntax error with its line',
    yaml: 'name: t\nrun: echo\nresources: [\n  cloud: aws\n',
    problems: [{ includes: 'YAML error (line', line: 5 }]
  },
  {
    name: 'duplicate keys',
    yaml: 'run: a\nrun: b\n',
    problems: [{ includes: "Duplicate key 'run' (also on line 1): SkyPilot refuses a task with a key given twice. Remove or rename one of them", line: 2 }]
  },
  {
    name: 'a tag that builds a value SkyPilot cannot run',
    yaml: 'run: !!binary aGVsbG8=\n',
    problems: [{ includes: "run: must be text, got the binary value b'hello'", line: 1 }]
  },
  {
    name: 'unknown application tag',
    yaml: 'run: !!python/object:os.system echo\n',
    problems: [{ includes: "YAML tag '!!python/object:os.system' is not allowed", line: 1 }]
  },
  {
    name: 'implicit timestamp',
    yaml: 'name: 2024-01-01\n',
    problems: [{ includes: "name: must be text, got the date 2024-01-01 (line 1). Quote it to make it text: '2024-01-01'", line: 1 }]
  },
  {
    name: 'top level is a list',
    yaml: '- run: echo\n',
    problems: [{ includes: 'The task YAML must be a map of keys', line: 1 }]
  },
  {
    name: 'top level is a string',
    yaml: 'echo hello\n',
    problems: [{ includes: 'The task YAML must be a map of keys', line: 1 }]
  },
  {
    name: 'invalid task name',
    yaml: 'name: my task\n',
    problems: [{ includes: "name: 'my task' is not a valid task name", line: 1 }]
  },
  { name: 'top-level null values are skipped like SkyPilot does', yaml: 'run:\nsetup:\nresources:\n', problems: [] },
  {
    name: 'pipeline rejected without allowPipeline',
    yaml: fixture('pipeline.yaml'),
    problems: [{ includes: "holds 2 tasks separated by '---' (a pipeline); only managed jobs run pipelines" }]
  },
  { name: 'pipeline accepted with allowPipeline', yaml: fixture('pipeline.yaml'), options: { allowPipeline: true }, problems: [] },
  {
    name: 'each pipeline task is validated',
    yaml: 'name: p\n---\nrun: a\n---\nrun: b\nnum_nodes: x\n',
    options: { allowPipeline: true },
    problems: [{ includes: 'Task 2 of the pipeline: num_nodes: must be a whole number', line: 6 }]
  },
  { name: 'header plus a single task is not a pipeline', yaml: 'name: p\n---\nrun: a\n', problems: [] }
]

describe('validateTask', () => {
  it.each(cases)('$name', ({ yaml, options, problems }) => {
    const result = run(yaml, options)
    expect(result.problems.map((p) => p.message)).toHaveLength(problems.length)
    problems.forEach((expected, i) => {
      const actual = result.problems[i]
      expect(actual?.message).toContain(expected.includes)
      if (expected.line !== undefined) expect(actual?.line).toBe(expected.line)
    })
    for (const p of result.problems) expect(p.message).toMatch(ACTIONABLE)
    if (problems.length === 0) expect(result.info).toBeDefined()
  })

  it('reports the info of the example task', () => {
    const { info, problems } = run(fixture('example.yaml'), { envs: { DATA_BUCKET_NAME: 'b' } })
    expect(problems).toEqual([])
    expect(info).toMatchObject({
      name: 'train-bert',
      clouds: ['aws'],
      accelerators: 'A100:1',
      envNames: ['EPOCHS', 'LEARNING_RATE', 'DATA_BUCKET_NAME'],
      requiredEnvs: ['DATA_BUCKET_NAME'],
      requiredSecrets: []
    })
    expect(info?.documents).toHaveLength(1)
    expect(info?.documents[0]?.run).toContain('python train.py')
  })

  it('gives problems a column too', () => {
    const [p] = run('resources:\n  cloud: aws\n  acelerators: A100:1\n').problems
    expect(p).toMatchObject({ line: 3, column: 3 })
  })

  it.each([
    ['resources:\n  accelerators: {A100: 2}\n', 'A100:2'],
    ['resources:\n  accelerators: [A100:1, H100:1]\n', 'A100:1, H100:1'],
    ['resources:\n  gpus: H100:8\n', 'H100:8']
  ])('renders accelerators %j as %j', (yaml, text) => {
    expect(run(yaml).info?.accelerators).toBe(text)
  })

  it('derives clouds from infra, cloud, any_of, storage stores and volume mounts', () => {
    const yaml = [
      'resources:',
      '  any_of:',
      '    - infra: k8s/x',
      '    - cloud: GCP',
      '    - infra: Nebius/eu-north1',
      '    - infra: "*"',
      'file_mounts:',
      '  /a:',
      '    store: s3',
      '  /b:',
      '    store: R2',
      '  /c: ./local',
      'volume_mounts:',
      '  - path: /v',
      '    volume_name: v',
      '    volume_config: {name: v, type: runpod-network-volume, cloud: runpod, region: null, zone: null, name_on_cloud: v-1, size: null}'
    ].join('\n')
    const { info, problems } = run(yaml)
    expect(problems).toEqual([])
    expect(info?.clouds).toEqual(['aws', 'cloudflare', 'gcp', 'kubernetes', 'nebius', 'runpod'])
  })

  it('lists the clouds of every pipeline task', () => {
    expect(run(fixture('pipeline.yaml'), { allowPipeline: true }).info).toMatchObject({
      name: 'train-eval',
      kind: 'chain',
      clouds: ['kubernetes'],
      documents: [{ name: 'train' }, { name: 'eval' }]
    })
  })

  it('substitutes envs into storage before checking it, as SkyPilot does', () => {
    const yaml = 'envs:\n  STORE: null\nfile_mounts:\n  /d:\n    name: b\n    store: $STORE\n'
    expect(run(yaml, { envs: { STORE: 'gcs' } }).problems).toEqual([])
    expect(run(yaml, { envs: { STORE: 'ftp' } }).problems[0]?.message).toContain("file_mounts./d.store: 'ftp' is not allowed")
  })

  it('rejects a YAML bomb fast with a clear message', () => {
    const started = performance.now()
    const { problems } = run(fixture('bomb.yaml'))
    expect(performance.now() - started).toBeLessThan(1000)
    expect(problems).toHaveLength(1)
    expect(problems[0]?.message).toContain('expands YAML aliases (*name) into more than a million values')
    expect(problems[0]?.message).toMatch(ACTIONABLE)
  })

  it('rejects absurd nesting with a clear message', () => {
    const { problems } = run('a: ' + '['.repeat(20_000) + ']'.repeat(20_000))
    expect(problems[0]?.message).toContain('nested too deeply')
  })

  it('accepts a few ordinary aliases and merge keys', () => {
    const yaml = 'x-common: &c {cloud: aws}\n'
    expect(run(yaml).problems[0]?.message).toContain("Unknown key 'x-common'")
    const merged = 'resources:\n  any_of:\n    - &base {cloud: aws, cpus: 4}\n    - <<: *base\n      cloud: gcp\n'
    expect(run(merged).problems).toEqual([])
  })

  it('rejects a 2 MiB text before parsing it', () => {
    const text = 'run: |\n' + '  echo 0123456789012345678901234567890123456789012345678901234567890123\n'.repeat(30_000)
    expect(text.length).toBeGreaterThan(2 * 1024 * 1024)
    const started = performance.now()
    const { problems, info } = run(text)
    expect(performance.now() - started).toBeLessThan(100)
    expect(info).toBeUndefined()
    expect(problems).toEqual([{ message: expect.stringContaining('the limit is 1 MiB') }])
    expect(problems[0]?.message).toMatch(ACTIONABLE)
  })
})

describe('infra pattern from a Python (?i:...) pattern', () => {
  const python = '^(?:(?i:(aws|gcp))(?:/[^/]+)?|\\*(?:/[^/]+(?:/[^/]+)?)?|(?i:kubernetes|k8s)(?:/.+)?)$'
  it.each(['AWS/us-east-1', 'aws', 'k8s/my-ctx', 'K8S', '*', '*/us-east-1', 'Kubernetes'])('accepts %s', (value) => {
    expect(new RegExp(pythonPatternToJs(python), 'u').test(value)).toBe(true)
    expect(validateResourcesSchema({ infra: value })).toBe(true)
  })
  it.each(['foo/bar', 'awsx', 'k8', ''])('rejects %j', (value) => {
    expect(new RegExp(pythonPatternToJs(python), 'u').test(value)).toBe(false)
    expect(validateResourcesSchema({ infra: value })).toBe(false)
  })
  it('expands letters in character classes and leaves escapes alone', () => {
    expect(pythonPatternToJs('(?i:[a-c]x\\d)')).toBe('(?:[a-cA-C][xX]\\d)')
    expect(pythonPatternToJs('[a-c](?i:b)')).toBe('[a-c](?:[bB])')
  })
  it('refuses Python-only constructs it cannot translate', () => {
    expect(() => pythonPatternToJs('(?P<name>x)')).toThrow(/Unsupported Python regex/)
  })
})

describe('extrasForClouds', () => {
  it('maps clouds to SkyPilot extras, sorted, deduplicated, unknown dropped', () => {
    expect(extrasForClouds(['kubernetes', 'AWS', 'gcp', 'aws', 'k8s', 'nope', 'cloudflare', 'constructor'])).toEqual(['aws', 'cloudflare', 'gcp', 'kubernetes'])
  })
  it('knows the clouds of the task info', () => {
    expect(extrasForClouds(['lambda', 'runpod', 'nebius', 'oci', 'ssh', 'do', 'vast', 'ibm', 'scp', 'vsphere'])).toEqual([
      'do',
      'ibm',
      'lambda',
      'nebius',
      'oci',
      'runpod',
      'scp',
      'ssh',
      'vast',
      'vsphere'
    ])
  })
  it('needs nothing for no clouds', () => {
    expect(extrasForClouds([])).toEqual([])
  })
})

describe('clouds behind envs', () => {
  it('finds the store named through an env (store: $STORE), so the right extras are installed', async () => {
    const { validateTask } = await import('../../src/task/validate.js')
    const text = 'envs:\n  STORE: s3\n  BUCKET: null\nfile_mounts:\n  /data:\n    name: $BUCKET\n    store: $STORE\nrun: echo\n'
    expect(validateTask(text, { envs: { BUCKET: 'b' }, secrets: {} }).info?.clouds).toEqual(['aws'])
    expect(validateTask(text, { envs: { BUCKET: 'b', STORE: 'gcs' }, secrets: {} }).info?.clouds).toEqual(['gcp'])
  })
})

// The example tasks: valid against SkyPilot's own schema (after the env substitution SkyPilot
// does in file_mounts), documented, failing loudly (`set -euo pipefail`) and runnable by bash.
import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { parse as parseYaml } from 'yaml'
import { ROOT, exampleTasks } from './lib.js'

const SCHEMA_FILE = join(ROOT, 'src/task/sky-task-schema.json')
const TASK_NAME = /^[a-zA-Z0-9]+(?:[._-]{1,2}[a-zA-Z0-9]+)*$/

type Schemas = Record<'task_schema' | 'resources_schema' | 'storage_schema', Record<string, unknown>>

function validators() {
  const schemas = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Schemas
  const ajv = new Ajv2020({ strict: false, allErrors: true })
  // SkyPilot's own keyword: an enum compared without case.
  ajv.addKeyword({
    keyword: 'case_insensitive_enum',
    type: 'string',
    schemaType: 'array',
    validate: (allowed: string[], value: string) => allowed.some((a) => a.toLowerCase() === value.toLowerCase())
  })
  const compile = (s: Record<string, unknown>) => {
    const { $schema: _ignored, ...rest } = s
    return ajv.compile(rest)
  }
  return {
    task: compile(schemas.task_schema),
    resources: compile(schemas.resources_schema),
    storage: compile(schemas.storage_schema)
  }
}

/** `$VAR` / `${VAR}` from the task's envs (after overrides), as SkyPilot does in file_mounts. */
function substitute(value: unknown, envs: Record<string, string>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{(\w+)\}|\$(\w+)/g, (m, a?: string, b?: string) => envs[(a ?? b)!] ?? m)
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, envs))
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, envs)]))
  }
  return value
}

const examples = exampleTasks()

test('the examples the templates and docs name are all there', () => {
  for (const name of [
    'data_preprocessing', 'train', 'eval', 'train_gpu', 'train_cpu', 'experiment1', 'experiment2',
    'kubernetes_task', 'finetune_gpu'
  ]) {
    expect(examples).toContain(`examples/${name}.yaml`)
  }
})

describe.each(examples)('%s', (rel) => {
  const text = readFileSync(join(ROOT, rel), 'utf8')
  const task = parseYaml(text) as Record<string, any>

  test('starts with a comment saying what it does', () => {
    expect(text.startsWith('# ')).toBe(true)
  })

  test('has a valid name and string (or null = required) env values', () => {
    expect(task.name).toMatch(TASK_NAME)
    for (const [k, v] of Object.entries(task.envs ?? {})) {
      expect(k).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]*$/)
      expect(v === null || typeof v === 'string', `${k} must be a string or null`).toBe(true)
    }
  })

  test('run (and setup) start with set -euo pipefail, run prints a final line', () => {
    expect(task.run).toMatch(/^set -euo pipefail\n/)
    if (task.setup) expect(task.setup).toMatch(/^set -euo pipefail\n/)
    const lines = String(task.run).trim().split('\n')
    expect(lines[lines.length - 1]).toMatch(/^echo /)
  })

  test.skipIf(!existsSync(SCHEMA_FILE))('is valid against SkyPilot\'s schema once envs are filled in', () => {
    const v = validators()
    const envs: Record<string, string> = {}
    for (const [k, val] of Object.entries(task.envs ?? {})) envs[k] = val === null ? `${k.toLowerCase().replace(/_/g, '-')}-value` : String(val)
    const filled = { ...task, file_mounts: substitute(task.file_mounts, envs) }
    expect(v.task(filled), JSON.stringify(v.task.errors)).toBe(true)
    if (task.resources) expect(v.resources(task.resources), JSON.stringify(v.resources.errors)).toBe(true)
    for (const [path, mount] of Object.entries<any>(filled.file_mounts ?? {})) {
      if (mount && typeof mount === 'object') expect(v.storage(mount), `${path}: ${JSON.stringify(v.storage.errors)}`).toBe(true)
    }
  })
})

test('the shared-bucket tasks mount one bucket from DATA_BUCKET_NAME / DATA_BUCKET_STORE_TYPE', () => {
  for (const name of ['data_preprocessing', 'train', 'eval', 'train_gpu', 'train_cpu']) {
    const task = parseYaml(readFileSync(join(ROOT, `examples/${name}.yaml`), 'utf8')) as Record<string, any>
    expect(task.envs).toHaveProperty('DATA_BUCKET_NAME', null)
    expect(task.envs).toHaveProperty('DATA_BUCKET_STORE_TYPE')
    expect(task.file_mounts['/data']).toMatchObject({ name: '$DATA_BUCKET_NAME', store: '$DATA_BUCKET_STORE_TYPE', mode: 'MOUNT' })
  }
  const train = parseYaml(readFileSync(join(ROOT, 'examples/train.yaml'), 'utf8')) as Record<string, any>
  for (const k of ['EPOCHS', 'LEARNING_RATE', 'BATCH_SIZE']) expect(train.envs).toHaveProperty(k)
})

test('the GPU, CPU and Kubernetes variants ask for what their names say', () => {
  const load = (n: string) => parseYaml(readFileSync(join(ROOT, `examples/${n}.yaml`), 'utf8')) as Record<string, any>
  expect(load('train_gpu').resources.accelerators).toBeTruthy()
  expect(load('train_cpu').resources.accelerators).toBeUndefined()
  expect(load('train_cpu').resources.cpus).toBeTruthy()
  expect(load('kubernetes_task').resources.infra).toBe('k8s')
})

test('the schema check bites: a storage type the schema does not know is rejected', () => {
  if (!existsSync(SCHEMA_FILE)) return
  const v = validators()
  expect(v.storage({ name: 'b', store: 'dropbox', mode: 'MOUNT' })).toBe(false)
  expect(v.storage({ name: 'b', store: 's3', mode: 'mount' })).toBe(true)
  expect(v.task({ name: 't', run: 'echo', envz: {} })).toBe(false)
})

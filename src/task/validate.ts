// Validates a SkyPilot task YAML before anything is launched, the way
// SkyPilot itself will (sky/task.py from_yaml_config, sky/resources.py,
// sky/data/storage.py, sky/serve/service_spec.py, sky/utils/dag_utils.py),
// so a bad task fails in a second with a message that says what to fix.
import {
  validateResourcesSchema,
  validateServiceSchema,
  validateStorageSchema,
  validateTaskSchema
} from './generated/validators.js'
import type { GeneratedValidator } from './generated/validators.js'
import { canonicalCloud, cloudOfInfra, cloudOfStore } from './clouds.js'
import { parseTaskYaml, withLine } from './parse.js'
import type { ParsedDocument, Path, Problem } from './parse.js'
import { displayPath, schemaProblems } from './schema-errors.js'

export { extrasForClouds } from './clouds.js'

export interface TaskProblem {
  message: string
  line?: number
  column?: number
}

export interface TaskInfo {
  /** Top-level `name` of the (first) task. */
  name?: string
  /** Parsed task documents (1 unless a pipeline). */
  documents: Record<string, unknown>[]
  /** Lower-case clouds the task names anywhere, deduplicated and sorted. */
  clouds: string[]
  /** resources.accelerators of the first task, as text (e.g. 'A100:1'). */
  accelerators?: string
  /** Keys of `envs:`. */
  envNames: string[]
  /** Env keys whose value is null: they must be passed with --env. */
  requiredEnvs: string[]
  /** Secret keys whose value is null (map form) or that are listed (list form). */
  requiredSecrets: string[]
}

export interface ValidateOptions {
  /** Env overrides the action will pass with --env. */
  envs: Record<string, string>
  /** Secrets the action will pass with --secret. */
  secrets: Record<string, string>
  /** True for managed jobs: several `---` documents form a pipeline. */
  allowPipeline?: boolean
}

type Json = Record<string, unknown>

/** `sky/utils/dag_utils.py`: the first document is a header if it holds only these. */
const PIPELINE_HEADER_KEYS = new Set(['name', 'execution'])
const JOB_GROUP_HEADER_KEYS = new Set(['name', 'execution', 'primary_tasks', 'termination_delay'])
/** `sky/task.py` _VALID_NAME_REGEX. */
const TASK_NAME = /^[a-zA-Z0-9]+(?:[._-]{1,2}[a-zA-Z0-9]+)*$/
/** `sky/resources.py` RESOURCE_CONFIG_ALIASES. */
const RESOURCE_ALIASES: Record<string, string> = { gpus: 'accelerators' }
/** Managed-secret references (`secrets:NAME`) are resolved by the API server, not passed with --secret. */
const SECRET_REF_PREFIX = 'secrets:'

function isMap(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** Python's str() of a YAML scalar, as SkyPilot casts env and secret values. */
function pythonStr(value: unknown): string {
  if (value === true) return 'True'
  if (value === false) return 'False'
  if (typeof value === 'string') return value
  if (typeof value === 'number') return String(value)
  return JSON.stringify(value)
}

/** Casts keys and non-null scalar values to text, as from_yaml_config does before validation. */
function castStringMap(map: Json): Json {
  const out: Json = {}
  for (const [k, v] of Object.entries(map)) {
    out[k] = v === null || typeof v === 'object' ? v : pythonStr(v)
  }
  return out
}

/** Drops top-level null values, as common_utils.validate_schema(skip_none=True) does. */
function skipNone(map: Json): Json {
  return Object.fromEntries(Object.entries(map).filter(([, v]) => v !== null && v !== undefined))
}

/** `$VAR` / `${VAR}` substitution in string values (task._fill_in_env_vars). */
function fillEnvVars(value: unknown, vars: Record<string, string>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{?\b([a-zA-Z_][a-zA-Z0-9_]*)\b\}?/g, (m, name: string) => vars[name] ?? m)
  }
  if (Array.isArray(value)) return value.map((v) => fillEnvVars(v, vars))
  if (isMap(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillEnvVars(v, vars)]))
  return value
}

interface DocumentCheck {
  doc: ParsedDocument
  /** Prefix for messages when the file holds several tasks. */
  label: string
  problems: Problem[]
}

function check(
  c: DocumentCheck,
  validator: GeneratedValidator,
  data: unknown,
  base: Path,
  rewrite?: (path: Path) => Path
): boolean {
  if (validator(data)) return true
  for (const p of schemaProblems(validator.errors, { base, data, locate: c.doc.locate, ...(rewrite ? { rewrite } : {}) })) {
    c.problems.push({ ...p, message: c.label + p.message })
  }
  return false
}

function add(c: DocumentCheck, message: string, path: Path, key = false): void {
  const p = withLine(c.label + message, c.doc.locate(path, key))
  c.problems.push(p)
}

/** Applies the `gpus` alias; returns the config SkyPilot validates and a path mapper back to the YAML. */
function applyResourceAliases(c: DocumentCheck, config: Json, path: Path): { config: Json; aliased: Set<string> } {
  const out: Json = { ...config }
  const aliased = new Set<string>()
  for (const [alias, canonical] of Object.entries(RESOURCE_ALIASES)) {
    if (!(alias in out)) continue
    if (canonical in out) {
      add(c, `${displayPath(path)}: both '${alias}' and '${canonical}' are set. Keep only one of them`, [...path, alias], true)
    }
    out[canonical] = out[alias]
    delete out[alias]
    aliased.add(canonical)
  }
  return { config: out, aliased }
}

function validateResources(c: DocumentCheck, resources: unknown): void {
  if (!isMap(resources)) return // the task schema already reported the type
  const top = applyResourceAliases(c, resources, ['resources'])
  const config = top.config
  const rewrites = new Map<string, Set<string>>([['', top.aliased]])
  for (const group of ['any_of', 'ordered'] as const) {
    const list = config[group]
    if (!Array.isArray(list)) continue
    config[group] = list.map((item, i) => {
      if (!isMap(item)) return item
      const r = applyResourceAliases(c, item, ['resources', group, i])
      rewrites.set(`${group}/${i}`, r.aliased)
      return r.config
    })
  }
  if ('hooks' in config) {
    add(c, "Lifecycle hooks live under the top-level 'config.hooks', not 'resources.hooks'. Move the list there", ['resources', 'hooks'], true)
    delete config.hooks
  }
  const rewrite = (path: Path): Path => {
    // resources.accelerators → resources.gpus when the user wrote gpus.
    const rel = path.slice(1)
    const scope = typeof rel[1] === 'number' ? `${String(rel[0])}/${rel[1]}` : ''
    const at = scope === '' ? 0 : 2
    const aliased = rewrites.get(scope)
    if (aliased && typeof rel[at] === 'string' && aliased.has(rel[at] as string)) {
      const alias = Object.entries(RESOURCE_ALIASES).find(([, canon]) => canon === rel[at])?.[0]
      if (alias) return [path[0] as string, ...rel.slice(0, at), alias, ...rel.slice(at + 1)]
    }
    return path
  }
  check(c, validateResourcesSchema, skipNone(config), ['resources'], rewrite)
}

function validateFileMounts(c: DocumentCheck, fileMounts: unknown, vars: Record<string, string>): void {
  if (!isMap(fileMounts)) return
  for (const [dst, src] of Object.entries(fileMounts)) {
    if (typeof src === 'string') continue
    if (isMap(src)) {
      const filled = fillEnvVars(src, vars) as Json
      check(c, validateStorageSchema, skipNone(filled), ['file_mounts', dst])
      continue
    }
    add(
      c,
      `file_mounts.${dst}: must be a source path or URL (text) or a storage map (name, source, store, mode), got ${
        src === null ? 'nothing' : Array.isArray(src) ? 'a list' : typeof src
      }. Give it a value`,
      ['file_mounts', dst]
    )
  }
}

interface TaskFacts {
  envNames: string[]
  requiredEnvs: string[]
  requiredSecrets: string[]
}

function validateDocument(c: DocumentCheck, raw: Json, options: ValidateOptions): TaskFacts {
  const config: Json = { ...raw }
  if (isMap(config.envs)) config.envs = castStringMap(config.envs)
  if (isMap(config.secrets)) config.secrets = castStringMap(config.secrets)
  else if (Array.isArray(config.secrets)) config.secrets = config.secrets.map((s) => (typeof s === 'object' ? s : pythonStr(s)))
  const data = skipNone(config)
  check(c, validateTaskSchema, data, [])

  const envs = isMap(data.envs) ? data.envs : {}
  const envNames = Object.keys(envs)
  const requiredEnvs = envNames.filter((k) => envs[k] === null)
  for (const name of requiredEnvs) {
    if (name in options.envs) continue
    add(
      c,
      `Required env '${name}' has no value: the task declares it as null; pass it with the 'envs' input (${name}=...)`,
      ['envs', name],
      true
    )
  }

  const requiredSecrets: string[] = []
  const secrets = data.secrets
  if (isMap(secrets)) {
    for (const [name, value] of Object.entries(secrets)) {
      if (value === null && !name.startsWith(SECRET_REF_PREFIX)) requiredSecrets.push(name)
      if (value !== null && name.startsWith(SECRET_REF_PREFIX)) {
        add(c, `secrets.${name}: a managed secret reference (secrets: prefix) must have a null value. To give the value inline, remove the 'secrets:' prefix`, ['secrets', name], true)
      }
    }
  } else if (Array.isArray(secrets)) {
    for (const item of secrets) if (typeof item === 'string' && !item.startsWith(SECRET_REF_PREFIX)) requiredSecrets.push(item)
  }
  for (const name of requiredSecrets) {
    if (name in options.secrets) continue
    const listed = Array.isArray(secrets)
    const path: Path = listed ? ['secrets', (secrets as unknown[]).indexOf(name)] : ['secrets', name]
    add(
      c,
      `Required secret '${name}' has no value: the task ${listed ? 'lists it under secrets' : 'declares it as null'}; ` +
        `pass it with the 'secrets' input (${name}=...)` +
        (listed ? ` or, for a secret stored on the API server, write it as 'secrets:${name}'` : ''),
      path,
      !listed
    )
  }

  if (typeof data.name === 'string' && !TASK_NAME.test(data.name)) {
    add(
      c,
      `name: '${data.name}' is not a valid task name. Use letters and digits, separated by single or double '.', '_' or '-' ` +
        "(e.g. 'train-bert'); it must start and end with a letter or digit",
      ['name']
    )
  }
  if (typeof data.num_nodes === 'number' && Number.isInteger(data.num_nodes) && data.num_nodes < 1) {
    add(c, `num_nodes: must be 1 or more, got ${data.num_nodes}. Set num_nodes to a positive whole number`, ['num_nodes'])
  }

  validateResources(c, data.resources)
  const vars: Record<string, string> = {}
  for (const [k, v] of Object.entries(envs)) if (typeof v === 'string') vars[k] = v
  Object.assign(vars, options.envs)
  if (isMap(secrets)) for (const [k, v] of Object.entries(secrets)) if (typeof v === 'string') vars[k] = v
  Object.assign(vars, options.secrets)
  validateFileMounts(c, data.file_mounts, vars)

  if (data.service !== undefined && data.pool !== undefined) {
    add(c, "A task cannot set both 'service' and 'pool'. Keep one of them", ['pool'], true)
  } else if (isMap(data.service)) {
    check(c, validateServiceSchema, skipNone(fillEnvVars(data.service, vars) as Json), ['service'])
  } else if (isMap(data.pool)) {
    check(c, validateServiceSchema, { pool: data.pool }, [])
  }
  return { envNames, requiredEnvs, requiredSecrets }
}

function collectClouds(doc: Json, into: Set<string>): void {
  const addCloud = (v: string | undefined): void => {
    if (v !== undefined) into.add(v)
  }
  const fromResources = (r: unknown): void => {
    if (!isMap(r)) return
    if (typeof r.cloud === 'string') addCloud(canonicalCloud(r.cloud))
    addCloud(cloudOfInfra(r.infra))
  }
  const resources = doc.resources
  fromResources(resources)
  if (isMap(resources)) {
    for (const group of ['any_of', 'ordered']) {
      const list = resources[group]
      if (Array.isArray(list)) list.forEach(fromResources)
    }
  }
  if (isMap(doc.file_mounts)) {
    for (const src of Object.values(doc.file_mounts)) if (isMap(src)) addCloud(cloudOfStore(src.store))
  }
  if (Array.isArray(doc.volume_mounts)) {
    for (const m of doc.volume_mounts) {
      if (isMap(m) && isMap(m.volume_config) && typeof m.volume_config.cloud === 'string') addCloud(canonicalCloud(m.volume_config.cloud))
    }
  }
}

function acceleratorsText(doc: Json | undefined): string | undefined {
  const r = doc?.resources
  if (!isMap(r)) return undefined
  const acc = r.accelerators ?? r.gpus
  if (typeof acc === 'string') return acc
  if (Array.isArray(acc)) return acc.map(String).join(', ')
  if (isMap(acc)) {
    return Object.entries(acc)
      .map(([k, v]) => (v === null || v === undefined ? k : `${k}:${String(v)}`))
      .join(', ')
  }
  return undefined
}

/** Splits the YAML documents into tasks the way dag_utils._load_chain_dag does. */
function taskDocuments(
  docs: ParsedDocument[],
  problems: Problem[]
): { tasks: { doc: ParsedDocument; value: Json }[]; pipelineName?: string; multi: boolean } {
  const values = docs.map((d) => d.value)
  let start = 0
  let pipelineName: string | undefined
  const first = values[0]
  if (docs.length > 1 && isMap(first)) {
    const keys = Object.keys(first)
    const execution = first.execution
    const isJobGroup = execution === 'parallel' && keys.every((k) => JOB_GROUP_HEADER_KEYS.has(k)) && 'name' in first
    const isHeader = keys.includes('name') && keys.every((k) => PIPELINE_HEADER_KEYS.has(k))
    if (isJobGroup || isHeader) {
      if (isHeader && !isJobGroup && execution !== undefined && execution !== 'serial') {
        problems.push(
          withLine(
            `Invalid execution mode for a pipeline: '${String(execution)}'. Use 'execution: serial' (or omit it), or 'execution: parallel' for a job group`,
            docs[0]?.locate(['execution'])
          )
        )
      }
      if (typeof first.name === 'string') pipelineName = first.name
      start = 1
    }
  }
  const tasks: { doc: ParsedDocument; value: Json }[] = []
  for (let i = start; i < docs.length; i++) {
    const doc = docs[i] as ParsedDocument
    const value = doc.value
    if (value === null) continue // PyYAML yields None for an empty document; SkyPilot skips it
    if (!isMap(value)) {
      problems.push(
        withLine(
          `The task YAML must be a map of keys (name, resources, setup, run, ...); document ${i + 1} is ${
            Array.isArray(value) ? 'a list' : `the ${typeof value} '${String(value).slice(0, 40)}'`
          }. Write the task as 'key: value' lines`,
          doc.locate([])
        )
      )
      continue
    }
    tasks.push({ doc, value })
  }
  const multi = docs.length - start > 1 && tasks.length > 1
  if (tasks.length === 0 && problems.length === 0) {
    // An empty file or a header alone still makes one (empty) task.
    tasks.push({ doc: docs[0] ?? { value: {}, locate: () => undefined }, value: pipelineName ? { name: pipelineName } : {} })
  }
  return { tasks, ...(pipelineName !== undefined ? { pipelineName } : {}), multi }
}

export function validateTask(text: string, options: ValidateOptions): { info?: TaskInfo; problems: TaskProblem[] } {
  const parsed = parseTaskYaml(text)
  const problems: Problem[] = [...parsed.problems]
  if (problems.length > 0) return { problems }

  const { tasks, pipelineName, multi } = taskDocuments(parsed.documents, problems)
  if (multi && !options.allowPipeline) {
    problems.push({
      message:
        `The task YAML holds ${tasks.length} tasks separated by '---' (a pipeline); only managed jobs run pipelines ` +
        "(sky jobs launch). Use mode 'managed', or keep one task per file."
    })
  }

  const clouds = new Set<string>()
  const envNames = new Set<string>()
  const requiredEnvs = new Set<string>()
  const requiredSecrets = new Set<string>()
  tasks.forEach(({ doc, value }, i) => {
    const label = multi ? `Task ${i + 1} of the pipeline: ` : ''
    const c: DocumentCheck = { doc, label, problems }
    const facts = validateDocument(c, value, options)
    facts.envNames.forEach((n) => envNames.add(n))
    facts.requiredEnvs.forEach((n) => requiredEnvs.add(n))
    facts.requiredSecrets.forEach((n) => requiredSecrets.add(n))
    // Clouds hide behind envs too (`store: $DATA_BUCKET_STORE_TYPE`): fill them in as SkyPilot does.
    const vars: Record<string, string> = {}
    if (isMap(value) && isMap(value.envs)) for (const [k, v] of Object.entries(value.envs)) if (v !== null && v !== undefined) vars[k] = String(v)
    collectClouds(fillEnvVars(value, { ...vars, ...options.envs }) as typeof value, clouds)
  })

  const firstTask = tasks[0]?.value
  const name = typeof firstTask?.name === 'string' ? firstTask.name : pipelineName
  const accelerators = acceleratorsText(firstTask)
  const info: TaskInfo = {
    ...(name !== undefined ? { name } : {}),
    documents: tasks.map((t) => t.value),
    clouds: [...clouds].sort(),
    ...(accelerators !== undefined ? { accelerators } : {}),
    envNames: [...envNames],
    requiredEnvs: [...requiredEnvs],
    requiredSecrets: [...requiredSecrets]
  }
  return { info, problems }
}

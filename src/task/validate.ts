// Validates a SkyPilot task YAML before anything is launched, the way SkyPilot itself will
// (sky/utils/dag_utils.py, sky/task.py from_yaml_config, sky/resources.py, sky/data/storage.py,
// sky/serve/service_spec.py), so a bad task fails in a second with a message that says what to
// fix. parse.ts reads the YAML as PyYAML does, dag.ts splits it into tasks, task-config.ts checks
// each task; this module runs SkyPilot's JSON schemas and adds what depends on how the action
// launches (mode, resource overrides).
import {
  validateResourcesSchema,
  validateServiceSchema,
  validateStorageSchema,
  validateTaskSchema,
  validateVolumeMountSchema
} from './generated/validators.js'
import type { GeneratedValidator } from './generated/validators.js'
import type { Resources } from '../inputs.js'
import { canonicalCloud, cloudOfInfra, cloudOfStore } from './clouds.js'
import { splitDag, type DagKind } from './dag.js'
import { PyOpaque, parseTaskYaml, pyAt, toJson, withLine } from './parse.js'
import type { ParsedDocument, Path, Problem } from './parse.js'
import { pyStr, type PyEntry, type PyNode } from './python.js'
import { ALIAS_WRITTEN } from './resources.js'
import { schemaProblems } from './schema-errors.js'
import { checkTaskConfig, type Schemas } from './task-config.js'

export { extrasForClouds } from './clouds.js'

export interface TaskProblem {
  message: string
  line?: number
  column?: number
}

export interface TaskInfo {
  /** Top-level `name` of the (first) task, or of the pipeline or job group. */
  name?: string
  /** One task, a pipeline (chain) or a job group. */
  kind: DagKind
  /** Parsed task documents (1 unless a pipeline or job group). */
  documents: Record<string, unknown>[]
  /** Lower-case clouds (and storage providers) the task names anywhere, deduplicated and sorted. */
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
  /** True for managed jobs: several `---` documents form a pipeline or a job group. */
  allowPipeline?: boolean
  /** Resource overrides the action will pass as flags (--infra, --gpus, ...). */
  resources?: Resources
  /**
   * True when the action passes a name with -n (always for managed jobs): SkyPilot then names a
   * single task after it, so the task's own `name` is not the one checked at launch.
   */
  nameGiven?: boolean
}

type Json = Record<string, unknown>

/** `sky/task.py` _VALID_NAME_REGEX: checked when a task is launched (Task.validate_name). */
const TASK_NAME = /^[a-zA-Z0-9]+(?:[._-]{1,2}[a-zA-Z0-9]+)*$/

/** The action's resource inputs, by the flag-like name the workflow gives them. */
const OVERRIDE_INPUTS: [keyof Resources, string][] = [
  ['infra', 'infra'],
  ['gpus', 'gpus'],
  ['cpus', 'cpus'],
  ['memory', 'memory'],
  ['numNodes', 'num-nodes'],
  ['useSpot', 'use-spot'],
  ['diskSize', 'disk-size']
]

function isMap(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof PyOpaque)
}

/** Drops top-level null values, as common_utils.validate_schema(skip_none=True) does. */
function skipNone(map: Json): Json {
  return Object.fromEntries(Object.entries(map).filter(([, v]) => v !== null && v !== undefined))
}

/**
 * What the validators see: a value JSON cannot hold (a date...) becomes a function, which, like
 * a Python date under jsonschema, fails every `type` and `enum` and is ignored by the rest.
 */
function forAjv(value: unknown): unknown {
  if (value instanceof PyOpaque) return () => value
  if (Array.isArray(value)) return value.map(forAjv)
  if (isMap(value)) {
    const out: Json = {}
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: forAjv(v), enumerable: true, writable: true, configurable: true })
    return out
  }
  return value
}

/** `$VAR` / `${VAR}` substitution in string values (for finding clouds named through envs). */
function fillVars(value: unknown, vars: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') return value.replace(/\$\{?\b([a-zA-Z_][a-zA-Z0-9_]*)\b\}?/g, (m, name: string) => vars.get(name) ?? m)
  if (Array.isArray(value)) return value.map((v) => fillVars(v, vars))
  if (isMap(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillVars(v, vars)]))
  return value
}

function schemasFor(doc: ParsedDocument, label: string, problems: Problem[]): Schemas {
  const run = (validator: GeneratedValidator, py: PyNode, base: Path): boolean => {
    const json = toJson(py)
    const data = isMap(json) ? skipNone(json) : json
    if (validator(forAjv(data))) return true
    const rel = (path: Path): Path => path.slice(base.length)
    const locate = (path: Path, key?: boolean) => {
      const found = pyAt(py, rel(path))
      return doc.at(key && found.node ? found.key : (found.node?.offset !== undefined ? found.node : found.key ?? found.last))
    }
    // Messages name what the user wrote (`gpus`), not SkyPilot's canonical key.
    const rewrite = (path: Path): Path => {
      const out: (string | number)[] = [...base]
      let node: PyNode | undefined = py
      for (const segment of rel(path)) {
        if (node?.type === 'dict') {
          const entry: PyEntry | undefined = [...node.entries].reverse().find((e) => pyStr(e.key) === String(segment))
          out.push((entry && ALIAS_WRITTEN.get(entry.key)) ?? segment)
          node = entry?.value
        } else {
          out.push(segment)
          node = node?.type === 'list' && typeof segment === 'number' ? node.items[segment] : undefined
        }
      }
      return out
    }
    for (const p of schemaProblems(validator.errors, { base, data, locate, rewrite })) problems.push({ ...p, message: label + p.message })
    return false
  }
  return {
    task: (config) => run(validateTaskSchema, config, []),
    resources: (config, path) => run(validateResourcesSchema, config, path),
    storage: (storage, dst) => run(validateStorageSchema, storage, ['file_mounts', dst]),
    service: (config, path) => run(validateServiceSchema, config, path),
    volumeMount: (mount, i) => run(validateVolumeMountSchema, mount, ['volume_mounts', i])
  }
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

/** The resource inputs that are set, by input name. */
function overridesGiven(resources: Resources | undefined): string[] {
  if (!resources) return []
  return OVERRIDE_INPUTS.filter(([key]) => resources[key] !== undefined && resources[key] !== '').map(([, input]) => input)
}

const listText = (items: string[]): string => (items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`)

export function validateTask(text: string, options: ValidateOptions): { info?: TaskInfo; problems: TaskProblem[] } {
  const parsed = parseTaskYaml(text)
  const problems: Problem[] = [...parsed.problems]
  if (problems.length > 0) return { problems }

  const dag = splitDag(parsed)
  problems.push(...dag.problems)
  const several = dag.kind === 'job-group' || dag.kind === 'chain'
  if (dag.kind === 'chain' && !options.allowPipeline) {
    problems.push({
      message:
        `The task YAML holds ${dag.tasks.length} tasks separated by '---' (a pipeline); only managed jobs run pipelines ` +
        "(sky jobs launch). Use mode 'managed', or keep one task per file."
    })
  }
  if (dag.kind === 'job-group' && !options.allowPipeline) {
    problems.push({
      message:
        "The task YAML is a job group (its first document says 'execution: parallel'), which only managed jobs run " +
        "(sky jobs launch; sky launch refuses it). Use mode 'managed', or remove the header and keep one task."
    })
  }
  const overrides = overridesGiven(options.resources)
  if (several && overrides.length > 0) {
    const what = dag.kind === 'job-group' ? `a job group of ${dag.tasks.length} jobs` : `a pipeline of ${dag.tasks.length} tasks`
    problems.push({
      message:
        `The input${overrides.length > 1 ? 's' : ''} ${listText(overrides.map((o) => `'${o}'`))} override${overrides.length > 1 ? '' : 's'} resources, but the task YAML is ${what}, ` +
        'for which SkyPilot ignores resource overrides (it only prints a warning). Set the resources in each task of the file instead, ' +
        `and remove ${overrides.length > 1 ? 'those inputs' : 'that input'}.`
    })
  }

  const clouds = new Set<string>()
  const envNames = new Set<string>()
  const requiredEnvs = new Set<string>()
  const requiredSecrets = new Set<string>()
  dag.tasks.forEach(({ doc, py, jobName }, i) => {
    const label = dag.kind === 'job-group' ? `Job '${jobName ?? i + 1}': ` : dag.kind === 'chain' ? `Task ${i + 1} of the pipeline: ` : ''
    const facts = checkTaskConfig({ doc, label, problems, schemas: schemasFor(doc, label, problems) }, py, { envs: options.envs, secrets: options.secrets })
    facts.envNames.forEach((n) => envNames.add(n))
    facts.requiredEnvs.forEach((n) => requiredEnvs.add(n))
    facts.requiredSecrets.forEach((n) => requiredSecrets.add(n))
    const value = toJson(py) as Json
    // Checked when SkyPilot launches the task (Task.validate_name), not when it loads it; a
    // single task takes the name given with -n instead of its own.
    const name = jobName ?? value.name
    const renamed = options.nameGiven && dag.kind === 'task'
    if (typeof name === 'string' && !renamed && !TASK_NAME.test(name)) {
      problems.push(
        withLine(
          `${label}name: '${name}' is not a valid task name. Use letters and digits, separated by single or double '.', '_' or '-' ` +
            "(e.g. 'train-bert'); it must start and end with a letter or digit",
          doc.locate(['name'])
        )
      )
    }
    // Clouds hide behind envs too (`store: $DATA_BUCKET_STORE_TYPE`): fill them in as SkyPilot does.
    collectClouds(fillVars(value, facts.vars) as Json, clouds)
  })

  const firstTask = dag.tasks[0] ? (toJson(dag.tasks[0].py) as Json) : undefined
  const name = dag.name ?? (typeof firstTask?.name === 'string' ? firstTask.name : undefined)
  const accelerators = acceleratorsText(firstTask)
  const info: TaskInfo = {
    ...(name !== undefined ? { name } : {}),
    kind: dag.kind,
    documents: dag.tasks.map((t) => toJson(t.py) as Json),
    clouds: [...clouds].sort(),
    ...(accelerators !== undefined ? { accelerators } : {}),
    envNames: [...envNames],
    requiredEnvs: [...requiredEnvs],
    requiredSecrets: [...requiredSecrets]
  }
  // Several resource candidates (any_of, several accelerators) share fields: one problem is told once.
  const unique = problems.filter((p, i) => problems.findIndex((q) => q.message === p.message) === i)
  return { info, problems: unique.sort(byPosition) }
}

/** Problems without a line first (they concern the whole file), then in file order. */
function byPosition(a: Problem, b: Problem): number {
  return (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0)
}

// One task's config checked as SkyPilot's loader checks it (sky/task.py Task.from_yaml_config),
// in its order: envs and secrets turned into text, the task schema, env and secret overrides,
// env substitution, then file mounts, resources, service or pool and volume mounts.
import type { ParsedDocument, Path, Problem } from './parse.js'
import { withLine } from './parse.js'
import { checkFileMounts, FillError, fillEnvVars } from './mounts.js'
import { dictEntry, dictGet, isNone, isPyInt, pyNumber, pyStr, truthy, type PyEntry, type PyNode } from './python.js'
import { checkResources, type Report } from './resources.js'
import { checkServiceSpec } from './service.js'

type Dict = Extract<PyNode, { type: 'dict' }>

/** Schema validators by name, run on a Python value; false (after reporting) when it does not pass. */
export interface Schemas {
  task(config: Dict): boolean
  resources(config: Dict, path: Path): boolean
  storage(storage: Dict, dst: string): boolean
  service(config: Dict, path: Path): boolean
  volumeMount(mount: PyNode, index: number): boolean
}

export interface TaskCheck {
  doc: ParsedDocument
  /** Prefix for messages when the file holds several tasks. */
  label: string
  problems: Problem[]
  schemas: Schemas
}

export interface TaskOverrides {
  /** Env overrides the action passes with --env. */
  envs: Record<string, string>
  /** Secrets the action passes with --secret. */
  secrets: Record<string, string>
}

export interface TaskFacts {
  envNames: string[]
  requiredEnvs: string[]
  requiredSecrets: string[]
  /** Envs and inline secrets as the task sees them (after overrides): what `$NAME` becomes. */
  vars: Map<string, string>
}

/** `sky/skylet/constants.py` DOCKER_LOGIN_ENV_VARS: given together, all in envs or all in secrets. */
const DOCKER_LOGIN_ENV_VARS = ['SKYPILOT_DOCKER_PASSWORD', 'SKYPILOT_DOCKER_SERVER', 'SKYPILOT_DOCKER_USERNAME']
/** Managed-secret references (`secrets:NAME`) are resolved by the API server, not passed with --secret. */
const SECRET_REF_PREFIX = 'secrets:'

const text = (value: string, like?: PyNode): PyNode => ({ type: 'str', value, ...(like?.offset !== undefined ? { offset: like.offset } : {}) })

/** `{str(k): str(v) or None}`, as from_yaml_config makes of envs and secrets (keys as given, last one wins). */
function castStringMap(d: Dict): Dict {
  const entries: PyEntry[] = []
  const index = new Map<string, number>()
  for (const { key, value } of d.entries) {
    const k = pyStr(key)
    const entry = { key: text(k, key), value: isNone(value) ? value : text(pyStr(value), value) }
    const at = index.get(k)
    if (at !== undefined) (entries[at] as PyEntry).value = entry.value
    else {
      index.set(k, entries.length)
      entries.push(entry)
    }
  }
  return { ...d, entries }
}

function replace(d: Dict, key: string, value: PyNode): Dict {
  return { ...d, entries: d.entries.map((e) => (e.key.type === 'str' && e.key.value === key ? { key: e.key, value } : e)) }
}

export function checkTaskConfig(t: TaskCheck, raw: Dict, overrides: TaskOverrides): TaskFacts {
  const report: Report = (message, node) => t.problems.push(withLine(t.label + message, t.doc.at(node)))
  const reportAt = (message: string, path: Path, key = false): void => {
    t.problems.push(withLine(t.label + message, t.doc.locate(path, key)))
  }

  let config = raw
  const envsNode = dictGet(config, 'envs')
  if (envsNode?.type === 'dict') config = replace(config, 'envs', castStringMap(envsNode))
  const secretsNode = dictGet(config, 'secrets')
  if (secretsNode?.type === 'dict') config = replace(config, 'secrets', castStringMap(secretsNode))
  else if (secretsNode?.type === 'list') config = replace(config, 'secrets', { ...secretsNode, items: secretsNode.items.map((i) => text(pyStr(i), i)) })
  t.schemas.task(config)

  // Envs after the overrides; a null one must be given (SkyPilot refuses None).
  const envs = dictGet(config, 'envs')
  const envNames: string[] = []
  const requiredEnvs: string[] = []
  const vars = new Map<string, string>()
  if (dictEntry(config, 'envs') && isNone(envs)) {
    reportAt("envs: is empty (null), which SkyPilot cannot read. Give it entries ('NAME: value' lines), or remove the 'envs:' line", ['envs'], true)
  } else if (envs?.type === 'dict') {
    for (const { key, value } of envs.entries) {
      const name = pyStr(key)
      envNames.push(name)
      if (isNone(value)) requiredEnvs.push(name)
      else vars.set(name, pyStr(value))
    }
  }
  for (const [k, v] of Object.entries(overrides.envs)) vars.set(k, v)
  for (const name of requiredEnvs) {
    if (name in overrides.envs) continue
    reportAt(`Required env '${name}' has no value: the task declares it as null; pass it with the 'envs' input (${name}=...)`, ['envs', name], true)
  }

  // Secrets after the overrides. The CLI always merges --secret values, so the list form is a map of nulls.
  const secrets = dictGet(config, 'secrets')
  const requiredSecrets: string[] = []
  const inlineSecrets = new Map<string, string>()
  const listed = secrets?.type === 'list'
  const secretEntries: [string, PyNode | undefined][] =
    secrets?.type === 'dict' ? secrets.entries.map((e) => [pyStr(e.key), e.value]) : secrets?.type === 'list' ? secrets.items.map((i) => [pyStr(i), undefined]) : []
  for (const [name, value] of secretEntries) {
    if (name.startsWith(SECRET_REF_PREFIX)) {
      if (value && !isNone(value)) {
        reportAt(`secrets.${name}: a managed secret reference (secrets: prefix) must have a null value. To give the value inline, remove the 'secrets:' prefix`, ['secrets', name], true)
      }
      continue
    }
    if (!value || isNone(value)) requiredSecrets.push(name)
    else inlineSecrets.set(name, pyStr(value))
  }
  for (const [k, v] of Object.entries(overrides.secrets)) inlineSecrets.set(k, v)
  for (const name of requiredSecrets) {
    if (name in overrides.secrets) continue
    const path: Path = listed ? ['secrets', secretEntries.findIndex(([n]) => n === name)] : ['secrets', name]
    reportAt(
      `Required secret '${name}' has no value: the task ${listed ? 'lists it under secrets' : 'declares it as null'}; ` +
        `pass it with the 'secrets' input (${name}=...)` +
        (listed ? ` or, for a secret stored on the API server, write it as 'secrets:${name}'` : ''),
      path,
      !listed
    )
  }
  for (const [k, v] of inlineSecrets) vars.set(k, v)

  // Docker login: the three variables together, all in envs or all in secrets.
  const envKeys = new Set([...envNames, ...Object.keys(overrides.envs)])
  const inEnvs = DOCKER_LOGIN_ENV_VARS.filter((k) => envKeys.has(k))
  const inSecrets = DOCKER_LOGIN_ENV_VARS.filter((k) => inlineSecrets.has(k))
  if (inEnvs.length > 0 && inSecrets.length > 0) {
    reportAt(`Docker login variables are split between envs (${inEnvs.join(', ')}) and secrets (${inSecrets.join(', ')}). Give all three in one of them`, ['secrets'], true)
  } else if ((inEnvs.length > 0 && inEnvs.length < 3) || (inSecrets.length > 0 && inSecrets.length < 3)) {
    const where = inEnvs.length > 0 ? 'envs' : 'secrets'
    const missing = DOCKER_LOGIN_ENV_VARS.filter((k) => !(where === 'envs' ? inEnvs : inSecrets).includes(k))
    reportAt(`Docker login variables must be given together: ${where} lacks ${missing.join(', ')}. Add them, or remove the others`, [where], true)
  }

  // Env substitution into the sections SkyPilot fills.
  const fill = (key: string): PyNode | undefined => {
    const v = dictGet(config, key)
    if (isNone(v)) return undefined
    try {
      return fillEnvVars(v as PyNode, vars)
    } catch (err) {
      if (!(err instanceof FillError)) throw err
      report(`${key}: ${err.message}`, err.node)
      return undefined
    }
  }
  const fileMounts = fill('file_mounts')
  const service = fill('service')
  fill('workdir')
  fill('volumes')

  const numNodes = dictGet(config, 'num_nodes')
  if (numNodes && !isNone(numNodes)) {
    if (numNodes.type === 'float' && Number.isInteger(numNodes.value)) {
      report(`num_nodes: must be a whole number, got ${pyStr(numNodes)}. Write it without a decimal point (${numNodes.value})`, numNodes)
    } else if (isPyInt(numNodes) && (pyNumber(numNodes) as number) <= 0) {
      report(`num_nodes: must be 1 or more, got ${pyStr(numNodes)}. Set num_nodes to a positive whole number`, numNodes)
    }
  }

  let volumes: PyNode[] = []
  if (fileMounts?.type === 'dict') {
    volumes = checkFileMounts({ report: (m, n) => report(m, n), storageSchema: (s, dst) => t.schemas.storage(s, dst) }, fileMounts)
  }

  for (const key of ['inputs', 'outputs']) {
    const v = dictGet(config, key)
    if (v?.type === 'dict' && v.entries.length === 0) reportAt(`${key}: is an empty map; SkyPilot needs exactly one entry (name: size in GB). Add it, or remove '${key}'`, [key], true)
  }

  // `config:` gives lifecycle hooks and cluster config overrides, both carried by the resources.
  const taskConfig = dictGet(config, 'config')
  const hooks = truthy(taskConfig) ? dictEntry(taskConfig, 'hooks') : undefined
  const overridesLeft = taskConfig?.type === 'dict' ? taskConfig.entries.filter((e) => !(e.key.type === 'str' && e.key.value === 'hooks')) : []
  const resourcesNode = dictGet(config, 'resources')
  const resources: Dict = resourcesNode?.type === 'dict' ? resourcesNode : { type: 'dict', entries: [] }
  // Resources that are not a map were reported by the task schema; SkyPilot stops there.
  const resourcesReadable = !truthy(resourcesNode) || resourcesNode?.type === 'dict'
  if (resourcesReadable && dictEntry(resources, 'hooks')) {
    reportAt("Lifecycle hooks live under the top-level 'config.hooks', not 'resources.hooks'. Move the list there", ['resources', 'hooks'], true)
  } else if (resourcesReadable) {
    const entries = [...resources.entries]
    if (hooks) entries.push(hooks)
    if (overridesLeft.length > 0) {
      if (dictEntry(resources, '_cluster_config_overrides') && !isNone(dictGet(resources, '_cluster_config_overrides'))) {
        reportAt("Both 'config' and 'resources._cluster_config_overrides' are set. Keep only 'config'", ['resources', '_cluster_config_overrides'], true)
      } else {
        entries.push({ key: { type: 'str', value: '_cluster_config_overrides' }, value: { type: 'dict', entries: overridesLeft } })
      }
    }
    if (volumes.length > 0) {
      // The volumes of `store: volume` mounts replace resources.volumes, as SkyPilot sets them.
      const at = entries.findIndex((e) => e.key.type === 'str' && e.key.value === 'volumes')
      const entry: PyEntry = { key: { type: 'str', value: 'volumes' }, value: { type: 'list', items: volumes } }
      if (at >= 0) entries[at] = entry
      else entries.push(entry)
    }
    checkResources({ report, schema: (c, path) => t.schemas.resources(c as Dict, path) }, { ...resources, entries }, ['resources'])
  }

  const pool = dictGet(config, 'pool')
  if (service && !isNone(pool)) {
    reportAt("A task cannot set both 'service' and 'pool'. Keep one of them", ['pool'], true)
  } else if (service?.type === 'dict') {
    if (t.schemas.service(service, ['service'])) checkServiceSpec(report, service, 'service')
  } else if (pool?.type === 'dict') {
    const spec: Dict = { type: 'dict', entries: [{ key: { type: 'str', value: 'pool' }, value: pool }] }
    if (t.schemas.service(spec, [])) checkServiceSpec(report, spec, 'pool')
  }

  const mounts = dictGet(config, 'volume_mounts')
  if (mounts?.type === 'list') {
    mounts.items.forEach((mount, i) => {
      if (!t.schemas.volumeMount(mount, i)) return
      const volumeConfig = dictGet(mount, 'volume_config')
      // VolumeConfig (a pydantic model) needs these, some of which may be null.
      const required: [string, boolean][] = [
        ['name', false],
        ['type', false],
        ['cloud', false],
        ['name_on_cloud', false],
        ['region', true],
        ['zone', true],
        ['size', true]
      ]
      const missing = volumeConfig?.type === 'dict' ? required.filter(([k, nullable]) => {
        const e = dictEntry(volumeConfig, k)
        return !e || (e.value.type !== 'str' && !(nullable && isNone(e.value)))
      }) : required
      if (missing.length > 0) {
        reportAt(
          `volume_mounts[${i}]: volume_config lacks ${missing.map(([k]) => k).join(', ')}. volume_mounts is written by SkyPilot itself. Use the task's 'volumes:' to mount volumes instead`,
          ['volume_mounts', i]
        )
      }
    })
  }

  return { envNames, requiredEnvs, requiredSecrets, vars }
}

// The task as the client builds it from the entrypoint and the task options, before any request:
// YAML loading and its checks, env and secret overrides, and the resources it asks for.
import fs from 'node:fs'
import path from 'node:path'
import YAML from 'yaml'
import { ctx, Exit, fail, out } from './context.mjs'
import { ENV_KEY_RE, TASK_KEYS, TASK_NAME_RE } from './common.mjs'
import { msg } from './wordings.mjs'

const CLOUD_CAPS = { Kubernetes: ['compute'], SSH: ['compute'] }

/** `check.enabled` as sky check reports it: { Cloud: [capabilities] }; empty means no cloud at all. */
export function enabledCloudMap() {
  const enabled = ctx.cfg.check?.enabled ?? ['Kubernetes']
  return Array.isArray(enabled) ? Object.fromEntries(enabled.map((c) => [c, CLOUD_CAPS[c] ?? ['compute', 'storage']])) : { ...enabled }
}

export function enabledClouds() {
  return Object.keys(enabledCloudMap())
}

/** No cloud enabled: what a SkyPilot without credentials (or the real tier's) has. */
export function noCloud() {
  return enabledClouds().length === 0
}

function requestedStr(nodes, cpus, acc) {
  let what = `CPU:${cpus ?? '2+'}`
  if (acc) what = typeof acc === 'string' ? acc : Array.isArray(acc) ? String(acc[0]) : Object.entries(acc).map(([k, v]) => `${k}:${v}`).join(',')
  return `${nodes}x[${what}]`
}

function normEnvs(obj, what, file) {
  if (obj == null) return {}
  if (typeof obj !== 'object' || Array.isArray(obj)) {
    throw fail(1, `ValueError: Invalid task YAML ${file}: '${what}' must be a mapping.`)
  }
  const outEnv = {}
  for (const [k, v] of Object.entries(obj)) {
    if (!ENV_KEY_RE.test(k)) throw fail(1, `ValueError: Invalid task YAML ${file}: invalid ${what} key '${k}'.`)
    outEnv[k] = v == null ? null : typeof v === 'object' ? JSON.stringify(v) : String(v)
  }
  return outEnv
}

export function parseInfra(infra) {
  if (!infra) return null
  const [cloudRaw, region] = String(infra).split('/')
  const c = cloudRaw.toLowerCase()
  const names = {
    aws: 'AWS',
    gcp: 'GCP',
    azure: 'Azure',
    k8s: 'Kubernetes',
    kubernetes: 'Kubernetes',
    lambda: 'Lambda',
    runpod: 'RunPod',
    nebius: 'Nebius',
    oci: 'OCI',
    ssh: 'SSH',
    slurm: 'Slurm',
    '*': null
  }
  const cloud = c in names ? names[c] : cloudRaw
  if (!cloud) return null
  return { cloud, region: region ?? (cloud === 'Kubernetes' ? 'in-cluster' : null) }
}

function gpuCount(acc) {
  if (!acc) return 0
  if (typeof acc === 'string') {
    const m = /:(\d+)$/.exec(acc)
    return m ? Number(m[1]) : 1
  }
  if (Array.isArray(acc)) return gpuCount(acc[0])
  if (typeof acc === 'object') return Number(Object.values(acc)[0] ?? 1)
  return 0
}

/** Build the task list from the entrypoint and the task options, as the client does before any request. */
export function loadTasks(entry, o, { allowPipeline, command = 'launch' }) {
  let configs
  let file = '<command>'
  if (entry.length === 1 && /\.ya?ml$/i.test(entry[0])) {
    file = entry[0]
    let text
    try {
      text = fs.readFileSync(file, 'utf8')
    } catch {
      throw fail(1, `FileNotFoundError: [Errno 2] No such file or directory: '${file}'`)
    }
    const docs = YAML.parseAllDocuments(text)
    for (const d of docs) {
      if (d.errors?.length) {
        throw fail(1, `yaml.scanner.ScannerError: ${d.errors[0].message.split('\n')[0]} (in "${file}")`)
      }
    }
    // The real CLI names the file it runs before it reads the task (cyan stripped in a pipe).
    out(msg.yamlToRun(file))
    configs = docs.map((d) => d.toJS()).filter((c) => c != null)
    if (configs.length === 0) configs = [{}]
    if (configs.length > 1 && Object.keys(configs[0]).every((k) => k === 'name')) {
      const [header, ...rest] = configs
      configs = rest
      configs.pipelineName = header.name
    }
  } else if (entry.length > 0) {
    out(msg.commandToRun(entry.join(' ')))
    configs = [{ name: 'sky-cmd', run: entry.join(' ') }]
  } else {
    configs = [{}]
  }
  if (configs.length > 1 && !allowPipeline) {
    throw new Exit(
      2,
      `Usage: sky ${command} [OPTIONS] ${command === 'exec' ? '[CLUSTER] ' : ''}[ENTRYPOINT]...\nTry 'sky ${command} -h' for help.\n\nError: YAML specifies a DAG which is only supported by \`sky jobs launch\`. \`sky ${command}\` supports a single task only.\n`
    )
  }
  const envOverride = { ...(o.env_file ?? {}) }
  for (const [k, v] of o.env ?? []) envOverride[k] = v
  const secretOverride = { ...(o.secret_file ?? {}) }
  for (const [k, v] of o.secret ?? []) secretOverride[k] = v

  const tasks = configs.map((c) => {
    if (typeof c !== 'object' || Array.isArray(c)) throw fail(1, `ValueError: Invalid task YAML ${file}: not a mapping.`)
    const unknown = Object.keys(c).filter((k) => !TASK_KEYS.has(k))
    if (unknown.length) {
      throw fail(
        1,
        `ValueError: Invalid task YAML: Additional properties are not allowed (${unknown.map((k) => `'${k}'`).join(', ')} ${unknown.length > 1 ? 'were' : 'was'} unexpected)`
      )
    }
    const envs = { ...normEnvs(c.envs, 'envs', file), ...envOverride }
    for (const [k, v] of Object.entries(envs)) if (v == null) throw fail(1, msg.nullEnv(k))
    const secrets = { ...normEnvs(c.secrets, 'secrets', file), ...secretOverride }
    for (const [k, v] of Object.entries(secrets)) if (v == null) throw fail(1, msg.nullSecret(k))
    const name = o.name && configs.length === 1 ? o.name : c.name
    if (name != null && !TASK_NAME_RE.test(String(name))) {
      throw fail(1, `ValueError: Invalid task name ${name}. Valid name: [a-zA-Z0-9]+(?:[._-]{1,2}[a-zA-Z0-9]+)*`)
    }
    const res = c.resources ?? {}
    const infra =
      parseInfra(o.infra ?? o.cloud) ??
      parseInfra(res.infra ?? res.cloud) ??
      parseInfra(enabledClouds()[0] ?? 'kubernetes')
    if (o.region) infra.region = o.region
    else if (res.region) infra.region = res.region
    const gpus = gpuCount(o.gpus ?? res.accelerators)
    let workdir = o.workdir ?? (typeof c.workdir === 'string' ? c.workdir : null)
    if (workdir) {
      workdir = path.resolve(workdir)
      if (!fs.existsSync(workdir) || !fs.statSync(workdir).isDirectory()) {
        throw fail(1, `ValueError: Workdir must be a valid directory (or a symlink to a directory). ${workdir} not found.`)
      }
    }
    const str = (v) => (v == null ? null : typeof v === 'string' ? v : String(v))
    return {
      name: name == null ? null : String(name),
      setup: str(c.setup),
      run: str(c.run),
      envs: { ...envs, ...secrets },
      numNodes: o.num_nodes ?? c.num_nodes ?? 1,
      gpusPerNode: gpus,
      workdir,
      cloud: infra.cloud,
      region: infra.region ?? 'us-east-1',
      useSpot: o.use_spot ?? res.use_spot ?? false,
      resourcesStr: `${o.num_nodes ?? c.num_nodes ?? 1}x ${infra.cloud}(${gpus ? `gpus=${o.gpus ?? JSON.stringify(res.accelerators)}` : 'cpus=2+'})`,
      // The managed job record's `resources`, as the real queue shows it (`1x[CPU:2+]`).
      requested: requestedStr(o.num_nodes ?? c.num_nodes ?? 1, o.cpus ?? res.cpus, o.gpus ?? res.accelerators),
      // The job records' `metadata` (task._metadata, as sky/task.py keeps it).
      metadata: c._metadata && typeof c._metadata === 'object' ? c._metadata : {},
      // The backend's wall-clock limits a task's `config:` gives (Slurm --time minutes, pod deadline).
      limits: { slurmTime: c.config?.slurm?.sbatch_options?.time ?? null, podDeadline: c.config?.kubernetes?.pod_config?.spec?.activeDeadlineSeconds ?? null }
    }
  })
  tasks.pipelineName = configs.pipelineName
  return tasks
}


// The fake `sky` client. See README.md in this directory for the contract.
import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import YAML from 'yaml'
import { parseArgv, UsageError, formatUsageError, helpText, loadGrammar } from './lib/parse.mjs'
import { readLedger, updateLedger } from './lib/ledger.mjs'
import {
  DEFAULT_VERSION,
  LOCAL_SERVER_URL,
  API_VERSION,
  EXIT,
  TERMINAL,
  NAME_RE,
  TASK_NAME_RE,
  ENV_KEY_RE,
  TASK_KEYS,
  exitCodeForStatus,
  readConfig,
  clusterBehaviour,
  matchGlob,
  userName,
  nowSec,
  logsDir,
  writeDone,
  readDone,
  pidAlive,
  killGroup,
  redactUrl,
  minorOf,
  msg
} from './lib/common.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const argv = process.argv.slice(2)
const started = Date.now()
const CHUNK = 1 << 20
const POLL_MS = Number(process.env.FAKE_SKY_POLL_MS ?? 25)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

let H = null
let cfg = {}
let recorded = false
let onInterrupt = null

class Exit extends Error {
  constructor(code, stderr = '', stdout = '') {
    super(stderr)
    this.code = code
    this.stderr = stderr
    this.stdout = stdout
  }
}
const fail = (code, stderr) => new Exit(code, stderr.endsWith('\n') ? stderr : `${stderr}\n`)

function record(code) {
  if (recorded || !H) return
  recorded = true
  const line = JSON.stringify({ argv, pid: process.pid, start: started, end: Date.now(), exit: code })
  try {
    fs.appendFileSync(path.join(H, 'calls.jsonl'), `${line}\n`)
  } catch {}
}

async function finish(code) {
  record(code)
  // Let queued output reach the reader before exiting.
  await Promise.race([new Promise((r) => process.stdout.write('', () => r())), sleep(5000)])
  process.exit(code)
}

const out = (s) => process.stdout.write(s)
const err = (s) => process.stderr.write(s)

process.on('SIGINT', () => {
  if (onInterrupt) onInterrupt()
  // click: KeyboardInterrupt -> Abort -> "Aborted!" on stderr, exit 1.
  err('\nAborted!\n')
  record(1)
  process.exit(1)
})
process.on('SIGTERM', () => {
  record(143)
  process.removeAllListeners('SIGTERM')
  process.kill(process.pid, 'SIGTERM')
})
// The reader went away (e.g. `| head`): stop like a broken pipe would.
process.stdout.on('error', (e) => {
  record(1)
  process.exit(1)
})

// ---------------------------------------------------------------- server
function clientVersion() {
  return String(cfg.version ?? DEFAULT_VERSION)
}

function endpoint() {
  return process.env.SKYPILOT_API_SERVER_ENDPOINT || null
}

function serverUrl() {
  const e = endpoint()
  return e ? redactUrl(e) : LOCAL_SERVER_URL
}

/** GET /api/health as the real client does. */
async function probeHealth() {
  const e = endpoint()
  if (!e) {
    // The local server the real client would start: always there, same version
    // unless config.server.version says otherwise.
    const s = cfg.server ?? {}
    if (s.localUnreachable) return { kind: 'unreachable' }
    return {
      kind: 'ok',
      body: {
        status: 'healthy',
        api_version: String(API_VERSION),
        version: String(s.version ?? clientVersion()),
        commit: 'fake',
        user: { name: userName(cfg), id: 'fake-local-user' }
      }
    }
  }
  let u
  try {
    u = new URL(e)
  } catch {
    return { kind: 'unreachable' }
  }
  const headers = {
    'X-SkyPilot-API-Version': String(API_VERSION),
    'X-SkyPilot-Version': clientVersion()
  }
  const token = process.env.SKYPILOT_SERVICE_ACCOUNT_TOKEN
  if (token) headers.Authorization = `Bearer ${token}`
  else if (u.username) {
    const cred = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`
    headers.Authorization = `Basic ${Buffer.from(cred).toString('base64')}`
  }
  u.username = ''
  u.password = ''
  const base = u.toString().replace(/\/$/, '')
  let res
  try {
    res = await fetch(`${base}/api/health`, { headers, signal: AbortSignal.timeout(2500) })
  } catch {
    return { kind: 'unreachable' }
  }
  let body = null
  try {
    body = await res.json()
  } catch {}
  if (res.status === 401) return { kind: 'auth' }
  if (res.status === 400 && body?.error === 'version_mismatch') return { kind: 'mismatch', message: body.message ?? '' }
  if (res.status !== 200 || !body || !body.version || !body.api_version || !body.commit) return { kind: 'unreachable' }
  return { kind: 'ok', body }
}

function versionProblem(serverVersion) {
  const c = minorOf(clientVersion())
  const s = minorOf(serverVersion)
  if (!c || !s) return null
  const gap = (s[0] - c[0]) * 1000 + (s[1] - c[1])
  if (gap > 1) {
    return msg.clientTooOld({
      clientVersion: clientVersion(),
      serverVersion,
      minVersion: `${s[0]}.${s[1] - 1}.0`
    })
  }
  if (gap < -1) {
    return msg.serverTooOld({
      clientVersion: clientVersion(),
      serverVersion,
      minVersion: `${c[0]}.${c[1] - 1}.0`
    })
  }
  return null
}

/** The check every server-bound command makes first (check_server_healthy). */
async function ensureServer() {
  const h = await probeHealth()
  const url = serverUrl()
  if (h.kind === 'unreachable') throw fail(1, msg.connection(url))
  if (h.kind === 'auth') throw fail(1, msg.auth(url))
  if (h.kind === 'mismatch') throw fail(1, `sky.exceptions.APIVersionMismatchError: ${h.message}`)
  const problem = versionProblem(h.body.version)
  if (problem) throw fail(1, `sky.exceptions.APIVersionMismatchError: ${problem}`)
  return h.body
}

// ---------------------------------------------------------------- tasks
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

function parseInfra(infra) {
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
function loadTasks(entry, o, { allowPipeline }) {
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
    configs = docs.map((d) => d.toJS()).filter((c) => c != null)
    if (configs.length === 0) configs = [{}]
    if (configs.length > 1 && Object.keys(configs[0]).every((k) => k === 'name')) {
      const [header, ...rest] = configs
      configs = rest
      configs.pipelineName = header.name
    }
  } else if (entry.length > 0) {
    configs = [{ run: entry.join(' ') }]
  } else {
    configs = [{}]
  }
  if (configs.length > 1 && !allowPipeline) {
    throw new Exit(
      2,
      `Usage: sky launch [OPTIONS] [ENTRYPOINT]...\nTry 'sky launch -h' for help.\n\nError: YAML specifies a DAG which is only supported by \`sky jobs launch\`. \`sky launch\` supports a single task only.\n`
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
      parseInfra(
        (Array.isArray(cfg.check?.enabled) ? cfg.check.enabled[0] : Object.keys(cfg.check?.enabled ?? {})[0]) ??
          'kubernetes'
      )
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
      resourcesStr: `${o.num_nodes ?? c.num_nodes ?? 1}x ${infra.cloud}(${gpus ? `gpus=${o.gpus ?? JSON.stringify(res.accelerators)}` : 'cpus=2+'})`
    }
  })
  tasks.pipelineName = configs.pipelineName
  return tasks
}

function checkClusterName(name, op) {
  if (!NAME_RE.test(name)) throw fail(1, msg.invalidClusterName(name))
  if (name.startsWith('sky-jobs-controller-') || name.startsWith('sky-serve-controller-')) {
    throw fail(1, `sky.exceptions.NotSupportedError: ${op} is not allowed for SkyPilot controller '${name}'.`)
  }
}

// The environment a job sees: the remote node's, not the caller's.
function remoteBaseEnv() {
  if (cfg.job?.inheritEnv) return { ...process.env }
  const e = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: process.env.LANG ?? 'C.UTF-8' }
  e.HOME = path.join(H, 'nodes', 'home')
  fs.mkdirSync(e.HOME, { recursive: true })
  e.USER = userName(cfg)
  return e
}

function spawnRunner(requestId, jobEnv) {
  const env = { ...process.env, FAKE_SKY_JOB_ENV: JSON.stringify(jobEnv) }
  delete env.NODE_OPTIONS
  const child = spawn(process.execPath, [path.join(HERE, 'runner.mjs'), H, requestId], {
    detached: true,
    stdio: 'ignore',
    env
  })
  child.unref()
  updateLedger(H, (l) => {
    const r = l.requests.find((x) => x.request_id === requestId)
    if (r) r.pid = child.pid
  })
  return child.pid
}

// ---------------------------------------------------------------- streaming
async function writeOut(buf) {
  if (!process.stdout.write(buf)) {
    await new Promise((resolve) => {
      const done = () => {
        process.stdout.off('drain', done)
        process.stdout.off('close', done)
        resolve()
      }
      process.stdout.on('drain', done)
      process.stdout.on('close', done)
    })
  }
}

/** Relay a growing log file to stdout until its `.done` file appears; returns the done record. */
async function follow(file, { pid, from = 0, followMode = true } = {}) {
  const doneFile = `${file}.done`
  let fd = null
  while (fd === null) {
    try {
      fd = fs.openSync(file, 'r')
    } catch {
      const d = readDone(doneFile)
      if (d) return d
      await sleep(POLL_MS)
    }
  }
  let pos = from
  let done = null
  let lastCheck = Date.now()
  for (;;) {
    const buf = Buffer.allocUnsafe(CHUNK)
    const n = fs.readSync(fd, buf, 0, CHUNK, pos)
    if (n > 0) {
      pos += n
      await writeOut(n === CHUNK ? buf : buf.subarray(0, n))
      continue
    }
    if (done) break
    done = readDone(doneFile)
    if (done) continue // one more drain after the writer finished
    if (!followMode) break
    if (pid && Date.now() - lastCheck > 1000) {
      lastCheck = Date.now()
      if (!pidAlive(pid)) {
        done = readDone(doneFile) ?? { status: 'FAILED_DRIVER', error: 'RuntimeError: the fake server process died.' }
        continue
      }
    }
    await sleep(POLL_MS)
  }
  fs.closeSync(fd)
  return done
}

// ---------------------------------------------------------------- launch / exec
function newRequest(l, name, cluster) {
  const request = {
    request_id: crypto.randomUUID(),
    name,
    cluster_name: cluster,
    status: 'RUNNING',
    created_at: Date.now() / 1000,
    finished_at: null,
    user_name: userName(cfg),
    pid: null,
    log: null
  }
  request.log = path.join(logsDir(H, 'requests'), `${request.request_id}.log`)
  l.requests.push(request)
  return request
}

function writeSpec(requestId, spec) {
  fs.mkdirSync(path.join(H, 'requests'), { recursive: true })
  fs.writeFileSync(path.join(H, 'requests', `${requestId}.json`), JSON.stringify(spec))
}

async function waitRequest(request, { async: isAsync }) {
  if (isAsync) {
    out(msg.submitted(request.name, request.request_id, serverUrl()))
    return null
  }
  onInterrupt = () => out(`\n${msg.asyncHint(request.request_id, serverUrl())}`)
  const done = await follow(request.log, { pid: request.pid })
  onInterrupt = null
  if (done.status === 'CANCELLED') {
    throw fail(1, `sky.exceptions.RequestCancelled: Request ${request.request_id} is cancelled by the user.`)
  }
  if (done.status !== 'SUCCEEDED') throw fail(1, done.error ?? 'RuntimeError: request failed')
  return done
}

async function tailClusterJob(cluster, jobId) {
  const job = readLedger(H).jobs.find((j) => j.cluster === cluster && j.job_id === jobId)
  if (!job) return EXIT.NOT_FOUND
  out('├── Waiting for task resources on 1 node.\n')
  out('└── Job started. Streaming logs... (Ctrl-C to exit log streaming; job will not be killed)\n')
  const done = await follow(job.log, { pid: job.pid })
  return exitCodeForStatus(done?.status)
}

function clusterHints(jobId, cluster) {
  return (
    `\nJob ID: ${jobId}\n📋 Useful Commands\n` +
    `├── To cancel the job:\t\tsky cancel ${cluster} ${jobId}\n` +
    `├── To stream job logs:\t\tsky logs ${cluster} ${jobId}\n` +
    `└── To view job queue:\t\tsky queue ${cluster}\n` +
    `\nCluster name: ${cluster}\n` +
    `├── To log into the head VM:\tssh ${cluster}\n` +
    `├── To submit a job:\t\tsky exec ${cluster} yaml_file\n` +
    `├── To stop the cluster:\tsky stop ${cluster}\n` +
    `└── To teardown the cluster:\tsky down ${cluster}\n`
  )
}

async function cmdLaunch({ opts: o, args }) {
  const entry = args.entrypoint ?? []
  const tasks = loadTasks(entry, o, { allowPipeline: false })
  const task = tasks[0]
  const cluster = o.cluster ?? `sky-${crypto.randomBytes(2).toString('hex')}-${userName(cfg)}`
  checkClusterName(cluster, 'Launching tasks on it')
  await ensureServer()
  const { launch: b } = clusterBehaviour(cfg, cluster)
  const existing = readLedger(H).clusters.find((c) => c.name === cluster)
  if (o.dryrun) {
    out(`Dryrun finished.\n`)
    return 0
  }
  if (!o.yes) {
    out(
      existing?.status === 'UP'
        ? `Running task on cluster ${cluster}. Proceed? [Y/n]: \n`
        : `Launching a new cluster '${cluster}'. Proceed? [Y/n]: \n`
    )
    throw fail(1, 'Aborted!')
  }
  const idle = o.idle_minutes_to_autostop ?? null
  const request = updateLedger(H, (l) => {
    const attempts = (l.counters.attempts[cluster] = (l.counters.attempts[cluster] ?? 0) + 1)
    let c = l.clusters.find((x) => x.name === cluster)
    const created = !c
    if (!c) {
      c = {
        name: cluster,
        status: 'INIT',
        autostop: -1,
        to_down: false,
        launched_at: nowSec(),
        cloud: task.cloud,
        region: task.region,
        zone: null,
        resources_str: task.resourcesStr,
        num_nodes: task.numNodes,
        user_name: userName(cfg),
        workspace: o.workspace ?? 'default',
        next_job_id: 1
      }
      l.clusters.push(c)
    }
    c.autostop = idle ?? (o.down ? 0 : -1)
    c.to_down = Boolean(o.down)
    const r = newRequest(l, 'sky.launch', cluster)
    r.created_cluster = created
    r.reuse = c.status === 'UP'
    r.fail = !r.reuse && (b.fail === true || attempts <= (b.failTimes ?? 0))
    return r
  })
  writeSpec(request.request_id, {
    kind: 'launch',
    cluster,
    createdCluster: request.created_cluster,
    reuse: request.reuse,
    requestLog: request.log,
    tasks: tasks.map(({ envs, ...t }) => t),
    workdir: task.workdir,
    cloud: task.cloud,
    region: task.region,
    down: Boolean(o.down),
    idle: idle && idle > 0 ? idle : null,
    noSetup: Boolean(o.no_setup),
    user: userName(cfg),
    behaviour: {
      provisionMs: b.provisionMs ?? 0,
      hang: Boolean(b.hang),
      fail: request.fail,
      failMessage: b.failMessage ?? msg.noResources,
      leaveInit: Boolean(b.leaveInit)
    }
  })
  request.pid = spawnRunner(request.request_id, { ...remoteBaseEnv(), ...task.envs })
  const done = await waitRequest(request, { async: o.async })
  if (!done) return 0
  if (o.detach_run || task.run == null) {
    out(clusterHints(done.job_id, cluster))
    return 0
  }
  const code = await tailClusterJob(cluster, done.job_id)
  out(clusterHints(done.job_id, cluster))
  return code
}

async function cmdExec({ opts: o, args }) {
  let cluster = args.cluster
  let entry = args.entrypoint ?? []
  if (o.cluster) {
    if (cluster) entry = [cluster, ...entry]
    cluster = o.cluster
  }
  if (!cluster) throw usage('exec', "Missing argument '[CLUSTER]' and '[ENTRYPOINT]...'")
  if (entry.length === 0) throw usage('exec', "Missing argument '[ENTRYPOINT]...'")
  const tasks = loadTasks(entry, o, { allowPipeline: false })
  const task = tasks[0]
  checkClusterName(cluster, 'Executing task on it')
  out(`Submitting job to cluster: ${cluster}\n`)
  await ensureServer()
  const request = updateLedger(H, (l) => {
    const c = l.clusters.find((x) => x.name === cluster)
    if (!c) return { error: `sky.exceptions.ClusterDoesNotExist: Cluster '${cluster}' does not exist.` }
    if (c.status !== 'UP') {
      return {
        error: `sky.exceptions.ClusterNotUpError: Cluster '${cluster}' is not up (status: ${c.status}). Please wait for the cluster to be up or use \`sky start\`.`
      }
    }
    return newRequest(l, 'sky.exec', cluster)
  })
  if (request.error) throw fail(1, request.error)
  const c = readLedger(H).clusters.find((x) => x.name === cluster)
  writeSpec(request.request_id, {
    kind: 'exec',
    cluster,
    requestLog: request.log,
    tasks: tasks.map(({ envs, ...t }) => t),
    workdir: task.workdir,
    cloud: c?.cloud ?? task.cloud,
    region: c?.region ?? task.region,
    user: userName(cfg)
  })
  request.pid = spawnRunner(request.request_id, { ...remoteBaseEnv(), ...task.envs })
  const done = await waitRequest(request, { async: o.async })
  if (!done || o.detach_run) return 0
  return tailClusterJob(cluster, done.job_id)
}

// ---------------------------------------------------------------- cluster queries
function publicCluster(c) {
  const { next_job_id, ...rest } = c
  return rest
}

function matchNames(all, patterns) {
  if (!patterns?.length) return all
  return all.filter((c) => patterns.some((p) => matchGlob(p, c.name)))
}

async function cmdStatus({ opts: o, args }) {
  await ensureServer()
  const records = matchNames(readLedger(H).clusters, args.clusters).map(publicCluster)
  if (o.output === 'json') {
    out(`${JSON.stringify(records, null, 2)}\n`)
    return 0
  }
  if (records.length === 0) {
    out('Clusters\nNo existing clusters.\n')
    return 0
  }
  const rows = [['NAME', 'INFRA', 'RESOURCES', 'STATUS', 'AUTOSTOP', 'LAUNCHED']]
  for (const r of records) {
    rows.push([
      r.name,
      `${r.cloud} (${r.region})`,
      r.resources_str,
      r.status,
      r.autostop < 0 ? '-' : `${r.autostop}m${r.to_down ? ' (down)' : ''}`,
      new Date(r.launched_at * 1000).toISOString()
    ])
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)))
  out(`Clusters\n${rows.map((row) => row.map((v, i) => String(v).padEnd(widths[i])).join('  ').trimEnd()).join('\n')}\n`)
  return 0
}

function publicJob(j) {
  return {
    job_id: j.job_id,
    job_name: j.job_name,
    username: j.user_name ?? userName(cfg),
    submitted_at: j.submitted_at,
    start_at: j.start_at,
    end_at: j.end_at,
    status: j.status,
    log_path: j.log
  }
}

function clusterOrFail(l, name) {
  const c = l.clusters.find((x) => x.name === name)
  if (!c) throw fail(1, `sky.exceptions.ClusterDoesNotExist: Cluster '${name}' does not exist.`)
  return c
}

async function cmdQueue({ opts: o, args }) {
  await ensureServer()
  const l = readLedger(H)
  const names = args.clusters?.length ? args.clusters : l.clusters.map((c) => c.name)
  const result = {}
  for (const n of names) {
    clusterOrFail(l, n)
    let jobs = l.jobs.filter((j) => j.cluster === n).map(publicJob).reverse()
    if (o.skip_finished) jobs = jobs.filter((j) => !TERMINAL.has(j.status))
    result[n] = jobs
  }
  if (o.output === 'json') {
    out(`${JSON.stringify(result, null, 2)}\n`)
    return 0
  }
  for (const [n, jobs] of Object.entries(result)) {
    out(`Job queue of current user on cluster ${n}\nID  NAME  STATUS\n`)
    for (const j of jobs) out(`${j.job_id}  ${j.job_name ?? '-'}  ${j.status}\n`)
  }
  return 0
}

async function cmdLogs({ opts: o, args }) {
  if (!args.cluster) throw usage('logs', "Missing argument 'CLUSTER'.")
  await ensureServer()
  const l = readLedger(H)
  const c = clusterOrFail(l, args.cluster)
  const jobs = l.jobs.filter((j) => j.cluster === c.name)
  if (o.provision) {
    const r = [...l.requests].reverse().find((x) => x.cluster_name === c.name && x.name === 'sky.launch')
    if (r) out(fs.readFileSync(r.log, 'utf8'))
    return 0
  }
  const ids = args.job_ids ?? []
  const job = ids.length ? jobs.find((j) => String(j.job_id) === String(ids[0])) : jobs[jobs.length - 1]
  if (o.status) {
    if (!job) {
      out(`Job ${ids[0] ?? ''} not found.\n`.replace('Job  ', 'Job '))
      return EXIT.NOT_FOUND
    }
    out(`Job ${job.job_id}: ${job.status}\n`)
    return exitCodeForStatus(job.status)
  }
  if (!job) {
    err(`Job ${ids[0] ?? ''} not found.\n`)
    return EXIT.NOT_FOUND
  }
  const follows = o.follow !== false
  const done = await follow(job.log, { pid: job.pid, followMode: follows })
  if (!done) return exitCodeForStatus(readLedger(H).jobs.find((j) => j.log === job.log)?.status)
  return exitCodeForStatus(done.status)
}

// ---------------------------------------------------------------- teardown
function cancelProcessesOf(l, predicate) {
  const pids = []
  for (const j of l.jobs) {
    if (predicate(j.cluster) && !TERMINAL.has(j.status)) {
      j.status = 'CANCELLED'
      j.end_at = Date.now() / 1000
      writeDone(`${j.log}.done`, { status: 'CANCELLED' })
      if (j.pid) pids.push(j.pid)
    }
  }
  // Terminating a cluster cancels the requests still running on it.
  for (const r of l.requests) {
    if (predicate(r.cluster_name) && (r.status === 'RUNNING' || r.status === 'PENDING')) {
      r.status = 'CANCELLED'
      r.finished_at = Date.now() / 1000
      writeDone(`${r.log}.done`, { status: 'CANCELLED' })
      if (r.pid) pids.push(r.pid)
    }
  }
  return pids
}

async function cmdDown({ opts: o, args }) {
  return downOrStop({ opts: o, args }, true)
}

async function cmdStop({ opts: o, args }) {
  return downOrStop({ opts: o, args }, false)
}

async function downOrStop({ opts: o, args }, down) {
  const command = down ? 'down' : 'stop'
  const names = args.clusters ?? []
  if (!names.length && !o.all && !o.all_users) {
    throw usage(
      command,
      `\`sky ${command}\` requires either a cluster name or glob (see \`sky status\`), or the -a/--all flag for all your clusters, or the -u/--all-users flag for all clusters in your team.`
    )
  }
  await ensureServer()
  const l0 = readLedger(H)
  const targets = (o.all || o.all_users ? l0.clusters : matchNames(l0.clusters, names)).map((c) => c.name)
  if (!targets.length) {
    out('Cluster(s) not found (tip: see `sky status`).\n')
    return 0
  }
  const operation = down ? 'Terminating' : 'Stopping'
  if (!o.yes) {
    out(`${operation} ${targets.length} cluster${targets.length > 1 ? 's' : ''}: ${targets.join(', ')}. Proceed? [Y/n]: \n`)
    throw fail(1, 'Aborted!')
  }
  out('\n')
  const failures = []
  for (const name of targets) {
    const { down: d } = clusterBehaviour(cfg, name)
    const result = updateLedger(H, (l) => {
      const c = l.clusters.find((x) => x.name === name)
      if (!c) return { gone: true }
      const key = `${command}:${name}`
      const n = (l.counters.attempts[key] = (l.counters.attempts[key] ?? 0) + 1)
      if (down && (d.fail === true || n <= (d.failTimes ?? 0)) && !o.purge) {
        return { failed: d.failMessage ?? 'Failed to terminate the cluster: the cloud API returned an error.' }
      }
      if (down && (d.ignore === true || n <= (d.ignoreTimes ?? 0))) return { ignored: true }
      const pids = cancelProcessesOf(l, (cl) => cl === name)
      if (down) l.clusters.splice(l.clusters.indexOf(c), 1)
      else c.status = 'STOPPED'
      return { pids }
    })
    for (const pid of result.pids ?? []) killGroup(pid)
    if (result.failed) {
      failures.push(name)
      out(`${operation} cluster ${name}...failed. \nReason: RuntimeError: ${result.failed}.\n`)
    } else {
      out(`${operation} cluster ${name}...done.\n${down ? '' : `  To restart the cluster, run: sky start ${name}\n`}`)
    }
  }
  if (failures.length) {
    out(
      `Cluster(s) failed. See details above.${down ? ' If you want to ignore the errors and remove the cluster(s) from the status table, use `sky down --purge`.' : ''}\n`
    )
  }
  return 0
}

async function cmdStart({ args }) {
  await ensureServer()
  for (const name of args.clusters ?? []) {
    updateLedger(H, (l) => {
      const c = l.clusters.find((x) => x.name === name)
      if (c) c.status = 'UP'
    })
    out(`Cluster ${name} started.\n`)
  }
  return 0
}

async function cmdAutostop({ opts: o, args }) {
  await ensureServer()
  const l0 = readLedger(H)
  for (const c of matchNames(l0.clusters, args.clusters)) {
    updateLedger(H, (l) => {
      const x = l.clusters.find((y) => y.name === c.name)
      if (!x) return
      x.autostop = o.cancel ? -1 : o.idle_minutes ?? 5
      x.to_down = o.cancel ? false : Boolean(o.down)
    })
    out(`Scheduling autostop on cluster '${c.name}'...done\n`)
  }
  return 0
}

async function cmdCancel({ opts: o, args }) {
  if (!args.cluster) throw usage('cancel', "Missing argument 'CLUSTER'.")
  await ensureServer()
  const ids = (args.jobs ?? []).map(String)
  if (!ids.length && !o.all && !o.all_users) {
    throw usage('cancel', 'sky cancel requires either a job id (see `sky queue <cluster_name> -aj`) or the --all flag.')
  }
  const pids = updateLedger(H, (l) => {
    clusterOrFail(l, args.cluster)
    const found = []
    for (const j of l.jobs) {
      if (j.cluster !== args.cluster || TERMINAL.has(j.status)) continue
      if (!(o.all || o.all_users || ids.includes(String(j.job_id)))) continue
      j.status = 'CANCELLED'
      j.end_at = Date.now() / 1000
      writeDone(`${j.log}.done`, { status: 'CANCELLED' })
      found.push(j)
    }
    return found
  })
  for (const j of pids) killGroup(j.pid)
  out(pids.length ? `Cancelled job(s): ${pids.map((j) => j.job_id).join(', ')}\n` : 'No jobs to cancel.\n')
  return 0
}

// ---------------------------------------------------------------- check / api
const CLOUD_CAPS = { Kubernetes: ['compute'], SSH: ['compute'] }

async function cmdCheck({ opts: o, args }) {
  await ensureServer()
  const enabled = cfg.check?.enabled ?? ['Kubernetes']
  let clouds = Array.isArray(enabled)
    ? Object.fromEntries(enabled.map((c) => [c, CLOUD_CAPS[c] ?? ['compute', 'storage']]))
    : { ...enabled }
  if (args.infra_list?.length) {
    const want = args.infra_list.map((x) => x.toLowerCase().replace(/^k8s$/, 'kubernetes'))
    clouds = Object.fromEntries(Object.entries(clouds).filter(([k]) => want.includes(k.toLowerCase())))
  }
  const ws = o.workspace ?? 'default'
  if (o.output === 'json') {
    out(`${JSON.stringify({ [ws]: clouds }, null, 2)}\n`)
    return 0
  }
  out('Checking credentials to enable infra for SkyPilot.\n')
  if (Object.keys(clouds).length === 0) {
    out('\nNo cloud is enabled. SkyPilot will not be able to run any task. Run `sky check` for more info.\n')
  } else {
    out(`\n🎉 Enabled infra 🎉\n${Object.entries(clouds).map(([k, v]) => `  ${k} [${v.join(', ')}]`).join('\n')}\n`)
  }
  out(`\nUsing SkyPilot API server: ${serverUrl()}\n`)
  return 0
}

async function cmdApiInfo({ opts: o }) {
  const url = serverUrl()
  if (o.output !== 'json') out(`SkyPilot client version: ${clientVersion()}, commit: fake\n`)
  const h = await probeHealth()
  if (h.kind !== 'ok') {
    // sky api info prints this (not JSON) and exits 0, even with -o json.
    if (!endpoint()) {
      out('No SkyPilot API server is connected\n├── To connect to an existing API server: sky api login\n└── To start a local API server: sky api start\n')
    } else {
      out(
        `Could not connect to SkyPilot API server at ${url}\n` +
          `├── To re-login to the API server: sky api login --relogin -e ${url}\n` +
          '└── To logout the server: sky api logout\n'
      )
    }
    return 0
  }
  const b = h.body
  const user = b.user?.name ?? userName(cfg)
  if (o.output === 'json') {
    const data = {
      client: { version: clientVersion(), commit: 'fake' },
      server: { url, status: b.status, version: b.version, commit: b.commit, api_version: b.api_version },
      user
    }
    out(`${JSON.stringify(data, null, 2)}\n`)
    return 0
  }
  out(
    `Using SkyPilot API server and dashboard: ${url}\n` +
      `├── Status: ${b.status}, commit: ${b.commit}, version: ${b.version}\n` +
      `├── User: ${user} (${b.user?.id ?? 'local'})\n` +
      `└── ${endpoint() ? 'Endpoint set via the environment variable SKYPILOT_API_SERVER_ENDPOINT' : 'Endpoint set to default local API server.'}\n`
  )
  return 0
}

async function cmdApiCancel({ opts: o, args }) {
  await ensureServer()
  const prefixes = args.request_ids ?? []
  if (!prefixes.length && !o.all && !o.all_users) {
    throw usage('api cancel', 'Either specify request ID(s) or use --all to cancel all requests.')
  }
  const killed = updateLedger(H, (l) => {
    const hits = []
    for (const r of l.requests) {
      if (!(o.all || o.all_users || prefixes.some((p) => r.request_id.startsWith(p)))) continue
      if (r.status !== 'RUNNING' && r.status !== 'PENDING') continue
      r.status = 'CANCELLED'
      r.finished_at = Date.now() / 1000
      writeDone(`${r.log}.done`, { status: 'CANCELLED' })
      hits.push(r)
    }
    return hits
  })
  // The request's process is still before job submission (a submitted job
  // finishes its request): stopping it stops the launch. The cluster stays.
  for (const r of killed) killGroup(r.pid)
  if (!killed.length) out('No requests need to be cancelled.\n')
  else out(`Cancelled ${killed.length} request${killed.length > 1 ? 's' : ''}: ${killed.map((r) => r.request_id).join(', ')}\n`)
  return 0
}

async function cmdApiLogs({ args }) {
  await ensureServer()
  const id = args.request_id
  const l = readLedger(H)
  const r = id ? l.requests.find((x) => x.request_id.startsWith(id)) : l.requests[l.requests.length - 1]
  if (!r) throw fail(1, `ValueError: Request ${id} not found.`)
  const done = await follow(r.log, { pid: r.pid })
  if (done?.error) err(`${done.error}\n`)
  return 0
}

async function cmdApiStatus({ opts: o, args }) {
  await ensureServer()
  let reqs = readLedger(H).requests
  const prefixes = args.request_id_prefixes ?? []
  if (prefixes.length) reqs = reqs.filter((r) => prefixes.some((p) => r.request_id.startsWith(p)))
  else if (!o.all_status) reqs = reqs.filter((r) => r.status === 'RUNNING' || r.status === 'PENDING')
  if (o.cluster) reqs = reqs.filter((r) => r.cluster_name === o.cluster)
  const pub = reqs.map((r) => ({
    request_id: r.request_id,
    name: r.name,
    user_name: r.user_name,
    cluster_name: r.cluster_name,
    status: r.status,
    created_at: r.created_at,
    finished_at: r.finished_at
  }))
  if (o.output === 'json') out(`${JSON.stringify(pub, null, 2)}\n`)
  else for (const r of pub) out(`${r.request_id}  ${r.name}  ${r.status}\n`)
  return 0
}

// ---------------------------------------------------------------- managed jobs
async function cmdJobsLaunch({ opts: o, args }) {
  const tasks = loadTasks(args.entrypoint ?? [], { ...o, name: undefined }, { allowPipeline: true })
  const name = o.name ?? tasks.pipelineName ?? tasks[0].name ?? 'sky-managed-job'
  if (!NAME_RE.test(name)) throw fail(1, msg.invalidClusterName(name))
  await ensureServer()
  if (!o.yes) {
    out(`Launching a managed job '${name}'. Proceed? [Y/n]: \n`)
    throw fail(1, 'Aborted!')
  }
  const mcfg = cfg.managed ?? {}
  const behaviour = clusterBehaviour(cfg, name).launch
  const request = updateLedger(H, (l) => newRequest(l, 'sky.jobs.launch', null))
  writeSpec(request.request_id, {
    kind: 'jobs.launch',
    cluster: null,
    requestLog: request.log,
    tasks: tasks.map(({ envs, ...t }) => t),
    workdir: tasks[0].workdir,
    cloud: tasks[0].cloud,
    region: tasks[0].region,
    user: userName(cfg),
    behaviour: { provisionMs: behaviour.provisionMs ?? mcfg.provisionMs ?? 0, failMessage: mcfg.failMessage },
    managed: {
      name,
      cluster: `${name}-${request.request_id.slice(0, 4)}`,
      preemptTimes: mcfg.preemptTimes ?? 0,
      preemptAfterMs: mcfg.preemptAfterMs ?? 300,
      failNoResource: Boolean(mcfg.failNoResource)
    }
  })
  // Every task of a pipeline gets its own envs; the runner receives the first's as base.
  request.pid = spawnRunner(request.request_id, { ...remoteBaseEnv(), ...tasks[0].envs })
  const done = await waitRequest(request, { async: o.async })
  if (!done || o.detach_run) return 0
  return tailManaged(done.job_id)
}

async function tailManaged(id) {
  const j = readLedger(H).managedJobs.find((x) => x.job_id === Number(id))
  if (!j) {
    err(`No managed job found with ID ${id}.\n`)
    return EXIT.NOT_FOUND
  }
  const done = await follow(j.log, { pid: j.pid })
  return exitCodeForStatus(done?.status)
}

async function cmdJobsQueue({ opts: o }) {
  await ensureServer()
  let jobs = readLedger(H).managedJobs.slice().reverse()
  if (o.skip_finished) jobs = jobs.filter((j) => !TERMINAL.has(j.status))
  if (o.status?.length) jobs = jobs.filter((j) => o.status.includes(j.status))
  if (o.limit) jobs = jobs.slice(0, o.limit)
  const pub = jobs.map((j) => ({
    job_id: j.job_id,
    task_id: j.task_id,
    job_name: j.job_name,
    task_name: j.job_name,
    status: j.status,
    recovery_count: j.recovery_count,
    job_duration: j.job_duration,
    failure_reason: j.failure_reason,
    submitted_at: j.submitted_at,
    start_at: j.start_at,
    end_at: j.end_at,
    user_name: j.user_name
  }))
  if (o.output === 'json') {
    out(`${JSON.stringify(pub, null, 2)}\n`)
    return 0
  }
  out('Fetching managed job statuses...\nManaged jobs\nID  NAME  #RECOVERIES  STATUS\n')
  for (const j of pub) out(`${j.job_id}  ${j.job_name}  ${j.recovery_count}  ${j.status}\n`)
  return 0
}

async function cmdJobsLogs({ opts: o, args }) {
  await ensureServer()
  const l = readLedger(H)
  let j
  if (args.job_id != null) {
    if (!/^\d+$/.test(args.job_id)) throw usage('jobs logs', `Invalid value for '[JOB_ID]': '${args.job_id}' is not a valid integer.`)
    j = l.managedJobs.find((x) => x.job_id === Number(args.job_id))
  } else if (o.name) j = [...l.managedJobs].reverse().find((x) => x.job_name === o.name)
  else j = l.managedJobs[l.managedJobs.length - 1]
  if (!j) {
    err(`No managed job found${args.job_id ? ` with ID ${args.job_id}` : ''}.\n`)
    return EXIT.NOT_FOUND
  }
  const done = await follow(j.log, { pid: j.pid, followMode: o.follow !== false })
  if (!done) return exitCodeForStatus(readLedger(H).managedJobs.find((x) => x.job_id === j.job_id)?.status)
  return exitCodeForStatus(done.status)
}

async function cmdJobsCancel({ opts: o, args }) {
  const ids = (args.job_ids ?? []).map(String)
  if (!ids.length && !o.name && !o.all && !o.all_users) {
    throw usage('jobs cancel', 'Can only specify one of JOB_IDS, --name, --pool, or --all/--all-users. Provided none.')
  }
  await ensureServer()
  if (!o.yes) {
    out(`Cancelling managed job(s) ${ids.join(', ') || o.name || 'all'}. Proceed? [Y/n]: \n`)
    throw fail(1, 'Aborted!')
  }
  const hits = updateLedger(H, (l) => {
    const found = []
    for (const j of l.managedJobs) {
      if (TERMINAL.has(j.status)) continue
      if (!(o.all || o.all_users || ids.includes(String(j.job_id)) || (o.name && j.job_name === o.name))) continue
      j.status = 'CANCELLING'
      found.push(j)
    }
    return found
  })
  for (const j of hits) killGroup(j.pid)
  updateLedger(H, (l) => {
    for (const h of hits) {
      const j = l.managedJobs.find((x) => x.job_id === h.job_id)
      if (j && j.status === 'CANCELLING') {
        j.status = 'CANCELLED'
        j.end_at = Date.now() / 1000
        j.failure_reason = null
      }
    }
  })
  for (const j of hits) {
    try {
      fs.appendFileSync(j.log, `✗ Managed job ${j.job_id} was cancelled.\n`)
    } catch {}
    writeDone(`${j.log}.done`, { status: 'CANCELLED' })
  }
  if (!hits.length) out('No job to cancel.\n')
  else out(`Cancelled managed job(s) with ID(s): ${hits.map((j) => j.job_id).join(', ')}\n`)
  return 0
}

// ---------------------------------------------------------------- dispatch
const grammar = loadGrammar(HERE)

function usage(command, message) {
  return new UsageError(message, command)
}

const COMMANDS = {
  launch: cmdLaunch,
  exec: cmdExec,
  status: cmdStatus,
  queue: cmdQueue,
  logs: cmdLogs,
  down: cmdDown,
  stop: cmdStop,
  start: cmdStart,
  autostop: cmdAutostop,
  cancel: cmdCancel,
  check: cmdCheck,
  'api info': cmdApiInfo,
  'api cancel': cmdApiCancel,
  'api logs': cmdApiLogs,
  'api status': cmdApiStatus,
  'api stop': async () => 0,
  'api start': async () => (out(`SkyPilot API server started at ${LOCAL_SERVER_URL}.\n`), 0),
  'api login': async () => 0,
  'api logout': async () => 0,
  'jobs launch': cmdJobsLaunch,
  'jobs queue': cmdJobsQueue,
  'jobs logs': cmdJobsLogs,
  'jobs cancel': cmdJobsCancel
}

async function main() {
  H = process.env.FAKE_SKY_HOME || null
  if (!H) {
    err('fake sky: FAKE_SKY_HOME is not set (the test double of `sky` needs a ledger directory).\n')
    process.exit(1)
  }
  fs.mkdirSync(H, { recursive: true })
  cfg = readConfig(H)
  const delay = Number(process.env.FAKE_SKY_CALL_DELAY_MS ?? cfg.callDelayMs ?? 0)
  if (delay > 0) await sleep(delay)

  let parsed
  try {
    parsed = parseArgv(grammar, argv)
  } catch (e) {
    if (e instanceof UsageError) {
      err(formatUsageError(grammar, e))
      return finish(2)
    }
    throw e
  }
  const { command, opts, help } = parsed
  if (command === '' && opts.version) {
    out(`skypilot, version ${clientVersion()}\n`)
    return finish(0)
  }
  if (command === '' && opts.commit) {
    out('skypilot, commit fake\n')
    return finish(0)
  }
  if (help || !(command in COMMANDS)) {
    const isGroup = command === '' || Object.keys(grammar).some((k) => k.startsWith(`${command} `))
    if (help || isGroup) {
      out(helpText(grammar, command))
      return finish(help || command === '' ? 0 : 2)
    }
    err(`fake sky: \`sky ${command}\` is not emulated by the test double.\n`)
    return finish(1)
  }
  try {
    const code = await COMMANDS[command](parsed)
    return finish(code ?? 0)
  } catch (e) {
    if (e instanceof UsageError) {
      err(formatUsageError(grammar, e))
      return finish(2)
    }
    if (e instanceof Exit) {
      if (e.stdout) out(e.stdout)
      if (e.stderr) err(e.stderr)
      return finish(e.code)
    }
    err(`fake sky internal error: ${e.stack}\n`)
    return finish(1)
  }
}

await main()

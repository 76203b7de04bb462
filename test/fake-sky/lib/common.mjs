// Shared pieces of the fake: config, paths, status classes. The real wordings are in wordings.mjs.
import fs from 'node:fs'
import path from 'node:path'
import os from 'node:os'
import crypto from 'node:crypto'

export const DEFAULT_VERSION = '0.14.1'
export const LOCAL_SERVER_URL = 'http://127.0.0.1:46580'
// The API version of the real build the contract test runs against (1.0.0-dev0 answers "53").
export const API_VERSION = 53

// sky/exceptions.py JobExitCode
// DRIVER_KILLED: the tail of a job whose driver was killed with its allocation (SIGTERM: 128 + 15) [live, Slurm scancel].
export const EXIT = { SUCCEEDED: 0, FAILED: 100, NOT_FINISHED: 101, NOT_FOUND: 102, CANCELLED: 103, DRIVER_KILLED: 143 }

const CLUSTER_JOB_FAILED = new Set(['FAILED', 'FAILED_SETUP', 'FAILED_DRIVER'])
const MANAGED_FAILED = new Set([
  'FAILED',
  'FAILED_SETUP',
  'FAILED_PRECHECKS',
  'FAILED_NO_RESOURCE',
  'FAILED_CONTROLLER'
])
export const TERMINAL = new Set(['SUCCEEDED', 'CANCELLED', ...CLUSTER_JOB_FAILED, ...MANAGED_FAILED])

export function exitCodeForStatus(status) {
  if (status == null) return EXIT.NOT_FOUND
  if (status === 'SUCCEEDED') return EXIT.SUCCEEDED
  if (status === 'CANCELLED') return EXIT.CANCELLED
  if (CLUSTER_JOB_FAILED.has(status) || MANAGED_FAILED.has(status)) return EXIT.FAILED
  return EXIT.NOT_FINISHED
}

export const NAME_RE = /^[a-zA-Z]([-_.a-zA-Z0-9]*[a-zA-Z0-9])?$/
export const TASK_NAME_RE = /^[a-zA-Z0-9]+(?:[._-]{1,2}[a-zA-Z0-9]+)*$/
export const ENV_KEY_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/

export const TASK_KEYS = new Set([
  'name',
  'workdir',
  'num_nodes',
  'resources',
  'envs',
  'secrets',
  'file_mounts',
  'setup',
  'run',
  'config',
  'service',
  'pool',
  'volumes',
  'event_callback',
  'inputs',
  'outputs',
  'managed_secrets',
  'api_server_access',
  // Internal, but in the real schema: task metadata, kept with the job (sky queue / sky jobs queue -v).
  '_metadata'
])

export function home() {
  const h = process.env.FAKE_SKY_HOME
  if (!h) return null
  fs.mkdirSync(h, { recursive: true })
  return h
}

function isObject(x) {
  return x && typeof x === 'object' && !Array.isArray(x)
}

export function deepMerge(a, b) {
  const out = { ...(a ?? {}) }
  for (const [k, v] of Object.entries(b ?? {})) {
    out[k] = isObject(v) && isObject(out[k]) ? deepMerge(out[k], v) : v
  }
  return out
}

export function readConfig(h) {
  let cfg = {}
  try {
    cfg = JSON.parse(fs.readFileSync(path.join(h, 'config.json'), 'utf8'))
  } catch (e) {
    if (e.code !== 'ENOENT') throw new Error(`fake sky: bad config.json: ${e.message}`)
  }
  return cfg
}

/** fnmatch-style glob (what SkyPilot uses for cluster names). */
export function globToRegExp(glob) {
  let re = ''
  for (const ch of glob) {
    if (ch === '*') re += '.*'
    else if (ch === '?') re += '.'
    else re += ch.replace(/[\\^$+.()|{}[\]]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

export function matchGlob(glob, name) {
  return globToRegExp(glob).test(name)
}

/** The launch behaviour for one cluster: `launch` merged with matching `clusters` overrides. */
export function clusterBehaviour(cfg, cluster) {
  let launch = { ...(cfg.launch ?? {}) }
  let down = { ...(cfg.down ?? {}) }
  for (const [glob, o] of Object.entries(cfg.clusters ?? {})) {
    if (!cluster || !matchGlob(glob, cluster)) continue
    const { launch: l, down: d, ...rest } = o ?? {}
    launch = { ...launch, ...rest, ...(l ?? {}) }
    down = { ...down, ...(d ?? {}) }
  }
  return { launch, down }
}

export function userName(cfg) {
  return cfg.userName ?? process.env.USER ?? os.userInfo().username ?? 'runner'
}

/** The user's 8-hex hash, as SkyPilot names the jobs controller after it (sky-jobs-controller-<hash>). */
export function userHash(cfg) {
  return crypto.createHash('md5').update(userName(cfg)).digest('hex').slice(0, 8)
}

export function controllerName(cfg) {
  return `sky-jobs-controller-${userHash(cfg)}`
}

export function nowSec() {
  return Math.floor(Date.now() / 1000)
}

export function logsDir(h, ...parts) {
  const d = path.join(h, 'logs', ...parts)
  fs.mkdirSync(d, { recursive: true })
  return d
}

export function writeDone(file, obj) {
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, JSON.stringify(obj))
  fs.renameSync(tmp, file)
}

export function readDone(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch {
    return null
  }
}

export function pidAlive(pid) {
  if (!pid) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return e.code === 'EPERM'
  }
}

/** Kill a background runner and everything in its process group. */
export function killGroup(pid) {
  if (!pid) return
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {}
  }
}

/** Parse "X.Y.Z[...]" into [major, minor]; null for dev/unparseable versions. */
export function minorOf(version) {
  if (!version || String(version).includes('dev')) return null
  const m = /^(\d+)\.(\d+)/.exec(String(version))
  return m ? [Number(m[1]), Number(m[2])] : null
}

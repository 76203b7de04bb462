// Shared pieces of the fake: config, paths, status classes, the real wordings.
import fs from 'node:fs'
import path from 'node:path'
import os from 'node:os'

export const DEFAULT_VERSION = '0.14.1'
export const LOCAL_SERVER_URL = 'http://127.0.0.1:46580'
export const API_VERSION = 20

// sky/exceptions.py JobExitCode
export const EXIT = { SUCCEEDED: 0, FAILED: 100, NOT_FINISHED: 101, NOT_FOUND: 102, CANCELLED: 103 }

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
  'api_server_access'
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

/** Strip `user:pass@` from a URL for display. */
export function redactUrl(url) {
  try {
    const u = new URL(url)
    u.username = ''
    u.password = ''
    return u.toString().replace(/\/$/, '')
  } catch {
    return String(url).replace(/\/\/[^@/]*@/, '//')
  }
}

// ---- real wordings (see README for the source files) ----
export const msg = {
  asyncHint(requestId, serverUrl) {
    const s = requestId.slice(0, 8)
    return (
      '⚙︎ Request will continue running asynchronously.\n' +
      `├── View logs: sky api logs ${s}\n` +
      `├── Or, visit: ${serverUrl}/api/stream?request_id=${s}\n` +
      `└── To cancel the request, run: sky api cancel ${s}\n`
    )
  },
  submitted(requestName, requestId, serverUrl) {
    const s = requestId.slice(0, 8)
    return (
      `Submitted ${requestName} request: ${requestId}\n` +
      `├── Check logs with: sky api logs ${s}\n` +
      `├── Or, visit: ${serverUrl}/api/stream?request_id=${s}\n` +
      `└── To cancel the request, run: sky api cancel ${s}\n`
    )
  },
  connection(url) {
    return (
      `sky.exceptions.ApiServerConnectionError: Could not connect to SkyPilot API server at ${url}. ` +
      `Please ensure that the server is running. Try: curl ${url}/api/health`
    )
  },
  auth(url) {
    return (
      `sky.exceptions.ApiServerAuthenticationError: Authentication required for SkyPilot API server at ${url}. ` +
      `Please run:\n  sky api login -e ${url}`
    )
  },
  installCommand(version) {
    return version.includes('dev') ? `pip install -U "skypilot-nightly==${version}"` : `pip install -U "skypilot==${version}"`
  },
  clientTooOld({ clientVersion, serverVersion, minVersion }) {
    // versions.CLIENT_TOO_OLD_ERROR (sic: no space after the colon)
    return (
      `Your SkyPilot client version is too old:${clientVersion}\n` +
      `The server is running on ${serverVersion} and the minimum compatible version is ${minVersion}.\n` +
      `Upgrade your client with:\n${msg.installCommand(serverVersion)}`
    )
  },
  serverTooOld({ clientVersion, serverVersion, minVersion }) {
    return (
      `Your SkyPilot API server version is too old: ${serverVersion}\n` +
      `The client is running on ${clientVersion} and the minimum compatible version is ${minVersion}.\n` +
      'Contact your administrator to upgrade the remote API server or downgrade your client with:\n' +
      `${msg.installCommand(serverVersion)}`
    )
  },
  invalidClusterName(name) {
    return (
      `sky.exceptions.InvalidClusterNameError: Cluster name '${name}' is invalid; ensure it is fully ` +
      'matched by regex (e.g., only contains letters, numbers and dash): [a-zA-Z]([-_.a-zA-Z0-9]*[a-zA-Z0-9])?'
    )
  },
  nullEnv(key) {
    return (
      `ValueError: Environment variable '${key}' is None. Please set a value for it in task YAML or with ` +
      `--env flag. To set it to be empty, use an empty string (${key}: "" in task YAML or --env ${key}="" in CLI).`
    )
  },
  nullSecret(key) {
    return (
      `ValueError: Secret variable '${key}' is None. Please set a value for it in task YAML or with ` +
      `--secret flag. To set it to be empty, use an empty string (${key}: "" in task YAML or --secret ${key}="" in CLI).`
    )
  },
  noResources:
    'sky.exceptions.ResourcesUnavailableError: Failed to provision all possible launchable resources. ' +
    'Relax the task\'s resource requirements: 1x Kubernetes()\nTo keep retrying until the cluster is up, use the `--retry-until-up` flag.'
}

/** Parse "X.Y.Z[...]" into [major, minor]; null for dev/unparseable versions. */
export function minorOf(version) {
  if (!version || String(version).includes('dev')) return null
  const m = /^(\d+)\.(\d+)/.exec(String(version))
  return m ? [Number(m[1]), Number(m[2])] : null
}

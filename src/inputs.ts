import * as core from '@actions/core'
import { parse as parseYaml } from 'yaml'
// zod/mini: the same validation, tree-shaken; the classic API cost ~6 ms more of every start-up.
import * as z from 'zod/mini'
import { parseCost, parseDuration, type Caps } from './caps.js'
import { UserError } from './errors.js'
import { ENV_NAME, parseKeyValues, truncate, type KeyValues } from './kv.js'
import { kubeconfigSecrets } from './kubeconfig.js'
import { clusterNameProblem, jobNameProblem } from './naming.js'
import { maskEndpoint, maskSecret } from './mask.js'

export type Mode = 'launch' | 'exec' | 'managed' | 'collect' | 'down' | 'report'

/** Where a task's YAML comes from. */
export type TaskSource =
  | { kind: 'workspace'; task: string }
  | { kind: 'directory'; basePath: string; task: string }
  | { kind: 'git'; url: string; ref?: string; task: string }
  | { kind: 'inline'; yaml: string }

export interface Resources {
  infra?: string
  gpus?: string
  numNodes?: number
  useSpot?: boolean
  cpus?: string
  memory?: string
  diskSize?: number
}

export interface FanoutTask {
  name: string
  source: TaskSource
  envs: KeyValues
  clusterName?: string
}

export interface ApiServer {
  endpoint: string
  token?: string
}

export interface Inputs {
  mode: Mode
  /** One task (absent with `tasks` and with `mode: collect`). */
  source?: TaskSource
  /** Fan-out: several tasks from one step. */
  tasks?: FanoutTask[]
  envs: KeyValues
  secrets: KeyValues
  clusterName?: string
  clusterPrefix: string
  jobIndex: string
  jobName?: string
  jobRecovery?: string
  detach: boolean
  jobId?: string
  waitMinutes: number
  /** `mode: down` without a cluster name: sweep clusters of the prefix older than this. */
  maxAgeHours?: number
  resources: Resources
  down: boolean
  idleMinutes?: number
  maxParallel: number
  failFast: boolean
  apiServer?: ApiServer
  kubeconfig?: string
  skypilotVersion?: string
  skypilotExtras?: string[]
  retries: number
  retryDelaySeconds: number
  retryOnJobFailure: boolean
  dryRun: boolean
  /** `mode: down` of a named cluster: a cluster that does not exist is not a failure. */
  missingOk: boolean
  /** Names the job may set with `skypilot-output NAME=VALUE` lines. */
  jobOutputs: string[]
  /** Order of fan-out results (and `mode: report`): by a job output, lowest first unless desc. */
  rankBy?: RankBy
  /** `mode: report`: globs of result files. */
  resultsPath: string[]
  commentOnPr: boolean
  githubToken?: string
  /** `max-duration` and `max-cost-usd`: per task, counted from its job's submission. */
  caps: Caps
}

export interface RankBy {
  name: string
  order: 'asc' | 'desc'
}

/** The action's own outputs: a job output may not take one of these names. */
export const ACTION_OUTPUTS = ['cluster-name', 'job-id', 'status', 'exit-code', 'skypilot-version', 'dashboard-url', 'recovery-count', 'results', 'job-outputs', 'best', 'cost-usd']
/** A step output name, as the runner accepts it. */
const OUTPUT_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/

/** Every input the action reads, by its action.yml name. */
export const INPUT_NAMES = [
  'task', 'base-path', 'git-ref', 'task-yaml', 'tasks', 'envs', 'secrets', 'mode', 'cluster-name',
  'cluster-prefix', 'job-index', 'job-name', 'job-recovery', 'detach', 'job-id', 'wait-minutes', 'max-age-hours', 'infra',
  'gpus', 'num-nodes', 'use-spot', 'cpus', 'memory', 'disk-size', 'down', 'idle-minutes-to-autostop',
  'max-parallel', 'fail-fast', 'api-server-endpoint', 'service-account-token', 'kubeconfig',
  'skypilot-version', 'skypilot-extras', 'retries', 'retry-delay-seconds', 'retry-on-job-failure', 'dry-run',
  'missing-ok', 'job-outputs', 'rank-by', 'results-path', 'comment-on-pr', 'github-token',
  'max-duration', 'max-cost-usd'
] as const
export type InputName = (typeof INPUT_NAMES)[number]
export type RawInputs = Record<InputName, string>

/** Reads the raw inputs as the runner passes them (env INPUT_<NAME>, hyphens kept). */
export function readRawInputs(): RawInputs {
  const raw = {} as RawInputs
  for (const name of INPUT_NAMES) raw[name] = core.getInput(name, { trimWhitespace: name !== 'task-yaml' && name !== 'kubeconfig' })
  return raw
}

// ---- field readers: each returns a zod schema over the raw string ----

/**
 * One input field: `read` turns the raw string into a value, or calls `fail` with a message that
 * says what to give instead. Every field's problems are collected in one pass.
 */
function field<T>(read: (value: string, fail: (message: string) => never) => T) {
  return z.pipe(
    z.string(),
    z.transform((value: string, ctx) => {
      try {
        return read(value, (message) => {
          throw new FieldProblem(message)
        })
      } catch (error) {
        if (!(error instanceof FieldProblem)) throw error
        ctx.issues.push({ code: 'custom', message: error.message, input: value })
        return z.NEVER
      }
    })
  )
}

class FieldProblem extends Error {}

const TRUE = ['true', 'yes', 'on', '1']
const FALSE = ['false', 'no', 'off', '0']

/** A boolean input; empty gives `fallback` (undefined: keep whatever the task says). */
function bool<F extends boolean | undefined>(name: string, fallback: F) {
  return field((v, fail) => {
    const s = v.trim().toLowerCase()
    if (s === '') return fallback
    if (TRUE.includes(s)) return true
    if (FALSE.includes(s)) return false
    return fail(`'${name}' must be ${fallback === undefined ? 'true, false or empty' : 'true or false'}, got '${truncate(v, 40)}'.`)
  })
}

/** Minutes, whole or with a fraction (`0.5`): tests and short schedules need less than a minute. */
function minutes(name: string, opts: { max: number; fallback: number }) {
  return field((v, fail) => {
    const s = v.trim()
    if (s === '') return opts.fallback
    if (!/^\d+(\.\d+)?$/.test(s) || Number(s) > opts.max) {
      return fail(`'${name}' must be a number of minutes from 0 to ${opts.max} (e.g. 30 or 0.5), got '${truncate(v, 40)}'.`)
    }
    return Number(s)
  })
}

function int(name: string, opts: { min: number; max: number; fallback?: number }) {
  return field((v, fail) => {
    const s = v.trim()
    if (s === '') return opts.fallback
    if (!/^\d+$/.test(s) || Number(s) < opts.min || Number(s) > opts.max) {
      return fail(`'${name}' must be a whole number from ${opts.min} to ${opts.max}, got '${truncate(v, 40)}'.`)
    }
    return Number(s)
  })
}

/** A value that goes to `sky` as one argument: no control characters, no option look-alike. */
function word(name: string, pattern: RegExp, example: string) {
  return field((v, fail) => {
    const s = v.trim()
    if (s === '') return undefined
    if (!pattern.test(s)) {
      return fail(`'${name}' has an invalid value '${truncate(s, 60)}'; expected something like ${example}.`)
    }
    return s
  })
}

const RESOURCE_AMOUNT = /^\d+(\.\d+)?\+?$/
const INFRA = /^[A-Za-z0-9*][A-Za-z0-9*_.:@-]*(\/[A-Za-z0-9*_.:@-]+){0,2}$/
const GPUS = /^[A-Za-z0-9][A-Za-z0-9_.-]*(:\d+(\.\d+)?)?$/
const VERSION = /^\d+\.\d+(\.\d+)?([.-]?(dev|rc|post|a|b)\d+)?$|^nightly$|^1\.0\.0\.dev\d{8}$/
const EXTRA = /^[a-z][a-z0-9-]*$/
const JOB_RECOVERY = /^[A-Za-z_][A-Za-z0-9_]*$/

const schema = z.object({
  task: z.string(),
  'base-path': z.string(),
  'git-ref': field((v, fail) => {
    const s = v.trim()
    if (s === '') return undefined
    if (!/^[A-Za-z0-9][A-Za-z0-9._/+-]*$/.test(s)) return fail(`'git-ref' has an invalid value '${truncate(s, 60)}'; expected something like main, v1.2 or a commit sha.`)
    if (s.includes('..')) return fail("'git-ref' must not contain '..'.")
    return s
  }),
  'task-yaml': z.string(),
  tasks: z.string(),
  envs: z.string(),
  secrets: z.string(),
  mode: field((v, fail) => {
    const s = v.trim().toLowerCase() || 'launch'
    if (s === 'launch' || s === 'exec' || s === 'managed' || s === 'collect' || s === 'down' || s === 'report') return s as Mode
    return fail(`'mode' must be launch, exec, managed, collect, down or report, got '${truncate(v, 40)}'.`)
  }),
  'cluster-name': field((v, fail) => {
    const s = v.trim()
    if (s === '') return undefined
    const problem = clusterNameProblem(s)
    if (problem) {
      return fail(`'cluster-name': ${problem}`)
    }
    return s
  }),
  'cluster-prefix': field((v, fail) => {
    const s = v.trim() || 'gha'
    if (!/^[a-zA-Z][a-zA-Z0-9-]{0,19}$/.test(s)) {
      return fail(`'cluster-prefix' must start with a letter and hold at most 20 letters, digits and '-', got '${truncate(s, 40)}'.`)
    }
    return s
  }),
  // Empty outside a matrix; anything but a small number is refused rather than silently dropped.
  'job-index': field((v, fail) => {
    const s = v.trim()
    if (s === '' || /^\d{1,4}$/.test(s)) return s
    return fail(`'job-index' must be a whole number (leave it at its default, \${{ strategy.job-index }}), got '${truncate(s, 40)}'.`)
  }),
  'job-name': field((v, fail) => {
    const s = v.trim()
    if (s === '') return undefined
    const problem = jobNameProblem(s)
    return problem ? fail(`'job-name': ${problem}`) : s
  }),
  'job-recovery': word('job-recovery', JOB_RECOVERY, 'EAGER_NEXT_REGION or FAILOVER'),
  detach: bool('detach', false),
  'job-id': word('job-id', /^\d{1,12}$/, 'a job id such as 42'),
  'wait-minutes': minutes('wait-minutes', { max: 7 * 24 * 60, fallback: 300 }),
  'max-age-hours': field((v, fail) => {
    const s = v.trim()
    if (s === '') return undefined
    if (!/^\d+(\.\d+)?$/.test(s) || Number(s) > 24 * 365) return fail(`'max-age-hours' must be a number of hours from 0 to 8760 (e.g. 12 or 0.5), got '${truncate(v, 40)}'.`)
    return Number(s)
  }),
  infra: word('infra', INFRA, 'aws, gcp/us-central1 or k8s/my-context'),
  gpus: word('gpus', GPUS, 'A100:1 or H100:8'),
  'num-nodes': int('num-nodes', { min: 1, max: 1000 }),
  'use-spot': bool('use-spot', undefined),
  cpus: word('cpus', RESOURCE_AMOUNT, '4 or 8+'),
  memory: word('memory', RESOURCE_AMOUNT, '16 or 32+'),
  'disk-size': int('disk-size', { min: 1, max: 65536 }),
  down: bool('down', undefined),
  'idle-minutes-to-autostop': int('idle-minutes-to-autostop', { min: 0, max: 10080 }),
  'max-parallel': int('max-parallel', { min: 1, max: 256, fallback: 4 }),
  'fail-fast': bool('fail-fast', false),
  'api-server-endpoint': z.string(),
  'service-account-token': z.string(),
  kubeconfig: z.string(),
  'skypilot-version': word('skypilot-version', VERSION, '0.14.1 or nightly'),
  'skypilot-extras': field((v, fail) => {
    const list = v.split(/[\s,]+/).map((s) => s.trim().toLowerCase()).filter(Boolean)
    if (list.length === 0) return undefined
    const bad = list.filter((e) => !EXTRA.test(e))
    if (bad.length > 0) {
      return fail(`'skypilot-extras' must be a comma-separated list like aws,kubernetes; '${truncate(bad[0] ?? '', 40)}' is not an extra name.`)
    }
    return [...new Set(list)].sort()
  }),
  retries: int('retries', { min: 0, max: 20, fallback: 2 }),
  'retry-delay-seconds': int('retry-delay-seconds', { min: 0, max: 3600, fallback: 30 }),
  'retry-on-job-failure': bool('retry-on-job-failure', false),
  'dry-run': bool('dry-run', false),
  'missing-ok': bool('missing-ok', false),
  'job-outputs': field((v, fail) => {
    const names = v.split(/[\s,]+/).map((n) => n.trim()).filter(Boolean)
    const bad = names.find((n) => !OUTPUT_NAME.test(n))
    if (bad !== undefined) return fail(`'job-outputs': '${truncate(bad, 40)}' is not an output name; use letters, digits, '_' and '-', starting with a letter or '_' (e.g. val_loss).`)
    const taken = names.find((n) => ACTION_OUTPUTS.includes(n))
    if (taken !== undefined) return fail(`'job-outputs': '${taken}' is one of the action's own outputs; give the job's value another name (e.g. job_${taken.replace(/-/g, '_')}).`)
    return [...new Set(names)]
  }),
  'rank-by': field((v, fail): RankBy | undefined => {
    const s = v.trim()
    if (s === '') return undefined
    const m = /^([A-Za-z_][A-Za-z0-9_-]{0,63})(?:\s+(asc|desc))?$/i.exec(s)
    if (!m) return fail(`'rank-by' must be an output name, optionally followed by asc or desc (e.g. 'val_loss' or 'accuracy desc'), got '${truncate(s, 40)}'.`)
    return { name: m[1]!, order: (m[2]?.toLowerCase() ?? 'asc') as RankBy['order'] }
  }),
  'results-path': z.string(),
  'comment-on-pr': bool('comment-on-pr', false),
  'github-token': z.string(),
  'max-duration': field((v, fail) => {
    if (v.trim() === '') return undefined
    const d = parseDuration(v)
    return 'problem' in d ? fail(d.problem) : { ms: d.ms, text: v.trim() }
  }),
  'max-cost-usd': field((v, fail) => {
    if (v.trim() === '') return undefined
    const c = parseCost(v)
    return 'problem' in c ? fail(c.problem) : c.usd
  })
})

/** Names a task secret may not take: they would change how `sky` itself runs (values ride in its env). */
const RESERVED_ENV = /^(PATH|HOME|PWD|SHELL|USER|TMPDIR|LANG|LD_.*|PYTHON.*|VIRTUAL_ENV|SKYPILOT_.*|KUBECONFIG|GITHUB_.*|RUNNER_.*|ACTIONS_.*|NODE_.*)$/

/**
 * Validates every input at once. Throws one UserError listing every problem with how to fix it;
 * masks every secret value the moment it is read.
 */
export function parseInputs(raw: RawInputs, env: NodeJS.ProcessEnv = process.env): Inputs {
  const problems: string[] = []

  // Secrets first, so they are masked before anything else can print them.
  const token = raw['service-account-token'].trim() || env.SKYPILOT_SERVICE_ACCOUNT_TOKEN?.trim() || ''
  if (token) maskSecret(token)
  const endpoint = raw['api-server-endpoint'].trim() || env.SKYPILOT_API_SERVER_ENDPOINT?.trim() || ''
  if (endpoint) maskEndpoint(endpoint)
  const secretsParsed = parseKeyValues(raw.secrets, "'secrets'", { secret: true })
  for (const value of Object.values(secretsParsed.values)) maskSecret(value)
  // A kubeconfig's credentials only: masking the whole text masked each line, and `apiVersion: v1`
  // was then blanked all over the log. One that cannot be read is masked whole (its credentials
  // cannot be told apart) and refused below.
  const kubeconfig = raw.kubeconfig.trim() ? kubeconfigSecrets(raw.kubeconfig) : undefined
  if (kubeconfig && 'problem' in kubeconfig) maskSecret(raw.kubeconfig)
  else for (const secret of kubeconfig?.secrets ?? []) maskSecret(secret)
  const githubToken = raw['github-token'].trim()
  if (githubToken) maskSecret(githubToken)
  problems.push(...secretsParsed.problems)
  if (kubeconfig && 'problem' in kubeconfig) problems.push(kubeconfig.problem)
  for (const key of Object.keys(secretsParsed.values)) {
    if (RESERVED_ENV.test(key)) problems.push(`'secrets': '${key}' is reserved (it would change how sky itself runs); rename the secret in the task and here.`)
  }

  const result = schema.safeParse(raw)
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(issue.message)
  }
  const envsParsed = parseKeyValues(raw.envs, "'envs'")
  problems.push(...envsParsed.problems)
  for (const key of Object.keys(envsParsed.values)) {
    if (Object.hasOwn(secretsParsed.values, key)) problems.push(`'${key}' is given both in 'envs' and in 'secrets'; keep it in one.`)
  }

  if (endpoint) problems.push(...endpointProblems(endpoint))
  // A token with whitespace would end up in an HTTP header error that echoes it; refuse it first.
  if (token && /[\s\x00-\x1f]/.test(token)) problems.push("'service-account-token' must be one token without spaces or line breaks: copy the whole sky_... value, and nothing else, into the secret.")
  else if (token && !token.startsWith('sky_')) problems.push("'service-account-token' must start with 'sky_' (create one in the API server's dashboard: Users → Service accounts).")
  if (token && !endpoint) problems.push("'service-account-token' is given but no API server: set 'api-server-endpoint' (or env SKYPILOT_API_SERVER_ENDPOINT).")

  if (!result.success) throw new UserError(problems)
  const v = result.data
  const mode = v.mode

  const source = taskSource(raw, v['git-ref'], problems)
  const tasks = raw.tasks.trim() ? parseFanout(raw.tasks, problems) : undefined
  if (tasks && source) problems.push("Give either 'tasks' (fan-out) or one task ('task', 'base-path' + 'task', or 'task-yaml'), not both.")
  if (tasks && mode !== 'launch') problems.push(`'tasks' (fan-out) runs with mode 'launch' only, not '${mode}'.`)
  if (tasks && v['cluster-name']) problems.push("With 'tasks', set each task's 'cluster-name' in the list; 'cluster-name' names one cluster.")
  if (mode === 'down') {
    if (source || tasks) problems.push("'mode: down' takes no task: it tears down 'cluster-name', or the clusters named '<cluster-prefix>-...' older than 'max-age-hours'.")
    if (!v['cluster-name'] && v['max-age-hours'] === undefined) {
      problems.push("'mode: down' needs 'cluster-name' (the cluster to tear down, e.g. the 'cluster-name' output of the step that launched it), or 'max-age-hours' to sweep up clusters named '<cluster-prefix>-...' older than that.")
    }
    if (v['cluster-name'] && v['max-age-hours'] !== undefined) problems.push("'mode: down' takes either 'cluster-name' or 'max-age-hours' (a sweep by prefix and age), not both.")
  } else if (mode === 'collect') {
    if (source || tasks) problems.push("'mode: collect' takes no task: give 'job-id' (and 'cluster-name' for a cluster job, none for a managed job).")
    if (!v['job-id']) problems.push("'mode: collect' needs 'job-id': the id the detached launch gave as its 'job-id' output.")
  } else if (mode === 'report') {
    if (source || tasks) problems.push("'mode: report' takes no task: give 'results-path', the files other steps or jobs saved their results in.")
    if (!raw['results-path'].trim()) problems.push("'mode: report' needs 'results-path': files (globs) holding saved results, e.g. the artifacts of a matrix sweep's cells.")
  } else if (!source && !tasks && !raw.tasks.trim()) {
    // (An invalid 'tasks' list has been reported already: no second, false 'no task' message.)
    problems.push("No task given: set 'task' (a path in the workspace), 'base-path' + 'task' (a directory or git URL), 'task-yaml' (inline YAML), or 'tasks' (a list).")
  }
  if (mode !== 'down' && v['max-age-hours'] !== undefined) problems.push("'max-age-hours' applies to 'mode: down' only (a sweep of old clusters by name prefix).")
  if (mode === 'exec' && !v['cluster-name']) problems.push("'mode: exec' runs on an existing cluster: set 'cluster-name' to it (e.g. the 'cluster-name' output of the step that launched it).")
  if (v.detach && !endpoint) {
    problems.push("'detach: true' needs a remote API server ('api-server-endpoint'): without one, SkyPilot's state lives on this runner and dies with it, so the run could never be collected or torn down.")
  }
  if (v.detach && tasks) problems.push("'detach' cannot be combined with 'tasks'.")
  if (v['job-recovery'] && mode !== 'managed') problems.push("'job-recovery' applies to managed jobs only: set 'mode: managed'.")
  // A managed job without 'job-name' is named after its cluster name, which must then be a job name too.
  if (mode === 'managed' && !v['job-name'] && v['cluster-name'] && jobNameProblem(v['cluster-name'])) {
    problems.push(`'cluster-name' names the managed job here (no 'job-name' given), and ${jobNameProblem(v['cluster-name'])} Set 'job-name'.`)
  }
  if (v['missing-ok'] && !(mode === 'down' && v['cluster-name'])) problems.push("'missing-ok' applies to 'mode: down' with 'cluster-name' only.")
  for (const cap of ['max-duration', 'max-cost-usd'] as const) {
    if (v[cap] !== undefined && (mode === 'down' || mode === 'report')) problems.push(`'${cap}' caps a job: it applies to 'mode: launch', 'exec', 'managed' and 'collect', not '${mode}'.`)
  }
  if (raw['results-path'].trim() && mode !== 'report') problems.push("'results-path' applies to 'mode: report' only.")
  if (v['rank-by'] && !tasks && mode !== 'report') problems.push("'rank-by' orders several results: use it with 'tasks' (a fan-out) or 'mode: report'.")
  if (v['rank-by'] && mode !== 'report' && !v['job-outputs'].includes(v['rank-by'].name)) {
    problems.push(`'rank-by' ranks by '${v['rank-by'].name}', which is not in 'job-outputs': declare it there so the job can set it.`)
  }
  if (problems.length > 0) throw new UserError(problems)

  const down = v.down ?? (mode !== 'exec')
  return {
    mode,
    source,
    tasks,
    envs: envsParsed.values,
    secrets: secretsParsed.values,
    clusterName: v['cluster-name'],
    clusterPrefix: v['cluster-prefix'],
    jobIndex: v['job-index'],
    jobName: v['job-name'],
    jobRecovery: v['job-recovery'],
    detach: v.detach,
    jobId: v['job-id'],
    waitMinutes: v['wait-minutes'] ?? 300,
    maxAgeHours: v['max-age-hours'],
    resources: {
      infra: v.infra,
      gpus: v.gpus,
      numNodes: v['num-nodes'],
      useSpot: v['use-spot'],
      cpus: v.cpus,
      memory: v.memory,
      diskSize: v['disk-size']
    },
    down,
    idleMinutes: v['idle-minutes-to-autostop'],
    maxParallel: v['max-parallel'] ?? 4,
    failFast: v['fail-fast'],
    apiServer: endpoint ? { endpoint: endpoint.replace(/\/+$/, ''), token: token || undefined } : undefined,
    kubeconfig: raw.kubeconfig.trim() ? raw.kubeconfig : undefined,
    skypilotVersion: v['skypilot-version'],
    skypilotExtras: v['skypilot-extras'],
    retries: v.retries ?? 2,
    retryDelaySeconds: v['retry-delay-seconds'] ?? 30,
    retryOnJobFailure: v['retry-on-job-failure'],
    dryRun: v['dry-run'],
    missingOk: v['missing-ok'],
    jobOutputs: v['job-outputs'],
    rankBy: v['rank-by'],
    resultsPath: raw['results-path'].split('\n').map((l) => l.trim()).filter(Boolean),
    commentOnPr: v['comment-on-pr'],
    githubToken: githubToken || undefined,
    caps: {
      ...(v['max-duration'] ? { maxDurationMs: v['max-duration'].ms, maxDurationText: v['max-duration'].text } : {}),
      ...(v['max-cost-usd'] !== undefined ? { maxCostUsd: v['max-cost-usd'] } : {})
    }
  }
}

function taskSource(raw: RawInputs, gitRef: string | undefined, problems: string[]): TaskSource | undefined {
  const task = raw.task.trim()
  const basePath = raw['base-path'].trim()
  const inline = raw['task-yaml']
  if (inline.trim()) {
    if (task || basePath) problems.push("Give either 'task-yaml' (inline) or 'task'/'base-path' (a file), not both.")
    return { kind: 'inline', yaml: inline }
  }
  if (basePath) {
    if (!task) problems.push("'base-path' needs 'task': the task YAML's path relative to it, e.g. train.yaml.")
    if (isGitUrl(basePath)) {
      const problem = gitUrlProblem(basePath)
      if (problem) problems.push(problem)
      return { kind: 'git', url: basePath, ref: gitRef, task }
    }
    if (gitRef) problems.push(`'git-ref' applies to a git URL in 'base-path', but '${truncate(basePath, 60)}' is a directory.`)
    return { kind: 'directory', basePath, task }
  }
  if (gitRef) problems.push("'git-ref' needs 'base-path' set to a git URL.")
  if (task) return { kind: 'workspace', task }
  return undefined
}

export function isGitUrl(text: string): boolean {
  return /^(https?|ssh|git|file):\/\//i.test(text) || /^[\w.-]+@[\w.-]+:/.test(text)
}

function gitUrlProblem(url: string): string | undefined {
  if (/[\s\x00-\x1f]/.test(url)) return "'base-path' git URL must not contain spaces or control characters."
  if (url.startsWith('-')) return "'base-path' must not start with '-'."
  if (/^http:\/\//i.test(url)) return `'base-path' uses plain http; use https (or ssh) so the task cannot be tampered with in transit.`
  if (/^(ext|fd)::/i.test(url)) return `'base-path' uses a git transport that runs commands; use https or ssh.`
  if (/^https?:\/\/[^/]*@/i.test(url)) {
    return "'base-path' holds credentials in the URL; remove them and give access another way (a deploy key via webfactory/ssh-agent, or a token in a credential helper), so they never appear in logs or process lists."
  }
  return undefined
}

function endpointProblems(endpoint: string): string[] {
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    return ["'api-server-endpoint' is not a URL; give it like https://skypilot.example.com or http://10.0.0.5:46580."]
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return ["'api-server-endpoint' must be an http:// or https:// URL."]
  if (/[\s\x00-\x1f]/.test(endpoint)) return ["'api-server-endpoint' must not contain spaces or control characters."]
  return []
}

function parseFanout(text: string, problems: string[]): FanoutTask[] | undefined {
  let parsed: unknown
  try {
    parsed = parseYaml(text, { maxAliasCount: 0, uniqueKeys: true })
  } catch (error) {
    problems.push(`'tasks' is not valid YAML/JSON: ${(error as Error).message.split('\n')[0]}. Give a YAML or JSON list of maps, without anchors or aliases (*name).`)
    return undefined
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    problems.push("'tasks' must be a non-empty list, e.g. [{task: examples/experiment1.yaml, envs: {LEARNING_RATE: '0.01'}}].")
    return undefined
  }
  if (parsed.length > 256) {
    problems.push(`'tasks' has ${parsed.length} items; at most 256 run from one step (split it with a matrix).`)
    return undefined
  }
  const tasks: FanoutTask[] = []
  const names = new Set<string>()
  parsed.forEach((item, index) => {
    const where = `'tasks' item ${index + 1}`
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      problems.push(`${where} must be a map with 'task' or 'task-yaml' (and optional 'base-path', 'git-ref', 'envs', 'name', 'cluster-name').`)
      return
    }
    const it = item as Record<string, unknown>
    const known = ['name', 'task', 'base-path', 'git-ref', 'task-yaml', 'envs', 'cluster-name']
    for (const key of Object.keys(it)) if (!known.includes(key)) problems.push(`${where} has unknown key '${truncate(key, 40)}'; remove it (known keys: ${known.join(', ')}).`)
    const str = (key: string): string => (typeof it[key] === 'string' || typeof it[key] === 'number' ? String(it[key]) : '')
    const rawItem = { task: str('task'), 'base-path': str('base-path'), 'task-yaml': str('task-yaml') } as RawInputs
    const before = problems.length
    const ref = str('git-ref').trim() || undefined
    // Unprefixed: the loop below prefixes every problem from `before` on with `where` (it was doubled).
    if (ref && (!/^[A-Za-z0-9][A-Za-z0-9._/+-]*$/.test(ref) || ref.includes('..'))) problems.push("'git-ref' has an invalid value; it must be a branch, tag or commit like main, v1.2 or a commit sha.")
    const source = taskSource(rawItem, ref, problems)
    for (let i = before; i < problems.length; i++) problems[i] = `${where}: ${problems[i]}`
    if (!source) {
      problems.push(`${where} needs 'task' or 'task-yaml'.`)
      return
    }
    let envs: KeyValues = {}
    if (it.envs !== undefined && it.envs !== null) {
      const envText = typeof it.envs === 'string' ? it.envs : JSON.stringify(it.envs)
      const parsedEnvs = parseKeyValues(envText, `${where} 'envs'`)
      problems.push(...parsedEnvs.problems)
      envs = parsedEnvs.values
    }
    const name = str('name').trim() || `task-${index + 1}`
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name)) problems.push(`${where}: 'name' must be letters, digits, '.', '_' or '-' (at most 63).`)
    if (names.has(name)) problems.push(`${where}: the name '${name}' is used twice; names must be unique.`)
    names.add(name)
    const clusterName = str('cluster-name').trim() || undefined
    if (clusterName) {
      const problem = clusterNameProblem(clusterName)
      if (problem) problems.push(`${where}: ${problem}`)
    }
    tasks.push({ name, source, envs, clusterName })
  })
  return tasks
}

export function loadInputs(): Inputs {
  return parseInputs(readRawInputs())
}

export { ENV_NAME }

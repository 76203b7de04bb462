import type { Resources } from '../inputs.js'
import type { KeyValues } from '../kv.js'

/**
 * Argument arrays for every `sky` command the action runs: never a shell string. The flags are
 * those of SkyPilot's CLI (shared/reference/sky-cli-grammar.json); the test double rejects others.
 */

export interface TaskArgs {
  taskPath: string
  envs: KeyValues
  /** Secret names only: values ride in the child's env and `sky` reads them (`--secret KEY`). */
  secretNames: string[]
  resources: Resources
}

function resourceArgs(r: Resources): string[] {
  const args: string[] = []
  if (r.infra) args.push('--infra', r.infra)
  if (r.gpus) args.push('--gpus', r.gpus)
  if (r.numNodes !== undefined) args.push('--num-nodes', String(r.numNodes))
  if (r.useSpot === true) args.push('--use-spot')
  if (r.useSpot === false) args.push('--no-use-spot')
  if (r.cpus) args.push('--cpus', r.cpus)
  if (r.memory) args.push('--memory', r.memory)
  if (r.diskSize !== undefined) args.push('--disk-size', String(r.diskSize))
  return args
}

function envArgs(envs: KeyValues, secretNames: string[]): string[] {
  const args: string[] = []
  for (const [key, value] of Object.entries(envs)) args.push('--env', `${key}=${value}`)
  for (const key of secretNames) args.push('--secret', key)
  return args
}

export interface LaunchArgs extends TaskArgs {
  cluster: string
  down: boolean
  idleMinutes?: number
  detach: boolean
  jobName?: string
}

export function launchArgs(a: LaunchArgs): string[] {
  const args = ['launch', '-y', '-c', a.cluster]
  if (a.jobName) args.push('-n', a.jobName)
  if (a.detach) args.push('-d')
  // --down alone skips teardown on setup failures; -i is the remote backstop if the runner vanishes.
  if (a.down || a.idleMinutes !== undefined) args.push('--down')
  if (a.idleMinutes !== undefined) args.push('-i', String(a.idleMinutes))
  args.push(...resourceArgs(a.resources), ...envArgs(a.envs, a.secretNames))
  // Task paths are absolute and names are validated to start with a letter, so no argument here
  // can be read as an option.
  args.push(a.taskPath)
  return args
}

export function execArgs(a: TaskArgs & { cluster: string; detach: boolean; jobName?: string }): string[] {
  const args = ['exec']
  if (a.jobName) args.push('-n', a.jobName)
  if (a.detach) args.push('-d')
  args.push(...resourceArgs(a.resources), ...envArgs(a.envs, a.secretNames))
  args.push(a.cluster, a.taskPath)
  return args
}

export function managedLaunchArgs(a: TaskArgs & { name: string; jobRecovery?: string; detach: boolean }): string[] {
  const args = ['jobs', 'launch', '-y', '-n', a.name]
  if (a.jobRecovery) args.push('--job-recovery', a.jobRecovery)
  if (a.detach) args.push('-d')
  args.push(...resourceArgs(a.resources), ...envArgs(a.envs, a.secretNames))
  args.push(a.taskPath)
  return args
}

export const versionArgs = (): string[] => ['--version']
export const downArgs = (clusters: string[]): string[] => ['down', '-y', ...clusters]
export const statusArgs = (clusters: string[]): string[] => ['status', '-o', 'json', ...clusters]
export const queueArgs = (cluster: string): string[] => ['queue', '-o', 'json', cluster]
/**
 * Following a job's log: sky shows only its last 1000 lines unless `--tail 0`. The whole log is
 * wanted when collecting (job outputs printed early must be read), and when re-attaching after a
 * dropped stream while job outputs are read (a marker written while the stream was down may be more
 * than 1000 lines back); otherwise a re-attach takes the default (up to 1000 relayed lines repeat).
 */
export const logsArgs = (cluster: string, jobId: string, whole = true): string[] => ['logs', ...(whole ? ['--tail', '0'] : []), cluster, jobId]
/** Prints `Job N: STATUS` and exits with the status class (0, 100, 101, 102, 103). */
export const logsStatusArgs = (cluster: string, jobId: string): string[] => ['logs', '--status', cluster, jobId]
/** Every job of this user (`-a`: not only the 50 newest), with failure reasons (`-v`). */
export const jobsQueueArgs = (): string[] => ['jobs', 'queue', '-a', '-v', '-o', 'json']
export const jobsLogsArgs = (jobId: string, whole = true): string[] => ['jobs', 'logs', ...(whole ? ['--tail', '0'] : []), jobId]
export const jobsCancelArgs = (jobIds: string[]): string[] => ['jobs', 'cancel', '-y', ...jobIds]
/** By name: works before the job's id is known (a managed job prints it only once it ends). */
export const jobsCancelByNameArgs = (name: string): string[] => ['jobs', 'cancel', '-y', '-n', name]
/** Stops one job on a cluster the action leaves running. */
export const cancelArgs = (cluster: string, jobId: string): string[] => ['cancel', '-y', cluster, jobId]
export const apiCancelArgs = (requestId: string): string[] => ['api', 'cancel', requestId]
/**
 * The server's requests still running (PENDING, RUNNING). `-v` adds their cluster names (`-c CLUSTER`
 * is ignored by servers that do not support it yet, as the one of 2026-06 answers).
 */
export const apiStatusArgs = (): string[] => ['api', 'status', '-v', '-o', 'json']

const DAY_MS = 24 * 60 * 60 * 1000
/** Allowed difference between the runner's clock and the API server's. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000

/**
 * `sky cost-report -o json --days N`: records of clusters still up, and of those used in the last
 * N days, just enough to cover the run (a long-lived server's 30-day default can be a big answer).
 */
export function costReportArgs(sinceMs: number, nowMs = Date.now()): string[] {
  const days = Math.max(1, Math.ceil((nowMs - sinceMs + CLOCK_SKEW_MS) / DAY_MS))
  return ['cost-report', '-o', 'json', '--days', String(days)]
}


import { createHash } from 'node:crypto'

/** SkyPilot's rule for cluster and managed-job names (sky/utils/common_utils.py). */
export const CLUSTER_NAME = /^[a-zA-Z]([-_.a-zA-Z0-9]*[a-zA-Z0-9])?$/
/** GCP truncates longer names (and hashes them), so a post step or a janitor could not find them. */
export const MAX_GENERATED_NAME = 35
const RESERVED_PREFIXES = ['sky-jobs-controller-', 'sky-serve-controller-']

export function clusterNameProblem(name: string): string | undefined {
  if (!CLUSTER_NAME.test(name)) {
    return `cluster name '${name}' is not valid: it must start with a letter, end with a letter or digit, and hold only letters, digits, '-', '_' and '.'.`
  }
  if (RESERVED_PREFIXES.some((p) => name.startsWith(p))) {
    return `cluster name '${name}' starts with a prefix SkyPilot reserves for its controllers; choose another.`
  }
  return undefined
}

/** SkyPilot's rule for task names, which a job name (`-n`) is (sky/task.py _VALID_NAME_REGEX). */
export const TASK_NAME = /^[a-zA-Z0-9]+(?:[._-]{1,2}[a-zA-Z0-9]+)*$/

export function jobNameProblem(name: string): string | undefined {
  if (TASK_NAME.test(name)) return undefined
  return `job name '${name}' is not valid: SkyPilot wants letters and digits, separated by one or two of '.', '_' or '-' (e.g. train-bert-v2); it must start and end with a letter or digit.`
}

export interface NameParts {
  prefix: string
  runId: string
  runAttempt: string
  job: string
  jobIndex?: string
}

/**
 * The default cluster name: `<prefix>-<run id>-<attempt>-<job>[-<matrix index>]`, lower case, at
 * most 35 characters. Deterministic, so that a re-read of the same run finds the same cluster, and
 * prefixed, so that the janitor can find leaked ones.
 */
export function generateClusterName(parts: NameParts): string {
  const prefix = sanitize(parts.prefix) || 'gha'
  const runId = digitsOnly(parts.runId) || 'local'
  const attempt = digitsOnly(parts.runAttempt) || '1'
  // Index 0 is also what a job outside any matrix gets: no suffix, so plain jobs keep plain names.
  const index = digitsOnly(parts.jobIndex ?? '').replace(/^0+$/, '')
  const tail = `${runId}-${attempt}`
  const indexPart = index ? `-${index}` : ''
  let job = sanitize(parts.job)
  // Room left for the job part once the rest is fixed; a long job id keeps a readable head and a hash.
  const room = MAX_GENERATED_NAME - prefix.length - tail.length - indexPart.length - 2
  if (job.length > room) job = room >= 9 ? `${job.slice(0, room - 5).replace(/[-_.]+$/, '')}-${shortHash(parts.job, 4)}` : shortHash(parts.job, Math.max(room, 0))
  let name = job ? `${prefix}-${tail}-${job}${indexPart}` : `${prefix}-${tail}${indexPart}`
  if (name.length > MAX_GENERATED_NAME) {
    // Only an overlong prefix gets here: keep the unique tail, cut the prefix.
    const suffix = name.slice(prefix.length)
    name = `${prefix.slice(0, Math.max(1, MAX_GENERATED_NAME - suffix.length))}${suffix}`
  }
  return finish(name)
}

/** Name of the i-th task of a fan-out: the step's base name plus the task's index (and name when room). */
export function fanoutClusterName(base: string, index: number): string {
  const suffix = `-t${index}`
  return finish(`${base.slice(0, MAX_GENERATED_NAME - suffix.length).replace(/[-_.]+$/, '')}${suffix}`)
}

function finish(name: string): string {
  let out = name.replace(/[-_.]+$/, '')
  if (!/^[a-z]/.test(out)) out = `c${out}`.slice(0, MAX_GENERATED_NAME)
  return out.replace(/[-_.]+$/, '')
}

function sanitize(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
}

function digitsOnly(text: string): string {
  return text.replace(/[^0-9]/g, '')
}

function shortHash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length)
}

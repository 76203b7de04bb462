import * as core from '@actions/core'

/**
 * Everything main hands to the post step, in one place. The post step learns all it needs from
 * here, so it works when main was killed at any point after the state was saved. Never a secret.
 */
export const State = {
  /** JSON list of clusters this step created or took charge of and must tear down. */
  clusters: 'clusters',
  /** JSON list of clusters this step must leave running (down: false, detached). */
  keep: 'keep-clusters',
  /** JSON list of {name, since} of managed jobs to cancel (by name) if main did not see them end. */
  managedJobs: 'managed-jobs',
  /** Server-side request id of a launch in flight. */
  requestId: 'request-id',
  /** Absolute path of the `sky` executable main used. */
  skyPath: 'sky-path',
  /** 'true' once main reached its end (job followed to a final status). */
  finished: 'finished',
  /** JSON list of credential files main wrote, removed by post. */
  credentialFiles: 'credential-files',
  /** Directories main created under RUNNER_TEMP (git checkouts, inline tasks), removed by post. */
  tempDirs: 'temp-dirs',
  /** Cache to save after a fresh install: JSON {key, paths}. */
  cacheSave: 'cache-save'
} as const

export type StateName = (typeof State)[keyof typeof State]

export function saveJson(name: StateName, value: unknown): void {
  core.saveState(name, JSON.stringify(value))
}

export function loadJson<T>(name: StateName, fallback: T): T {
  const raw = core.getState(name)
  if (!raw) return fallback
  try {
    return JSON.parse(raw) as T
  } catch {
    return fallback
  }
}

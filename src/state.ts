import * as core from '@actions/core'
import type { RunRecord } from './lifecycle.js'

/**
 * Everything main hands to the post step, in one place. The post step learns all it needs from
 * here, so it works when main was killed at any point after the state was saved. Never a secret.
 */
export const State = {
  /** How many run records (`run-0`, `run-1`, ...) there are: one per task of the step. */
  runs: 'runs',
  /** Server-side request id of a launch in flight. */
  requestId: 'request-id',
  /** Absolute path of the `sky` executable main used. */
  skyPath: 'sky-path',
  /** JSON list of credential files main wrote, removed by post. */
  credentialFiles: 'credential-files',
  /** Directories main created under RUNNER_TEMP (git checkouts, inline tasks), removed by post. */
  tempDirs: 'temp-dirs',
  /** Cache to save after a fresh install: JSON {key, paths}. */
  cacheSave: 'cache-save'
} as const

export type StateName = (typeof State)[keyof typeof State] | `run-${number}`

export function saveJson(name: StateName, value: unknown): void {
  core.saveState(name, JSON.stringify(value))
}

/**
 * Each task's run record, saved again on every move of its lifecycle (one key per task, so a move
 * writes one small record, whatever the size of a fan-out). The post step acts on what they say.
 */
export function saveRuns(records: readonly RunRecord[]): void {
  core.saveState(State.runs, String(records.length))
  records.forEach((r, i) => saveRun(i, r))
}

export function saveRun(index: number, record: RunRecord): void {
  saveJson(`run-${index}`, record)
}

export function loadRuns(): RunRecord[] {
  const count = Number(core.getState(State.runs) || 0)
  const records: RunRecord[] = []
  for (let i = 0; i < count; i++) {
    const r = loadJson<RunRecord | undefined>(`run-${i}`, undefined)
    if (r && typeof r.task === 'string' && typeof r.phase === 'string' && typeof r.kind === 'string') records.push(r)
  }
  return records
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

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { runMain, runPost, type StepOptions, type StepResult } from '../../helpers/runner.js'
import { realSky } from './real-sky.js'

/**
 * The built action (dist/main, dist/post), run as the runner runs it, with the real `sky` first on
 * PATH. A thin wrapper in front of it records every call (then execs the real one, so signals and
 * exit codes pass straight through): the tests count what the action asked of SkyPilot.
 */

export interface RealRun {
  /** PATH and the rest of the step's env. */
  env: Record<string, string | undefined>
  /** Every `sky` command line the action ran, in order. */
  calls(): string[]
}

/**
 * A step's environment with the real `sky`. By default SkyPilot is "self-installed": a virtualenv
 * of the action's own in the tool cache holds it (marker and bin/sky), as after a cached install, so
 * the action asks it nothing it knows (no `sky --version`: each real call is seconds of CPU here).
 * `onPath: true` puts it on PATH instead, where the action must ask its version; `none: true` gives
 * no sky at all.
 */
export function realRun(extra: Record<string, string | undefined> = {}, o: { onPath?: boolean; none?: boolean; version?: string; extras?: string[] } = {}): RealRun {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'real-run-'))
  const log = path.join(dir, 'calls.log')
  fs.writeFileSync(log, '')
  const toolCache = path.join(dir, 'toolcache')
  const onPathDir = path.join(dir, 'bin')
  const extras = [...(o.extras ?? [])].sort()
  const venv = path.join(toolCache, 'skypilot', o.version ?? '1.0.0-dev0', extras.length > 0 ? extras.join('-') : 'none', 'x64', 'venv')
  const bin = o.onPath ? onPathDir : path.join(venv, 'bin')
  fs.mkdirSync(bin, { recursive: true })
  if (!o.none) {
    fs.writeFileSync(path.join(bin, 'sky'), `#!/bin/bash\nprintf '%s\\n' "$*" >> ${JSON.stringify(log)}\nexec ${JSON.stringify(realSky().sky)} "$@"\n`, { mode: 0o755 })
    if (!o.onPath) fs.writeFileSync(path.join(venv, '.skypilot-action.json'), JSON.stringify({ version: o.version ?? '1.0.0-dev0', extras, python: '3.13' }))
  }
  return {
    env: {
      PATH: `${o.onPath ? `${onPathDir}:` : ''}/usr/local/bin:/usr/bin:/bin`,
      RUNNER_TOOL_CACHE: toolCache,
      // The action's own retry and teardown waits, shortened as in the other tiers.
      SKYPILOT_ACTION_RETRY_DELAY_MS: '200',
      // A real `sky api cancel` on this 2-core machine, loaded by the other test files, can take more
      // than the 6.5 s the runner leaves after its SIGINT: the scenarios check what the server
      // answered, so they give the cancel calls the time a quiet machine would.
      SKYPILOT_ACTION_CANCEL_WINDOW_MS: '20000',
      SKYPILOT_API_SERVER_ENDPOINT: undefined,
      SKYPILOT_SERVICE_ACCOUNT_TOKEN: undefined,
      ...extra
    },
    calls: () => fs.readFileSync(log, 'utf8').split('\n').filter(Boolean)
  }
}

// A real launch takes about a minute alone, several on a 2-core machine busy with the others.
const SLOW = 1_500_000

export function main(run: RealRun, inputs: Record<string, string>, opts: StepOptions = {}): Promise<StepResult> {
  return runMain({ timeoutMs: SLOW, ...opts, inputs, env: { ...run.env, ...opts.env } })
}

export function post(run: RealRun, inputs: Record<string, string>, main: StepResult): Promise<StepResult> {
  return runPost({ timeoutMs: SLOW, inputs, env: run.env, runnerTemp: main.runnerTemp, state: main.state })
}

/** The end of what a step printed, for an assertion's message: a failing real scenario shows why. */
export function shown(r: StepResult): string {
  return `\n--- step output (end) ---\n${r.stdout.slice(-4000)}${r.stderr ? `\n--- stderr ---\n${r.stderr.slice(-2000)}` : ''}`
}

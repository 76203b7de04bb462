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

export function realRun(extra: Record<string, string | undefined> = {}, o: { withSky?: boolean } = {}): RealRun {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'real-run-'))
  const log = path.join(dir, 'calls.log')
  fs.writeFileSync(log, '')
  const bin = path.join(dir, 'bin')
  fs.mkdirSync(bin)
  if (o.withSky !== false) {
    fs.writeFileSync(path.join(bin, 'sky'), `#!/bin/bash\nprintf '%s\\n' "$*" >> ${JSON.stringify(log)}\nexec ${JSON.stringify(realSky().sky)} "$@"\n`, { mode: 0o755 })
  }
  return {
    env: {
      PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`,
      // The action's own retry and teardown waits, shortened as in the other tiers.
      SKYPILOT_ACTION_RETRY_DELAY_MS: '200',
      SKYPILOT_API_SERVER_ENDPOINT: undefined,
      SKYPILOT_SERVICE_ACCOUNT_TOKEN: undefined,
      ...extra
    },
    calls: () => fs.readFileSync(log, 'utf8').split('\n').filter(Boolean)
  }
}

const SLOW = 600_000

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

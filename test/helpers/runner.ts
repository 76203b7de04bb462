import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileCommands, ROOT, SAMPLE_RUN, stepEnv } from '../../scripts/runner-protocol.mjs'

/**
 * Runs the built bundles the way the runner does: inputs as env INPUT_<NAME> (hyphens kept), file
 * commands as temp files, and for the post step the saved state as env STATE_<name>.
 */

export { ROOT }
export const MAIN = path.join(ROOT, 'dist', 'main', 'index.js')
export const POST = path.join(ROOT, 'dist', 'post', 'index.js')

export interface StepOptions {
  inputs?: Record<string, string>
  /** Extra env (the fake sky's PATH and home, cloud credentials, ...). */
  env?: Record<string, string | undefined>
  /** GITHUB_WORKSPACE; default the repository root (so examples/ resolves). */
  workspace?: string
  /** RUNNER_TEMP; default a fresh temp dir. Pass the main step's to the post step. */
  runnerTemp?: string
  /** State for the post step (as main saved it). */
  state?: Record<string, string>
  /**
   * Send `signal` once the output so far satisfies `when`; then each of `then` that much later (the
   * runner's cancel: SIGINT, SIGTERM 7.5 s later, SIGKILL 2.5 s after that).
   */
  interrupt?: { when: (output: string) => boolean; signal: NodeJS.Signals; delayMs?: number; then?: { afterMs: number; signal: NodeJS.Signals }[] }
  /** Sees each chunk of stdout as it arrives, with the time (to tell a live relay from one at the end). */
  onStdout?: (chunk: string, at: number) => void
  timeoutMs?: number
}

export interface StepResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  state: Record<string, string>
  /** Every state value in the order saved (a run record is saved again on each move). */
  stateWrites: [string, string][]
  summary: string
  exportedEnv: Record<string, string>
  addedPaths: string[]
  runnerTemp: string
  durationMs: number
}

export async function runStep(entry: 'main' | 'post', opts: StepOptions = {}): Promise<StepResult> {
  const runnerTemp = opts.runnerTemp ?? fs.mkdtempSync(path.join(os.tmpdir(), 'runner-temp-'))
  const files = fileCommands()
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? os.homedir(),
    LANG: 'C.UTF-8',
    ...SAMPLE_RUN,
    GITHUB_WORKSPACE: opts.workspace ?? ROOT,
    RUNNER_TEMP: runnerTemp,
    RUNNER_TOOL_CACHE: path.join(runnerTemp, 'toolcache'),
    ...files.env,
    SKYPILOT_ACTION_RETRY_DELAY_MS: '50',
    ...stepEnv({ inputs: opts.inputs, state: opts.state })
  }
  for (const [name, value] of Object.entries(opts.env ?? {})) {
    if (value === undefined) delete env[name]
    else env[name] = value
  }

  const started = Date.now()
  const child = spawn(process.execPath, [entry === 'main' ? MAIN : POST], { env, cwd: env.GITHUB_WORKSPACE, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  let sent = false
  const check = (): void => {
    if (opts.interrupt && !sent && opts.interrupt.when(stdout + stderr)) {
      sent = true
      const at = opts.interrupt.delayMs ?? 0
      setTimeout(() => child.kill(opts.interrupt!.signal), at)
      for (const next of opts.interrupt.then ?? []) setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill(next.signal), at + next.afterMs)
    }
  }
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString()
    opts.onStdout?.(c.toString(), Date.now())
    check()
  })
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString()
    check()
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])))
  clearTimeout(timer)
  const result: StepResult = { code, signal, stdout, stderr, ...files.read(), runnerTemp, durationMs: Date.now() - started }
  files.remove()
  return result
}

export const runMain = (opts: StepOptions = {}): Promise<StepResult> => runStep('main', opts)
export const runPost = (opts: StepOptions = {}): Promise<StepResult> => runStep('post', opts)

/** Main, then post with main's state and RUNNER_TEMP, as the runner sequences them. */
export async function runMainThenPost(opts: StepOptions = {}): Promise<{ main: StepResult; post: StepResult }> {
  const main = await runMain(opts)
  const post = await runPost({ ...opts, interrupt: undefined, runnerTemp: main.runnerTemp, state: main.state })
  return { main, post }
}

/**
 * Everything a user could see or that stays behind: for "no secret anywhere" assertions. The log is
 * shown as the runner shows it: `::add-mask::` lines are consumed, and every value they named is
 * replaced by *** (a job may print a secret; the runner hides it if the action masked it first).
 * Outputs, state, the summary and exported env are taken as written: no mask applies there.
 */
export function everythingVisible(...results: StepResult[]): string {
  return results
    .map((r) => {
      const masks = r.stdout
        .split('\n')
        .filter((l) => l.startsWith('::add-mask::'))
        .map((l) => l.slice('::add-mask::'.length).replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%'))
        .filter(Boolean)
        .sort((a, b) => b.length - a.length)
      let log = r.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n')
      for (const m of masks) log = log.split(m).join('***')
      return [log, r.stderr, r.summary, JSON.stringify(r.outputs), JSON.stringify(r.state), JSON.stringify(r.exportedEnv)].join('\n')
    })
    .join('\n')
}

/** Workflow-command lines (`::error ...`) of a step's output. */
export function annotations(output: string, kind: 'error' | 'warning' | 'notice'): string[] {
  return output.split('\n').filter((l) => l.startsWith(`::${kind}`))
}

/**
 * The workflow commands the runner would act on in a step's output: it honours
 * `::stop-commands::TOKEN` until a line `::TOKEN::`, as the runner does.
 */
export function processedCommands(output: string): string[] {
  const commands: string[] = []
  let stoppedBy: string | undefined
  for (const line of output.split('\n')) {
    if (stoppedBy) {
      if (line === `::${stoppedBy}::`) stoppedBy = undefined
      continue
    }
    const stop = /^::stop-commands::(.+)$/.exec(line)
    if (stop) stoppedBy = stop[1]
    else if (line.startsWith('::')) commands.push(line)
  }
  return commands
}

// Shared helpers of the benchmarks: the runner's Node, running the bundles the way the runner
// does (bench flavour of test/helpers/runner.ts), timers and statistics.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileCommands, ROOT, SAMPLE_RUN, stepEnv } from '../../scripts/runner-protocol.mjs'

export { ROOT }
/** BENCH_DIST: another build to measure (a dir with main/ and post/), e.g. to compare two builds. */
export const DIST = path.resolve(process.env.BENCH_DIST ?? path.join(ROOT, 'dist'))
export const MAIN = path.join(DIST, 'main', 'index.js')
export const POST = path.join(DIST, 'post', 'index.js')

/** The runner's Node major (node24): every measurement uses this binary, never the system node. */
export const NODE = fs.realpathSync(path.join(ROOT, 'node_modules', '.bin', 'node'))
export const FAKE_SKY = path.join(ROOT, 'test', 'fake-sky', 'bin', 'sky')

export const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 7))

export function tmpDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `bench-${prefix}-`))
}

/**
 * A directory holding only `node` (the runner's Node), put first on PATH so that `#!/usr/bin/env
 * node` scripts (the fake sky, its job runner) run on Node 24 too, without exposing anything else.
 */
let nodeBinDir
export function nodeBin() {
  if (!nodeBinDir) {
    nodeBinDir = tmpDir('nodebin')
    fs.symlinkSync(NODE, path.join(nodeBinDir, 'node'))
  }
  return nodeBinDir
}

export const ms = (ns) => Number(ns) / 1e6
export const now = () => process.hrtime.bigint()

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
export const fmtMs = (x) => `${x.toFixed(x < 10 ? 1 : 0)} ms`
export const fmtS = (x) => `${(x / 1000).toFixed(2)} s`
export const fmtMB = (kb) => `${(kb / 1024).toFixed(1)} MB`
export const spread = (xs) => `(min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)}, n=${xs.length})`

/**
 * Runs dist/<entry>/index.js as the runner does: inputs as INPUT_<NAME>, file commands as temp
 * files, state as STATE_<name> for post. `stdout`: 'pipe' (captured), or a path (a file, e.g.
 * /dev/null: the runner drains its pipe, so the relay is never throttled by the reader).
 * `wrap`: argv prefix (e.g. ['/usr/bin/time', '-v']). `onSpawn(pid)`: the pid of what was spawned
 * (without `wrap`, the action's own Node process: see peakRssWatch).
 * Returns { code, wallMs, stdout, outputs, state, runnerTemp }.
 */
export async function runStep(entry, opts = {}) {
  const runnerTemp = opts.runnerTemp ?? tmpDir('runner-temp')
  const files = fileCommands()
  const env = {
    PATH: `${nodeBin()}${path.delimiter}${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: process.env.HOME ?? os.homedir(),
    LANG: 'C.UTF-8',
    ...SAMPLE_RUN,
    GITHUB_WORKSPACE: opts.workspace ?? ROOT,
    RUNNER_TEMP: runnerTemp,
    RUNNER_TOOL_CACHE: opts.toolCache ?? path.join(runnerTemp, 'toolcache'),
    ...files.env,
    ...stepEnv({ inputs: opts.inputs, state: opts.state })
  }
  for (const [name, value] of Object.entries(opts.env ?? {})) {
    if (value === undefined) delete env[name]
    else env[name] = value
  }
  const script = entry === 'main' ? MAIN : POST
  const argv = [...(opts.wrap ?? []), NODE, script]
  const toFile = opts.stdout && opts.stdout !== 'pipe'
  const outFd = toFile ? fs.openSync(opts.stdout, 'w') : 'pipe'
  const started = now()
  const child = spawn(argv[0], argv.slice(1), { env, cwd: env.GITHUB_WORKSPACE, stdio: ['ignore', outFd, 'pipe'] })
  opts.onSpawn?.(child.pid)
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (c) => {
    stdout += c
    opts.onStdout?.(c)
  })
  child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c))
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 180_000)
  const code = await new Promise((resolve) => child.on('close', (c) => resolve(c)))
  const wallMs = ms(now() - started)
  clearTimeout(timer)
  if (toFile) fs.closeSync(outFd)
  const result = { code, wallMs, stdout, stderr, ...files.read(), runnerTemp, pid: child.pid }
  files.remove()
  if (opts.expectCode !== undefined && code !== opts.expectCode) {
    throw new Error(`${entry} exited ${code} (expected ${opts.expectCode}):\n${(stdout + stderr).split('\n').slice(-15).join('\n')}`)
  }
  return result
}

/** A process's peak resident set so far (VmHWM, KiB): its own, not its children's. */
export function readHwmKb(pid) {
  return Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
}

/**
 * Watches the peak resident set of a step's own Node process: pass `onSpawn` to runStep, call
 * `stop()` when it has ended. GNU time's %M would report the largest process of the tree instead
 * (the sky it runs, when that is bigger). Read every `intervalMs`: the high-water mark only grows,
 * so at most the growth of the last interval before the exit is missed.
 */
export function peakRssWatch(intervalMs = 100) {
  let pid
  let peakKb = 0
  const read = () => {
    try {
      if (pid) peakKb = Math.max(peakKb, readHwmKb(pid))
    } catch {
      // it has exited
    }
  }
  const timer = setInterval(read, intervalMs)
  return {
    onSpawn: (p) => {
      pid = p
      read()
    },
    stop: () => {
      clearInterval(timer)
      return peakKb
    }
  }
}

/** Main, then post with main's state and RUNNER_TEMP. */
export async function runMainThenPost(opts = {}) {
  const main = await runStep('main', opts)
  const post = await runStep('post', { ...opts, runnerTemp: main.runnerTemp, state: main.state })
  return { main, post }
}

/** Runs a command to completion; resolves { code, wallMs }. stdout to a file path or ignored. */
export async function timeCommand(command, args, { env, stdout = '/dev/null', cwd } = {}) {
  const fd = fs.openSync(stdout, 'w')
  const started = now()
  const child = spawn(command, args, { env: env ?? process.env, cwd, stdio: ['ignore', fd, 'inherit'] })
  const code = await new Promise((resolve) => child.on('close', (c) => resolve(c)))
  const wallMs = ms(now() - started)
  fs.closeSync(fd)
  return { code, wallMs }
}

export function writeExecutable(file, text) {
  fs.writeFileSync(file, text, { mode: 0o755 })
}

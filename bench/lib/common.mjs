// Shared helpers of the benchmarks: the runner's Node, running the bundles the way the runner
// does (bench flavour of test/helpers/runner.ts), timers and statistics.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
/** BENCH_DIST: another build to measure (a dir with main/ and post/), e.g. to compare two builds. */
export const DIST = path.resolve(process.env.BENCH_DIST ?? path.join(ROOT, 'dist'))
export const DIST_MAIN = path.join(DIST, 'main', 'index.js')
export const DIST_POST = path.join(DIST, 'post', 'index.js')

/**
 * The bundles are copied once, at start, to a temp dir and run from there: every figure of a run
 * measures the same build even if dist/ is rebuilt meanwhile (a build removes dist/<entry> first).
 */
function snapshotDist() {
  const deadline = Date.now() + 60_000
  while (!(fs.existsSync(DIST_MAIN) && fs.existsSync(DIST_POST))) {
    if (Date.now() > deadline) return null
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500) // a build may be under way
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-dist-'))
  for (const entry of ['main', 'post']) fs.cpSync(path.join(DIST, entry), path.join(dir, entry), { recursive: true })
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}
const SNAPSHOT = snapshotDist()
export const MAIN = SNAPSHOT ? path.join(SNAPSHOT, 'main', 'index.js') : DIST_MAIN
export const POST = SNAPSHOT ? path.join(SNAPSHOT, 'post', 'index.js') : DIST_POST
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

/** `name<<DELIM` blocks and `name=value` lines of a file command. */
export function parseFileCommands(text) {
  const out = {}
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    if (heredoc) {
      const [, name, delim] = heredoc
      const value = []
      for (i++; i < lines.length && lines[i] !== delim; i++) value.push(lines[i])
      out[name] = value.join('\n')
    } else if (line.includes('=')) out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1)
  }
  return out
}

/**
 * Runs dist/<entry>/index.js as the runner does: inputs as INPUT_<NAME>, file commands as temp
 * files, state as STATE_<name> for post. `stdout`: 'pipe' (captured), or a path (a file, e.g.
 * /dev/null: the runner drains its pipe, so the relay is never throttled by the reader).
 * `wrap`: argv prefix (e.g. ['/usr/bin/time', '-f', '%M', '-o', file]).
 * Returns { code, wallMs, stdout, outputs, state, runnerTemp }.
 */
export async function runStep(entry, opts = {}) {
  const runnerTemp = opts.runnerTemp ?? tmpDir('runner-temp')
  const files = tmpDir('runner-files')
  const file = (name) => {
    const p = path.join(files, name)
    fs.writeFileSync(p, '')
    return p
  }
  const env = {
    PATH: `${nodeBin()}${path.delimiter}${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: process.env.HOME ?? os.homedir(),
    LANG: 'C.UTF-8',
    GITHUB_WORKSPACE: opts.workspace ?? ROOT,
    RUNNER_TEMP: runnerTemp,
    RUNNER_TOOL_CACHE: opts.toolCache ?? path.join(runnerTemp, 'toolcache'),
    GITHUB_OUTPUT: file('output'),
    GITHUB_STATE: file('state'),
    GITHUB_STEP_SUMMARY: file('summary'),
    GITHUB_ENV: file('env'),
    GITHUB_PATH: file('path'),
    GITHUB_RUN_ID: '1234567890',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_JOB: 'train',
    GITHUB_REPOSITORY: 'acme/ml',
    GITHUB_SERVER_URL: 'https://github.com',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64'
  }
  for (const [name, value] of Object.entries(opts.inputs ?? {})) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  for (const [name, value] of Object.entries(opts.state ?? {})) env[`STATE_${name}`] = value
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
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (c) => (stdout += c))
  child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c))
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 180_000)
  const code = await new Promise((resolve) => child.on('close', (c) => resolve(c)))
  const wallMs = ms(now() - started)
  clearTimeout(timer)
  if (toFile) fs.closeSync(outFd)
  const read = (name) => fs.readFileSync(path.join(files, name), 'utf8')
  const result = { code, wallMs, stdout, stderr, outputs: parseFileCommands(read('output')), state: parseFileCommands(read('state')), summary: read('summary'), runnerTemp, pid: child.pid }
  fs.rmSync(files, { recursive: true, force: true })
  if (opts.expectCode !== undefined && code !== opts.expectCode) {
    throw new Error(`${entry} exited ${code} (expected ${opts.expectCode}):\n${(stdout + stderr).split('\n').slice(-15).join('\n')}`)
  }
  return result
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

import { spawn, type ChildProcess } from 'node:child_process'
import * as guard from './gh/command-guard.js'

/**
 * The `sky` processes, always from an argument array, never through a shell. These stay on
 * node:child_process rather than @actions/exec: a `sky` client must be interrupted (SIGINT, then
 * SIGTERM) while it runs, its output relayed under the stop-commands guard with backpressure and
 * scanned chunk by chunk, and a call that hangs killed after a timeout; @actions/exec gives none of
 * these. One-shot commands (git, python, pip, uv) use @actions/exec.
 */

export interface Captured {
  code: number | null
  stdout: string
  stderr: string
  /** Time spent, for the summary and the benchmarks. */
  ms: number
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv
  cwd?: string
  timeoutMs?: number
  /** Text written to the child's stdin, then closed. */
  input?: string
}

/** Runs a command to completion and returns its output. A missing command is `code: null`. */
export function runCaptured(command: string, args: string[], options: RunOptions = {}): Promise<Captured> {
  const started = Date.now()
  return new Promise((resolve) => {
    let child: ChildProcess
    try {
      child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] })
    } catch (error) {
      resolve({ code: null, stdout: '', stderr: String(error), ms: Date.now() - started })
      return
    }
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout?.on('data', (c: Buffer) => out.push(c))
    child.stderr?.on('data', (c: Buffer) => err.push(c))
    let timer: NodeJS.Timeout | undefined
    if (options.timeoutMs) {
      timer = setTimeout(() => {
        err.push(Buffer.from(`\n(timed out after ${options.timeoutMs} ms)`))
        child.kill('SIGTERM')
        setTimeout(() => child.kill('SIGKILL'), 2000).unref()
      }, options.timeoutMs)
      timer.unref()
    }
    child.stdin?.on('error', () => undefined)
    child.stdin?.end(options.input ?? '')
    child.on('error', (error) => {
      if (timer) clearTimeout(timer)
      resolve({ code: null, stdout: '', stderr: error.message, ms: Date.now() - started })
    })
    child.on('close', (code) => {
      if (timer) clearTimeout(timer)
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ms: Date.now() - started })
    })
  })
}

export interface StreamOptions {
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Sees every chunk of sky's output as it comes, and from which stream: scanners keep what they need. */
  onChunk?: (chunk: Buffer, stream: 'stdout' | 'stderr') => void
  /** Prefix each line (fan-out logs); slower, so only when asked. */
  linePrefix?: string
  out?: NodeJS.WritableStream
}

export interface StreamEnd {
  code: number | null
  signal: NodeJS.Signals | null
  spawnError?: string
  /** The end of what sky wrote to stderr: its last exception says why it failed. */
  stderrTail: string
}

export interface Streaming {
  /** Resolves with the exit code (null when killed by a signal or not started). */
  done: Promise<StreamEnd>
  /** Forwards an interrupt to the child, as Ctrl-C would, and watches its output again. */
  interrupt(signal?: NodeJS.Signals): void
  pid?: number
}

/** How much of stderr's end is kept for the error that ended the command. */
const STDERR_TAIL_BYTES = 8 << 10

/**
 * Node reads a pipe 64 KiB at a time, each time into a fresh Buffer whose memory V8 gives back only
 * when a GC runs, and the small Buffer objects alone rarely trigger one: relaying a big log held
 * 60-80 MB of dead chunks (main peaked at ~125 MB RSS). The chunks die young, so a young-generation
 * GC every few MiB relayed frees them for a fraction of a millisecond each, and RSS stays flat.
 * `gc` comes from V8's --expose-gc, set at run time (the runner starts `node` without flags) and
 * only once a log is big enough to matter; anywhere it is unavailable the relay just skips this.
 */
const RECLAIM_EVERY_BYTES = 4 << 20
/** The few chunks still in flight at a young GC get promoted; a full GC now and then frees those. */
const FULL_GC_EVERY = 64
let relayedSinceGc = 0
let gcCount = 0
let gc: ((options: { type: 'minor' | 'major' }) => void) | null | undefined

function countRelayed(bytes: number): void {
  relayedSinceGc += bytes
  if (relayedSinceGc < RECLAIM_EVERY_BYTES) return
  relayedSinceGc = 0
  if (gc === undefined) gc = loadGc()
  gc?.({ type: ++gcCount % FULL_GC_EVERY === 0 ? 'major' : 'minor' })
}

function loadGc(): typeof gc {
  try {
    const v8 = process.getBuiltinModule('node:v8')
    const vm = process.getBuiltinModule('node:vm')
    v8.setFlagsFromString('--expose-gc')
    const exposed = vm.runInNewContext('gc') as unknown
    v8.setFlagsFromString('--no-expose-gc')
    return typeof exposed === 'function' ? (exposed as NonNullable<typeof gc>) : null
  } catch {
    return null
  }
}

/**
 * Runs a command and relays its output as it comes, without keeping it: memory stays flat
 * whatever the log size. Lines from the task could look like workflow commands (`::set-output`,
 * `::add-mask::`), so the relay runs between `::stop-commands::` markers when it writes to stdout.
 */
export function runStreaming(command: string, args: string[], options: StreamOptions = {}): Streaming {
  const out = options.out ?? process.stdout
  const onChunk = options.onChunk
  let stderrTail = Buffer.alloc(0)
  const keepStderr = (chunk: Buffer): void => {
    stderrTail = Buffer.concat([stderrTail, chunk])
    if (stderrTail.length > 2 * STDERR_TAIL_BYTES) stderrTail = stderrTail.subarray(stderrTail.length - STDERR_TAIL_BYTES)
  }

  let child: ChildProcess
  try {
    child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (error) {
    return { done: Promise.resolve({ code: null, signal: null, spawnError: String(error), stderrTail: '' }), interrupt: () => undefined }
  }

  // To stdout, the relay goes through the runner protocol's guard (task lines are never commands).
  const guarded = out === process.stdout
  const write = guarded ? (chunk: Buffer | string) => guard.relay(chunk) : (chunk: Buffer | string) => out.write(chunk)
  if (guarded) guard.stopCommands()

  const relay = (stream: NodeJS.ReadableStream | null, isStderr = false): Promise<void> =>
    new Promise((resolve) => {
      if (!stream) return resolve()
      if (isStderr) stream.on('data', keepStderr)
      const name = isStderr ? 'stderr' : 'stdout'
      const watch = (chunk: Buffer): void => onChunk?.(chunk, name)
      if (options.linePrefix) {
        const prefix = options.linePrefix
        let partial = ''
        stream.on('data', (chunk: Buffer) => {
          watch(chunk)
          countRelayed(chunk.length)
          const text = partial + chunk.toString('utf8')
          const lines = text.split('\n')
          partial = lines.pop() ?? ''
          if (lines.length > 0) write(lines.map((l) => `${prefix}${l}\n`).join(''))
        })
        stream.on('end', () => {
          if (partial) write(`${prefix}${partial}\n`)
          resolve()
        })
      } else {
        stream.on('data', (chunk: Buffer) => {
          watch(chunk)
          countRelayed(chunk.length)
          // Respect backpressure so a fast log never piles up in memory.
          if (!write(chunk)) {
            stream.pause()
            out.once('drain', () => stream.resume())
          }
        })
        stream.on('end', () => resolve())
      }
      stream.on('error', () => resolve())
    })

  const relays = Promise.all([relay(child.stdout), relay(child.stderr, true)])
  const done = new Promise<StreamEnd>((resolve) => {
    let spawnError: string | undefined
    child.on('error', (error) => {
      spawnError = error.message
    })
    child.on('close', (code, signal) => {
      void relays.then(() => {
        if (guarded) guard.resumeCommands()
        resolve({ code, signal, spawnError, stderrTail: stderrTail.subarray(Math.max(0, stderrTail.length - STDERR_TAIL_BYTES)).toString('utf8') })
      })
    })
  })

  return {
    done,
    pid: child.pid,
    interrupt(signal: NodeJS.Signals = 'SIGINT') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    }
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** A deadline for Promise.race that does not keep the process alive once the real work is done. */
export const deadline = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref())

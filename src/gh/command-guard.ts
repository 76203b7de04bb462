import { randomUUID } from 'node:crypto'
import os from 'node:os'

/**
 * The stop-commands guard: the action's own security property, which the toolkit does not give.
 *
 * Relayed output (a task's log) is not ours: a line in it that looks like a workflow command
 * (`::add-mask::`, `::error::`, `::set-output`) must stay text. While any relay runs, the runner's
 * command processing is stopped with a random token (`::stop-commands::TOKEN` ... `::TOKEN::`);
 * several relays (a fan-out) share one stop.
 *
 * The action's own commands must still count meanwhile (a warning during a fan-out, a job output
 * refused mid-log). @actions/core writes them to process.stdout; so, while commands are stopped,
 * stdout's write is wrapped: a write that is not relayed output and starts a command resumes
 * commands for that line only. Relayed output goes through relay(), straight to the real write.
 */

let stopToken: string | undefined
let relays = 0
/** The last relayed write ended inside a line: anything of ours must start on a line of its own. */
let midLine = false
let realWrite: typeof process.stdout.write | undefined

function lineBreak(): string {
  return midLine ? os.EOL : ''
}

/** A write of ours while commands are stopped: on its own line, and a command gets through. */
function guardedWrite(this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
  const write = realWrite!.bind(process.stdout) as (chunk: unknown, ...rest: unknown[]) => boolean
  const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk)
  const start = lineBreak()
  midLine = false
  if (stopToken && text.startsWith('::')) {
    return write(`${start}::${stopToken}::${os.EOL}${text}${text.endsWith('\n') ? '' : os.EOL}::stop-commands::${stopToken}${os.EOL}`, ...rest)
  }
  return write(start ? `${start}${text}` : chunk, ...rest)
}

export function stopCommands(): void {
  if (relays++ > 0) return
  stopToken = randomUUID()
  realWrite = process.stdout.write
  realWrite.call(process.stdout, `${lineBreak()}::stop-commands::${stopToken}${os.EOL}`)
  midLine = false
  process.stdout.write = guardedWrite as typeof process.stdout.write
}

export function resumeCommands(): void {
  if (relays === 0) return
  if (--relays > 0) return
  process.stdout.write = realWrite!
  realWrite = undefined
  process.stdout.write(`${lineBreak()}::${stopToken}::${os.EOL}`)
  stopToken = undefined
  midLine = false
}

/** Writes relayed output to stdout, remembering whether it ended mid-line. Returns write()'s backpressure flag. */
export function relay(chunk: Buffer | string): boolean {
  if (chunk.length === 0) return true
  const last = typeof chunk === 'string' ? chunk.charCodeAt(chunk.length - 1) : chunk[chunk.length - 1]
  midLine = last !== 10
  return (realWrite ?? process.stdout.write).call(process.stdout, chunk)
}

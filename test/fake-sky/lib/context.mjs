// The state of one `sky` invocation of the double: its ledger home, its config, its output, and
// the one interrupt hook the command in progress may set (the Ctrl-C hint of a streaming request).
import fs from 'node:fs'
import path from 'node:path'

export const ctx = {
  /** FAKE_SKY_HOME: the ledger directory. */
  H: null,
  cfg: {},
  argv: process.argv.slice(2),
  started: Date.now(),
  onInterrupt: null
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
export const out = (s) => process.stdout.write(s)
export const err = (s) => process.stderr.write(s)

/** An exit with a code and what goes to stderr (and stdout) first. */
export class Exit extends Error {
  constructor(code, stderr = '', stdout = '') {
    super(stderr)
    this.code = code
    this.stderr = stderr
    this.stdout = stdout
  }
}
export const fail = (code, stderr) => new Exit(code, stderr.endsWith('\n') ? stderr : `${stderr}\n`)

let recorded = false
/** One line per invocation in calls.jsonl (argv as given, never the environment). */
export function record(code) {
  if (recorded || !ctx.H) return
  recorded = true
  const line = JSON.stringify({ argv: ctx.argv, pid: process.pid, start: ctx.started, end: Date.now(), exit: code })
  try {
    fs.appendFileSync(path.join(ctx.H, 'calls.jsonl'), `${line}\n`)
  } catch {}
}

/** Waits until a write is flushed, or the reader is gone (then the EPIPE handler ends us). */
export async function writeOut(buf) {
  if (!process.stdout.write(buf)) {
    await new Promise((resolve) => {
      const done = () => {
        process.stdout.off('drain', done)
        process.stdout.off('close', done)
        resolve()
      }
      process.stdout.on('drain', done)
      process.stdout.on('close', done)
    })
  }
}

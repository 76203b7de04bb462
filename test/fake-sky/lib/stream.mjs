// Relaying a growing log file to stdout, as the client streams a request's or a job's log:
// 1 MiB reads straight to stdout, awaiting `drain`, no per-line work. Options mirror the real
// stream: only the last N lines of what exists (`sky logs` / `sky jobs logs` default to 1000),
// not following (print what is there and stop), and a stream that drops part-way.
import fs from 'node:fs'
import { readDone, pidAlive } from './common.mjs'
import { sleep, writeOut } from './context.mjs'

const CHUNK = 1 << 20
const POLL_MS = Number(process.env.FAKE_SKY_POLL_MS ?? 25)

/** Byte offset where the last `lines` lines of the file begin (reads backwards, in chunks). */
export function tailOffset(fd, lines) {
  const size = fs.fstatSync(fd).size
  if (!(lines > 0) || size === 0) return 0
  let pos = size
  let seen = 0
  // A final newline ends the last line; it does not start another one.
  let skipLast = true
  const buf = Buffer.allocUnsafe(64 * 1024)
  while (pos > 0) {
    const n = Math.min(buf.length, pos)
    pos -= n
    fs.readSync(fd, buf, 0, n, pos)
    for (let i = n - 1; i >= 0; i--) {
      if (buf[i] !== 0x0a) continue
      if (skipLast && pos + i === size - 1) {
        skipLast = false
        continue
      }
      seen++
      if (seen === lines) return pos + i + 1
    }
  }
  return 0
}

/** Thrown when the configured drop hits: the caller prints what the real client dies on. */
export class StreamDropped extends Error {}

/**
 * Relays `file` until its `.done` file appears; returns the done record (null when not following
 * and the writer has not finished). `pid`: the writer, whose death ends the stream.
 */
export async function follow(file, { pid, tail = 0, followMode = true, dropAfterMs = null } = {}) {
  const doneFile = `${file}.done`
  const started = Date.now()
  const dropped = () => dropAfterMs != null && Date.now() - started >= dropAfterMs
  let fd = null
  while (fd === null) {
    try {
      fd = fs.openSync(file, 'r')
    } catch {
      const d = readDone(doneFile)
      if (d) return d
      if (!followMode) return null
      if (dropped()) throw new StreamDropped()
      await sleep(POLL_MS)
    }
  }
  let pos = tail > 0 ? tailOffset(fd, tail) : 0
  let done = null
  let lastCheck = Date.now()
  try {
    for (;;) {
      if (dropped()) throw new StreamDropped()
      const buf = Buffer.allocUnsafe(CHUNK)
      const n = fs.readSync(fd, buf, 0, CHUNK, pos)
      if (n > 0) {
        pos += n
        await writeOut(n === CHUNK ? buf : buf.subarray(0, n))
        continue
      }
      if (done) break
      done = readDone(doneFile)
      if (done) continue // one more drain after the writer finished
      if (!followMode) break
      if (pid && Date.now() - lastCheck > 1000) {
        lastCheck = Date.now()
        if (!pidAlive(pid)) {
          done = readDone(doneFile) ?? { status: 'FAILED_DRIVER', error: 'RuntimeError: the fake server process died.' }
          continue
        }
      }
      await sleep(POLL_MS)
    }
  } finally {
    fs.closeSync(fd)
  }
  return done
}

// A `sky` on PATH that runs the test double (or the real sky) and forwards the action's SIGINT and
// SIGTERM to it, and appends the lifetime of the whole process (Node
// start-up of the fake included: a real sky call costs about a second of Python) to a file.
// bash's $EPOCHREALTIME is a builtin: no extra process. Only bash's own start-up (~1 ms) is left
// outside, so it counts against the action: the figure errs on the action's side.
import fs from 'node:fs'
import path from 'node:path'
import { FAKE_SKY, NODE, tmpDir, writeExecutable } from './common.mjs'

/** `target`: another `sky` to run (the real one, for bench/real-jobs.mjs); default the double on the runner's Node. */
export function skyShim({ dir = tmpDir('skyshim'), target } = {}) {
  fs.mkdirSync(dir, { recursive: true })
  const times = path.join(dir, '.sky-times.log')
  fs.writeFileSync(times, '')
  writeExecutable(
    path.join(dir, 'sky'),
    `#!/bin/bash
# Job control: the child gets its signals as the action sends them (a plain background child
# would ignore SIGINT, and a foreground one would not get it until bash itself did).
set -m
s=$EPOCHREALTIME
${target ? `'${target}'` : `'${NODE}' '${FAKE_SKY}'`} "$@" &
child=$!
trap 'kill -INT $child 2>/dev/null' INT
trap 'kill -TERM $child 2>/dev/null' TERM
wait $child
rc=$?
while kill -0 $child 2>/dev/null; do wait $child; rc=$?; done
e=$EPOCHREALTIME
cmd=$1
case $1 in jobs|api) cmd="$1 $2" ;; esac
echo "$s $e $rc $cmd" >> '${times}'
exit $rc
`
  )
  return {
    dir,
    /** [{ start, end, ms, exit, cmd }] in ms since the epoch, one per sky process (cmd: `launch`, `jobs queue`, ...). */
    entries() {
      return fs
        .readFileSync(times, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [s, e, rc, ...cmd] = l.split(' ')
          return { start: Number(s) * 1000, end: Number(e) * 1000, ms: (Number(e) - Number(s)) * 1000, exit: Number(rc), cmd: cmd.join(' ') }
        })
    },
    reset() {
      fs.writeFileSync(times, '')
    },
    remove() {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/**
 * A vitest global setup: every temporary folder of a test run (the tests', the built action's, the
 * double's, each made through os.tmpdir()) goes under one folder of the run's own, removed when the
 * run ends. Set before the workers start, TMPDIR reaches them and every process they spawn.
 */
export default function setup(): () => void {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'skypilot-action-tests-'))
  process.env.TMPDIR = root
  return () => {
    // KEEP_TEST_TEMP=1 keeps what a run left for a look after a failure.
    if (process.env.KEEP_TEST_TEMP) console.log(`test temp kept: ${root}`)
    else fs.rmSync(root, { recursive: true, force: true })
  }
}

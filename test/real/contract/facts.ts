import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { realSky, run } from '../lib/real-sky.js'

/** What facts.py reads from the real SkyPilot's code (see there for why each is read, not observed). */
export interface Facts {
  status_fields: Record<string, string[]>
  cluster_job_fields: Record<string, string[]>
  num_managed_jobs_to_show: number
  default_tail_lines: number
  cancelled_one_request: string | null
  tail_logs_retried: boolean
  transient_retries: number
  grammar: Record<string, ({ arg: string; nargs: number; required: boolean } | { opts: string[]; secondary: string[] })[]>
}

const HERE = path.dirname(fileURLToPath(import.meta.url))

/** Runs facts.py with the real SkyPilot's Python (the real-sky chroot, or the pip venv). */
export async function realFacts(): Promise<Facts> {
  const rs = realSky()
  // The script must be visible inside the chroot: /tmp is.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'contract-facts-'))
  const script = path.join(dir, 'facts.py')
  fs.copyFileSync(path.join(HERE, 'facts.py'), script)
  try {
    const r =
      rs.kind === 'tool'
        ? await run(path.join(HERE, '..', 'lib', 'chroot-python'), [script], { cwd: dir, env: { ...process.env, REAL_SKY_TOOL: path.dirname(rs.binDir) } })
        : await run(path.join(rs.binDir, 'python'), [script], { cwd: dir })
    if (r.code !== 0) throw new Error(`facts.py failed (exit ${r.code}): ${r.stderr.slice(-2000)}`)
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Facts
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { realSky } from './lib/real-sky.js'

/**
 * The real tier checks many command lines and task files in one Python process each (test/real/py).
 * Here those batch scripts answer as real-sky's own `check-cli` and `validate-yaml` do, one by one.
 */
const rs = realSky()

describe.runIf(rs.toolCheckCli)('batch checks agree with real-sky check-cli and validate-yaml', () => {
  it('the same verdicts for accepted and refused command lines and tasks', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'real-batch-agree-'))
    fs.writeFileSync(path.join(dir, 't.yaml'), 'name: t\nresources: {cpus: 2+}\nrun: echo hi\n')
    fs.writeFileSync(path.join(dir, 'bad.yaml'), 'name: t\nresources: {disk_tier: fastest}\nrun: echo hi\n')
    const lines = [['launch', '-y', '-c', 'abc', 't.yaml'], ['launch', '--no-such-flag', 't.yaml'], ['jobs', 'queue', '-a', '-o', 'json'], ['logs', '--tail', 'x', 'c', '1']]
    const batch = await rs.checkCli(lines.map((argv) => ({ argv, cwd: dir })))
    const single = await Promise.all(lines.map((argv) => rs.toolCheckCli!(argv, dir)))
    expect(batch.map((b) => b.ok)).toEqual(single.map((s) => s.code === 0))
    expect(batch.map((b) => b.ok)).toEqual([true, false, true, false])
    // The usage error is click's own text, as the CLI prints it.
    expect(batch[1]!.error).toBe(single[1]!.stderr)

    const files = ['t.yaml', 'bad.yaml']
    const verdicts = await rs.validate(files.map((f) => ({ file: path.join(dir, f) })))
    const tool = await Promise.all(files.map((f) => rs.toolValidate!(f, dir)))
    expect(verdicts.map((v) => (v.ok ? 'valid' : v.error))).toEqual(tool.map((t) => t.stdout.trim()))
    expect(verdicts.map((v) => v.ok)).toEqual([true, false])
    fs.rmSync(dir, { recursive: true, force: true })
  })
})

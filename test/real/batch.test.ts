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
    // One refusal each, compared word for word with the tool's own commands (each costs a Python
    // start-up); that the batches accept what is valid, and refuse what is not, the other real
    // tests show on hundreds of lines and tasks, with refused controls among them.
    const lines = [['launch', '-y', '-c', 'abc', 't.yaml'], ['launch', '--no-such-flag', 't.yaml']]
    const [batch, single] = await Promise.all([rs.checkCli(lines.map((argv) => ({ argv, cwd: dir }))), rs.toolCheckCli!(lines[1]!, dir)])
    expect(batch.map((b) => b.ok)).toEqual([true, false])
    expect(single.code).toBe(2)
    // The usage error is click's own text, as the CLI prints it.
    expect(batch[1]!.error).toBe(single.stderr)

    const [verdicts, tool] = await Promise.all([rs.validate(['t.yaml', 'bad.yaml'].map((f) => ({ file: path.join(dir, f) }))), rs.toolValidate!('bad.yaml', dir)])
    expect(verdicts.map((v) => v.ok)).toEqual([true, false])
    expect(verdicts[1]!.error).toBe(tool.stdout.trim())
    fs.rmSync(dir, { recursive: true, force: true })
  })
})

import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { createFakeSky, type FakeSky, type FakeSkyConfig } from '../fake-sky/index.mjs'
import { annotations, type StepOptions, type StepResult } from '../helpers/runner.js'

/** Shared bits of the fault and hostile-input suites. */

/** Runs `jobs` with at most `width` at once, keeping their order in the result. */
export async function pool<T>(width: number, jobs: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(jobs.length)
  let next = 0
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++
      if (i >= jobs.length) return
      results[i] = await jobs[i]!()
    }
  }
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, worker))
  return results
}

/** A local port nobody listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })
}

/** Undoes the workflow-command escaping of a message (`%0A` → newline, ...). */
export function unescapeCommand(text: string): string {
  return text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
}

/** The text of every `::error` annotation of a step, unescaped. */
export function errorText(r: StepResult): string {
  return annotations(r.stdout, 'error')
    .map((l) => unescapeCommand(l.replace(/^::error[^:]*::/, '')))
    .join('\n')
}

export function warningText(r: StepResult): string {
  return annotations(r.stdout, 'warning')
    .map((l) => unescapeCommand(l.replace(/^::warning[^:]*::/, '')))
    .join('\n')
}

/** One line for a table cell. */
export function oneLine(text: string, max = 110): string {
  const s = text.replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim()
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`
}

/** A plain-text table with a header rule. */
export function table(header: string[], rawRows: string[][]): string {
  const rows = rawRows.map((r) => r.map((c) => c.replace(/\\?\|/g, '\\|')))
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n')
}

/** Collects named checks; `held` is all of them, `failed` names the ones that did not. */
export class Checks {
  private readonly list: [string, boolean][] = []
  add(name: string, ok: boolean): this {
    this.list.push([name, ok])
    return this
  }
  get held(): boolean {
    return this.list.every(([, ok]) => ok)
  }
  get failed(): string[] {
    return this.list.filter(([, ok]) => !ok).map(([n]) => n)
  }
  private readonly known: [string, boolean][] = []
  /** A check of a known bug outside the suite's reach: reported, not counted in `held`. */
  open(name: string, ok: boolean): this {
    this.known.push([name, ok])
    return this
  }
  /** Known bugs that still show. */
  get openFailing(): string[] {
    return this.known.filter(([, ok]) => !ok).map(([n]) => n)
  }
  /** Known bugs that no longer show: their `open` check should become a plain one. */
  get openFixed(): string[] {
    return this.known.filter(([, ok]) => ok).map(([n]) => n)
  }
}

/** A fake `sky` whose background processes are killed and home removed by `cleanup`. */
export function fakeSky(config: FakeSkyConfig = {}): FakeSky {
  return createFakeSky({ config })
}

export function withSky(s: FakeSky, opts: StepOptions): StepOptions {
  return { ...opts, env: { ...s.env, ...opts.env } }
}

/** Writes an executable script. */
export function writeScript(file: string, body: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, body, { mode: 0o755 })
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix))
}

/** Every regular file under `dir` (symlinks not followed), for "nothing secret left behind". */
export function filesUnder(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string): void => {
    let entries: fs.Dirent[]
    try {
      entries = fs.readdirSync(d, { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.isFile()) out.push(p)
    }
  }
  walk(dir)
  return out
}

#!/usr/bin/env node
// `npm run bench`: runs every benchmark against the built bundles (dist/) on the runner's Node and
// prints one markdown table (figure | measured | goal | met), also written to bench/results/latest.md.
// Goals are reported, not asserted: exit 0 unless something crashed, or with --strict, a goal missed.
//   --strict        exit 1 when a goal is missed
//   --only=a,b      run only these: overhead, relay, warm, fanout, calls
// Env: BENCH_RUNS (7), BENCH_LOG_MB (1024), BENCH_LOG_SMALL_MB (64), BENCH_FANOUT_TASKS (64),
//      BENCH_FANOUT_PARALLEL (8), BENCH_FANOUT_SLEEP_S (3), BENCH_FANOUT_RUNS (3).
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { MAIN, NODE, POST, ROOT, RUNS } from './lib/common.mjs'
import { benchCalls } from './calls.mjs'
import { benchFanout } from './fanout.mjs'
import { benchOverhead } from './overhead.mjs'
import { benchRelay } from './relay.mjs'
import { benchWarm } from './warm.mjs'

const args = process.argv.slice(2)
const strict = args.includes('--strict')
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',')
const BENCHES = [
  ['overhead', '1–2. Own work and sky calls on the success path', benchOverhead],
  ['relay', '3. Log relay and memory', benchRelay],
  ['warm', '4. Warm start and the cold decision', benchWarm],
  ['fanout', '5. Fan-out', benchFanout],
  ['calls', '6. sky calls per mode', benchCalls]
]

for (const f of [MAIN, POST]) {
  if (!fs.existsSync(f)) {
    console.error(`bench: ${path.relative(ROOT, f)} is missing: run npm run build first.`)
    process.exit(2)
  }
}

const log = (line) => process.stderr.write(`${line}\n`)
// Every temporary folder of the run (runner temps, shims, logs, the double's homes) goes under one
// folder, removed at the end: os.tmpdir() reads TMPDIR, and the processes spawned inherit it.
const tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'skypilot-action-bench-'))
process.env.TMPDIR = tempRoot
const nodeVersion = execFileSync(NODE, ['--version'], { encoding: 'utf8' }).trim()
const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown cpu'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, Node ${nodeVersion}`
const loadStart = os.loadavg()
log(`bench: ${machine}; BENCH_RUNS=${RUNS}; load average ${loadStart.map((x) => x.toFixed(1)).join(' ')}`)

const rows = []
const started = Date.now()
let crashed = false
for (const [name, title, fn] of BENCHES) {
  if (only && !only.includes(name)) continue
  log(`\n## ${title}`)
  const t0 = Date.now()
  try {
    for (const row of await fn({ log })) rows.push(row)
  } catch (error) {
    crashed = true
    log(`bench ${name} crashed: ${error?.stack ?? error}`)
    rows.push({ figure: `${title}: CRASHED`, measured: String(error?.message ?? error).split('\n')[0], goal: '', met: false })
  }
  log(`  (${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s)`)
}

const esc = (s) => String(s).replace(/\|/g, '\\|')
const mark = (met) => (met === null || met === undefined ? '' : met ? '✅ yes' : '❌ no')
const table = [
  '| figure | measured | goal | met |',
  '|---|---|---|---|',
  ...rows.map((r) => `| ${esc(r.figure.replace(/^ {2}/, '↳ '))} | ${esc(r.measured)} | ${esc(r.goal === 'info' ? '' : r.goal)} | ${mark(r.met)} |`)
].join('\n')
const missed = rows.filter((r) => r.met === false)
const load = (l) => l.map((x) => x.toFixed(1)).join(' ')
const loadNote = `load average ${load(loadStart)} at start, ${load(os.loadavg())} at end`
const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
const doc = `# Benchmark results\n\n${when} · ${machine} · ${loadNote} · medians of ${RUNS} runs\n\n${table}\n\n${missed.length ? `Goals missed: ${missed.length}.` : 'Every goal met.'} Total ${((Date.now() - started) / 1000).toFixed(0)} s.\n`
console.log(`\n${doc}`)
const results = path.join(ROOT, 'bench', 'results')
fs.mkdirSync(results, { recursive: true })
fs.writeFileSync(path.join(results, 'latest.md'), doc)
log(`written to ${path.relative(process.cwd(), path.join(results, 'latest.md'))}`)
fs.rmSync(tempRoot, { recursive: true, force: true })
process.exit(crashed || (strict && missed.length > 0) ? 1 : 0)

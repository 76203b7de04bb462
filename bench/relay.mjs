// 3. Log relay: a job printing BENCH_LOG_MB of log lines through the action, against the same
// producer writing straight to /dev/null; and the peak RSS of the action's main process.
import fs from 'node:fs'
import path from 'node:path'
import { NODE, RUNS, fmtMB, fmtMs, median, nodeBin, peakRssWatch, runStep, spread, timeCommand, tmpDir, writeExecutable } from './lib/common.mjs'

const LOG_MB = Number(process.env.BENCH_LOG_MB ?? 1024)
const SMALL_MB = Number(process.env.BENCH_LOG_SMALL_MB ?? 64)
const TASK = 'name: loud\nrun: cat big.log\n'

/** ~100-byte numbered lines, `mb` MiB in all (a 1 MiB block of lines, repeated). */
function generateLog(file, mb) {
  const lines = []
  let size = 0
  for (let i = 0; size < 1 << 20; i++) {
    const line = `2026-01-01 00:00:00.000 INFO step ${String(i).padStart(7, '0')} loss=0.${String((i * 7919) % 100000).padStart(5, '0')} lr=3e-4 ${'x'.repeat(30)}\n`
    lines.push(line)
    size += line.length
  }
  const block = Buffer.from(lines.join('')).subarray(0, 1 << 20)
  // Keep the block ending on a line boundary.
  const cut = block.lastIndexOf(10) + 1
  const chunk = block.subarray(0, cut)
  const fd = fs.openSync(file, 'w')
  let written = 0
  while (written < mb * (1 << 20)) written += fs.writeSync(fd, chunk)
  fs.closeSync(fd)
  return written
}

/**
 * The smallest honest `sky`: answers --version, and for `launch` prints the job id early then
 * `cat`s the log to its stdout and exits 0 (what a real `sky launch` does while it tails a job, minus
 * Python). No polling, no ledger: what is measured is the relay, not the test double.
 */
function tinySky(dir, logFile) {
  const bin = path.join(dir, 'bin')
  fs.mkdirSync(bin)
  writeExecutable(
    path.join(bin, 'sky'),
    `#!/bin/bash
case "$1" in
  --version|-v) echo 'skypilot, version 0.14.1' ;;
  launch) echo '⚙︎ Job submitted, ID: 1'; exec cat '${logFile}' ;;
  *) echo "tiny sky: $1 not emulated" >&2; exit 1 ;;
esac
`
  )
  return bin
}

export async function benchRelay({ log }) {
  const dir = tmpDir('relay')
  try {
    const big = path.join(dir, 'big.log')
    const small = path.join(dir, 'small.log')
    const t0 = Date.now()
    const bytes = generateLog(big, LOG_MB)
    generateLog(small, SMALL_MB)
    log(`  generated ${fmtMB(bytes / 1024)} of ~100-byte lines in ${Date.now() - t0} ms`)
    const binBig = tinySky(fs.mkdtempSync(path.join(dir, 'big-')), big)
    const binSmall = tinySky(fs.mkdtempSync(path.join(dir, 'small-')), small)
    const pathWith = (bin) => `${bin}${path.delimiter}${nodeBin()}${path.delimiter}${process.env.PATH}`
    const stepOpts = (bin) => ({ inputs: { 'task-yaml': TASK }, env: { PATH: pathWith(bin) }, stdout: '/dev/null', expectCode: 0 })
    const shEnv = { PATH: process.env.PATH }

    const catMs = []
    const direct = []
    const piped = []
    const nodeReader = []
    const action = []
    for (let i = 0; i < RUNS; i++) {
      // Side by side in each iteration; the page cache is warm for all of them.
      const a = await timeCommand('cat', [big], { env: shEnv })
      const b = await timeCommand(path.join(binBig, 'sky'), ['launch'], { env: shEnv })
      const c = await timeCommand('bash', ['-c', `'${path.join(binBig, 'sky')}' launch | cat`], { env: shEnv })
      const e = await timeCommand('bash', ['-c', `'${path.join(binBig, 'sky')}' launch | '${NODE}' -e 'process.stdin.on("data", () => {})'`], { env: shEnv })
      const d = await runStep('main', stepOpts(binBig))
      if (d.outputs.status !== 'SUCCEEDED') throw new Error(`relay: main status ${d.outputs.status}`)
      catMs.push(a.wallMs)
      direct.push(b.wallMs)
      piped.push(c.wallMs)
      nodeReader.push(e.wallMs)
      action.push(d.wallMs)
      log(`  run ${i + 1}/${RUNS}: cat ${a.wallMs.toFixed(0)} ms, tiny sky > /dev/null ${b.wallMs.toFixed(0)} ms, tiny sky | cat ${c.wallMs.toFixed(0)} ms, tiny sky | node (no-op reader) ${e.wallMs.toFixed(0)} ms, action ${d.wallMs.toFixed(0)} ms`)
    }
    // The goal's baseline: the same producer writing into a pipe that a do-nothing reader drains
    // (the action necessarily sits behind a pipe). Straight to /dev/null there is no pipe at all.
    const ratio = median(action.map((x, i) => x / piped[i]))
    const ratioDirect = median(action.map((x, i) => x / direct[i]))
    const ratioNode = median(nodeReader.map((x, i) => x / piped[i]))
    const ratioVsNode = median(action.map((x, i) => x / nodeReader[i]))

    // Peak RSS of the action's main process: its own high-water mark (peakRssWatch).
    const rss = async (bin) => {
      const watch = peakRssWatch()
      await runStep('main', { ...stepOpts(bin), onSpawn: watch.onSpawn })
      return watch.stop()
    }
    const rssSmall = []
    const rssBig = []
    for (let i = 0; i < 3; i++) {
      rssSmall.push(await rss(binSmall))
      rssBig.push(await rss(binBig))
    }
    const small_ = median(rssSmall)
    const big_ = median(rssBig)
    log(`  peak RSS: ${SMALL_MB} MiB ${rssSmall.map(fmtMB).join(', ')}; ${LOG_MB} MiB ${rssBig.map(fmtMB).join(', ')}`)
    const growth = big_ - small_
    const gb = (LOG_MB / 1024).toFixed(LOG_MB % 1024 ? 2 : 0)
    return [
      { figure: `Log relay, ${gb} GiB: action main wall / \`tiny-sky launch | cat > /dev/null\`, median of per-run ratios`, measured: `${ratio.toFixed(2)}× (action ${fmtMs(median(action))}, baseline ${fmtMs(median(piped))})`, goal: '≤ 1.10×', met: ratio <= 1.1, value: ratio },
      { figure: '  floor of any Node reader: `tiny-sky launch | node -e <no-op data listener>` / `| cat`', measured: `${ratioNode.toFixed(2)}× (${fmtMs(median(nodeReader))})`, goal: 'info', met: null },
      { figure: '  action / that no-op Node reader', measured: `${ratioVsNode.toFixed(2)}×`, goal: 'info', met: null },
      { figure: '  action / `tiny-sky launch > /dev/null` (no pipe at all: the kernel drops the bytes)', measured: `${ratioDirect.toFixed(2)}× (baseline ${fmtMs(median(direct))})`, goal: 'info', met: null },
      { figure: '  `cat file > /dev/null`, median', measured: `${fmtMs(median(catMs))} ${spread(catMs)}`, goal: 'info', met: null },
      { figure: '  action relay throughput', measured: `${((bytes / (1 << 20)) / (median(action) / 1000)).toFixed(0)} MiB/s`, goal: 'info', met: null },
      { figure: `Peak RSS of main, ${SMALL_MB} MiB log`, measured: fmtMB(small_), goal: '< 100 MB', met: small_ < 100 * 1024 },
      { figure: `Peak RSS of main, ${gb} GiB log`, measured: fmtMB(big_), goal: '< 100 MB', met: big_ < 100 * 1024 },
      { figure: `  RSS growth ${SMALL_MB} MiB → ${gb} GiB`, measured: `${growth >= 0 ? '+' : ''}${fmtMB(growth)}`, goal: 'flat (≤ +10 MB)', met: growth <= 10 * 1024 }
    ]
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

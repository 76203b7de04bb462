// 5. Fan-out: 64 equal tasks, max-parallel 8, through the test double. Wall time of main against the
// ideal (64/8 waves × the single-task main wall of the same task) and the concurrency seen by sky.
import path from 'node:path'
import { createFakeSky } from '../test/fake-sky/index.mjs'
import { RUNS, fmtMs, fmtS, median, nodeBin, runStep, spread } from './lib/common.mjs'
import { skyShim } from './lib/sky-shim.mjs'

const TASKS = Number(process.env.BENCH_FANOUT_TASKS ?? 64)
const PARALLEL = Number(process.env.BENCH_FANOUT_PARALLEL ?? 8)
// 3 s tasks: with 1 s ones, the test double's own start-up under 8-way contention on 2 cores (0.1 to
// 0.3 s a task, varying) is most of what is measured, not the action's scheduling.
const SLEEP_S = Number(process.env.BENCH_FANOUT_SLEEP_S ?? 3)
const FANOUT_RUNS = Math.max(1, Number(process.env.BENCH_FANOUT_RUNS ?? 3))
const TASK = `run: sleep ${SLEEP_S}\n`

/** Highest number of intervals open at once. */
function maxOverlap(intervals) {
  const ev = intervals.flatMap((c) => [[c.start, 1], [c.end, -1]]).sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let open = 0
  let max = 0
  for (const [, d] of ev) max = Math.max(max, (open += d))
  return max
}

export async function benchFanout({ log }) {
  const shim = skyShim()
  const run = async (inputs) => {
    const s = createFakeSky()
    shim.reset()
    try {
      const env = { ...s.env, PATH: `${shim.dir}${path.delimiter}${nodeBin()}${path.delimiter}${process.env.PATH}` }
      const main = await runStep('main', { inputs, env, expectCode: 0, timeoutMs: 600_000 })
      const launches = shim.entries().filter((e) => e.cmd === 'launch')
      const calls = s.calls().filter((c) => c.argv[0] === 'launch')
      // The post step tears the clusters down; it is not what is measured here.
      await runStep('post', { inputs, env, runnerTemp: main.runnerTemp, state: main.state, timeoutMs: 600_000 })
      return { main, launches, calls }
    } finally {
      s.cleanup()
    }
  }

  // The ideal's unit: the median main wall of the same single task (start-up, --version, launch).
  const single = []
  const singleLaunch = []
  const singleProc = []
  for (let i = 0; i < RUNS; i++) {
    const r = await run({ 'task-yaml': TASK })
    single.push(r.main.wallMs)
    singleLaunch.push(r.calls[0].end - r.calls[0].start)
    singleProc.push(r.launches[0].ms)
  }
  const t1 = median(single)
  const waves = Math.ceil(TASKS / PARALLEL)
  const ideal = waves * t1
  log(`  single task: main ${fmtMs(t1)} ${spread(single)}; its sky launch process ${fmtMs(median(singleProc))}, of which inside the fake's code ${fmtMs(median(singleLaunch))}`)

  const tasks = Array.from({ length: TASKS }, (_, i) => ({ name: `t${String(i).padStart(2, '0')}`, 'task-yaml': TASK }))
  const inputs = { tasks: JSON.stringify(tasks), 'max-parallel': String(PARALLEL) }
  const walls = []
  const conc = []
  const occupancy = []
  const launchMs = []
  for (let i = 0; i < FANOUT_RUNS; i++) {
    const r = await run(inputs)
    if (r.main.outputs.status !== 'SUCCEEDED') throw new Error(`fan-out status ${r.main.outputs.status}`)
    if (r.calls.length !== TASKS) throw new Error(`fan-out: ${r.calls.length} launches, expected ${TASKS}`)
    walls.push(r.main.wallMs)
    conc.push(Math.max(maxOverlap(r.calls), maxOverlap(r.launches)))
    // Slot occupancy: how full the action kept its PARALLEL slots between the first launch start
    // and the last launch end (1.0 = a new launch starts the instant one ends).
    const span = Math.max(...r.launches.map((e) => e.end)) - Math.min(...r.launches.map((e) => e.start))
    occupancy.push(r.launches.reduce((t, e) => t + e.ms, 0) / (PARALLEL * span))
    launchMs.push(median(r.launches.map((e) => e.ms)))
    log(`  fan-out run ${i + 1}/${FANOUT_RUNS}: main ${fmtS(r.main.wallMs)} (ideal ${fmtS(ideal)}), max concurrency ${conc.at(-1)}, slot occupancy ${(occupancy.at(-1) * 100).toFixed(1)}%, median launch process ${fmtMs(launchMs.at(-1))}`)
  }
  const wall = median(walls)
  const ratio = wall / ideal
  const perTaskFake = median(launchMs) - SLEEP_S * 1000
  const fakeIdeal = waves * median(launchMs) + (t1 - median(singleProc))
  return [
    { figure: `Fan-out ${TASKS} × \`sleep ${SLEEP_S}\`, max-parallel ${PARALLEL}: main wall / ideal (${waves} × single-task main wall)`, measured: `${ratio.toFixed(2)}× (${fmtS(wall)} vs ${fmtS(ideal)}; single ${fmtMs(t1)})`, goal: '≤ 1.05×', met: ratio <= 1.05, value: ratio },
    { figure: '  maximum concurrent `sky launch` (calls() and process lifetimes)', measured: String(Math.max(...conc)), goal: `≤ ${PARALLEL}`, met: Math.max(...conc) <= PARALLEL },
    { figure: '  slot occupancy (Σ launch process time / (slots × launch span))', measured: `${(median(occupancy) * 100).toFixed(1)}%`, goal: 'info', met: null },
    { figure: `  per-task fake overhead above \`sleep ${SLEEP_S}\`: alone / with ${PARALLEL} at once`, measured: `${fmtMs(median(singleProc) - SLEEP_S * 1000)} / ${fmtMs(perTaskFake)}`, goal: 'info', met: null },
    { figure: `  main wall / (${waves} × contended launch + action start-up)`, measured: `${(wall / fakeIdeal).toFixed(2)}×`, goal: 'info', met: null }
  ]
}

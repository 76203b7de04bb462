// 1. The action's own work on the success path, and 2. sky invocations per step.
import fs from 'node:fs'
import path from 'node:path'
import { createFakeSky } from '../test/fake-sky/index.mjs'
import { MAIN, NODE, POST, RUNS, fmtMs, median, nodeBin, runStep, spread, timeCommand } from './lib/common.mjs'
import { skyShim } from './lib/sky-shim.mjs'

export const TINY_TASK = 'name: tiny\nrun: echo hi\n'

export async function benchOverhead({ log }) {
  const shim = skyShim()
  const own = []
  const ownByCalls = []
  const mainWall = []
  const postWall = []
  const skyMs = []
  const floor = []
  let callCounts
  for (let i = 0; i < RUNS; i++) {
    // Side by side: the floor (two bare Node start-ups) and the action in the same iteration.
    const a = await timeCommand(NODE, ['-e', '0'])
    const b = await timeCommand(NODE, ['-e', '0'])
    floor.push(a.wallMs + b.wallMs)

    const s = createFakeSky()
    shim.reset()
    try {
      const env = { ...s.env, PATH: `${shim.dir}${path.delimiter}${nodeBin()}${path.delimiter}${process.env.PATH}` }
      const opts = { inputs: { 'task-yaml': TINY_TASK }, env, expectCode: 0 }
      const main = await runStep('main', opts)
      const mainCalls = shim.entries().length
      const post = await runStep('post', { ...opts, runnerTemp: main.runnerTemp, state: main.state })
      if (post.code !== 0) throw new Error(`post exited ${post.code}: ${post.stdout.slice(-2000)}`)
      if (main.outputs.status !== 'SUCCEEDED') throw new Error(`main status ${main.outputs.status}`)
      const processes = shim.entries()
      const calls = s.calls()
      const skyProcMs = processes.reduce((t, c) => t + c.ms, 0)
      const skyCallsMs = calls.reduce((t, c) => t + (c.end - c.start), 0)
      const wall = main.wallMs + post.wallMs
      own.push(wall - skyProcMs)
      ownByCalls.push(wall - skyCallsMs)
      mainWall.push(main.wallMs)
      postWall.push(post.wallMs)
      skyMs.push(skyProcMs)
      // 2. Calls up to and including the launch (main), and in post (after main's last call).
      const argvs = calls.map((c) => c.argv)
      const launchAt = argvs.findIndex((a) => a[0] === 'launch')
      callCounts = {
        upToLaunch: launchAt + 1,
        inMain: mainCalls,
        inPost: processes.length - mainCalls,
        list: argvs.map((a) => a.slice(0, 1).join(' '))
      }
      log(`  run ${i + 1}/${RUNS}: main ${main.wallMs.toFixed(0)} ms + post ${post.wallMs.toFixed(0)} ms, sky processes ${skyProcMs.toFixed(0)} ms (${processes.length}), own ${(wall - skyProcMs).toFixed(0)} ms, floor ${(a.wallMs + b.wallMs).toFixed(0)} ms`)
    } finally {
      s.cleanup()
    }
  }
  shim.remove()
  const ownMed = median(own)
  const floorMed = median(floor)
  return [
    // Against the machine's own Node start-up, measured side by side: milliseconds alone move with
    // the machine (a hosted runner's Node starts twice as slowly as this one's when quiet).
    { figure: 'Own work, main + post (wall minus sky processes) / two bare Node start-ups, same runs', measured: `${(ownMed / floorMed).toFixed(2)}× (${fmtMs(ownMed)} / ${fmtMs(floorMed)})`, goal: '≤ 3×', met: ownMed / floorMed <= 3, value: ownMed },
    { figure: '  own work, median', measured: `${fmtMs(ownMed)} ${spread(own)}`, goal: 'info', met: null },
    { figure: '  floor: two bare `node -e 0` start-ups, median', measured: `${fmtMs(floorMed)} ${spread(floor)}`, goal: 'info', met: null },
    { figure: '  own work by calls() durations (fake start-up not excluded), median', measured: fmtMs(median(ownByCalls)), goal: 'info', met: null },
    { figure: '  main wall / post wall / sky processes, medians', measured: `${fmtMs(median(mainWall))} / ${fmtMs(median(postWall))} / ${fmtMs(median(skyMs))}`, goal: 'info', met: null },
    { figure: '  bundle size dist/main/index.js', measured: kb(MAIN), goal: 'info', met: null },
    { figure: '  bundle size dist/post/index.js', measured: kb(POST), goal: 'info', met: null },
    ...lazyChunks(),
    { figure: '`sky` calls up to and including `launch`', measured: `${callCounts.upToLaunch} (${callCounts.list.slice(0, callCounts.upToLaunch).join(', ')})`, goal: '≤ 2', met: callCounts.upToLaunch <= 2 },
    { figure: '`sky` calls in the post step', measured: `${callCounts.inPost} (${callCounts.list.slice(callCounts.inMain).join(', ')})`, goal: '≤ 3', met: callCounts.inPost <= 3 }
  ]
}

function kb(file) {
  return `${(fs.statSync(file).size / 1024).toFixed(0)} KiB`
}

/** The bundler splits dynamic imports (cache client, GitHub client, OIDC) into chunks loaded only on their paths. */
function lazyChunks() {
  const dir = path.join(path.dirname(MAIN), 'chunks')
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .map((f) => ({ figure: `  chunk dist/main/chunks/${f}`, measured: kb(path.join(dir, f)), goal: 'info', met: null }))
}

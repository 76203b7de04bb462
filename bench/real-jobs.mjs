#!/usr/bin/env node
// `npm run bench:real`: the action on real jobs, against the bare `sky` on the same cluster: the real
// SkyPilot (the real-sky tool) on the real Slurm cluster (the real-sky-slurm tool), with bin/sky's
// own local API server (no endpoint), as on a runner with credentials of its own. Prints one
// markdown table and writes it to bench/results/real-jobs.md. Needs both tools (root, Debian).
//   1. Overhead: the same task through the action's main step and through a bare
//      `sky launch -y -c X --down task.yaml`, alternated, medians of BENCH_REAL_RUNS (3) each.
//      Goal: the action adds at most 5 % or 3 s, whichever is larger. The post step's teardown
//      (`sky down` + the `sky status` that verifies it) is shown next to the bare `sky down` the
//      bare run needs as well (on Slurm its `--down` is an idle autodown that does not fire here).
//   2. Time from the start of main to the job's first relayed line, against the same for bare sky.
//   3. Peak RSS of main (its Node process) while a real job prints BENCH_REAL_LOG_MB (100) MB of
//      log: goal < 100 MB. The real `sky` client's own peak is shown beside it.
//   4. The sky calls of the action, per step.
//   5. The margin of max-duration: a job that would run ten minutes, capped at 20 s, from its
//      submission to the end of main (the cancel, the teardown and its check included).
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fmtMB, median, ms, now, readHwmKb, ROOT, runStep, tmpDir } from './lib/common.mjs'
import { skyShim } from './lib/sky-shim.mjs'

const RUNS = Math.max(1, Number(process.env.BENCH_REAL_RUNS ?? 3))
const LOG_MB = Number(process.env.BENCH_REAL_LOG_MB ?? 100)
const VERSION = '1.0.0-dev0'
const log = (line) => process.stderr.write(`${line}\n`)

function findTool(name, env) {
  const candidates = [process.env[env], path.join(ROOT, '..', 'shared', 'tools', name), `/work/shared/tools/${name}`]
  const found = candidates.find((c) => c && fs.existsSync(c))
  if (!found) throw new Error(`bench:real needs the ${name} tool (set ${env})`)
  return found
}
const REAL_SKY = findTool('real-sky', 'REAL_SKY_TOOL')
const SLURM = path.join(findTool('real-sky-slurm', 'REAL_SKY_SLURM_TOOL'), 'slurm')
const SKY = path.join(REAL_SKY, 'bin', 'sky')

/** Runs a command; resolves { code, wallMs, firstMs (the first line matching `first`), stdout }. */
function timed(command, args, { env, cwd, first, stdout = 'keep' } = {}) {
  return new Promise((resolve) => {
    const started = now()
    let firstMs
    let out = ''
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.on('data', (c) => {
      const text = c.toString()
      if (firstMs === undefined && first && first.test(text)) firstMs = ms(now() - started)
      if (stdout === 'keep') out += text
    })
    child.stderr.resume()
    child.on('close', (code) => resolve({ code, wallMs: ms(now() - started), firstMs, stdout: out }))
  })
}

const JOB_LINE = /\x1b\[36m\(bench, pid=\d+\)\x1b\[0m /
const task = (body) => `name: bench\nresources: {infra: slurm}\nrun: |\n${body.split('\n').map((l) => `  ${l}`).join('\n')}\n`
const SHORT = task('for i in 1 2 3 4 5; do echo "step $i"; sleep 1; done')

async function main() {
  const root = tmpDir('real-jobs')
  process.env.TMPDIR = root
  const rows = []
  try {
    log('bench:real: starting the Slurm cluster and the local API server (idempotent)')
    const started = await timed(SLURM, ['start'], { env: { ...process.env, REAL_SKY_TOOL: REAL_SKY } })
    if (started.code !== 0) throw new Error('slurm start failed')
    const bareEnv = { ...process.env }
    delete bareEnv.SKYPILOT_API_SERVER_ENDPOINT
    // The first call auto-starts bin/sky's local API server, which keeps the directory it was
    // started in as its own: a directory that outlives this run (the run's is removed at the end,
    // and a server left in a removed directory fails every later provisioning, rsync first).
    await timed(SKY, ['status', '-o', 'json'], { env: bareEnv, cwd: os.homedir() })

    // The action's sky: self-installed (a venv of its own in the tool cache, as after a cached
    // install), the real sky behind a shim that times each call.
    const toolCache = path.join(root, 'toolcache')
    // The extras the action derives from `infra: slurm` (a cached install of SkyPilot[slurm]).
    const venv = path.join(toolCache, 'skypilot', VERSION, 'slurm', 'x64', 'venv')
    const shim = skyShim({ dir: path.join(venv, 'bin'), target: SKY })
    fs.writeFileSync(path.join(venv, '.skypilot-action.json'), JSON.stringify({ version: VERSION, extras: ['slurm'], python: '3.13' }))
    const stepEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', SKYPILOT_API_SERVER_ENDPOINT: undefined, SKYPILOT_ACTION_RETRY_DELAY_MS: '1000' }
    const taskFile = path.join(root, 'task.yaml')
    fs.writeFileSync(taskFile, SHORT)
    const run = `b${Date.now().toString(36).slice(-4)}`

    const bare = { launch: [], first: [], down: [] }
    const action = { main: [], first: [], post: [], mainCalls: [], postCalls: [] }
    for (let i = 0; i < RUNS; i++) {
      const b = await timed(SKY, ['launch', '-y', '-c', `${run}-bare${i}`, '--down', 'task.yaml'], { env: bareEnv, cwd: root, first: JOB_LINE })
      if (b.code !== 0) throw new Error(`bare sky launch exited ${b.code}: ${b.stdout.slice(-3000)}`)
      const d = await timed(SKY, ['down', '-y', `${run}-bare${i}`], { env: bareEnv, cwd: root })
      bare.launch.push(b.wallMs)
      bare.first.push(b.firstMs)
      bare.down.push(d.wallMs)

      shim.reset()
      let firstMs
      const t0 = Date.now()
      const inputs = { 'task-yaml': SHORT, 'cluster-name': `${run}-act${i}`, 'skypilot-version': VERSION, infra: 'slurm' }
      const m = await runStep('main', { inputs, toolCache, env: stepEnv, timeoutMs: 600_000, onStdout: (chunk) => firstMs === undefined && JOB_LINE.test(chunk) && (firstMs = Date.now() - t0) })
      if (m.outputs.status !== 'SUCCEEDED') throw new Error(`action main: ${m.outputs.status}: ${m.stdout.slice(-2000)}`)
      action.mainCalls.push(shim.entries().map((e) => e.cmd))
      shim.reset()
      const p = await runStep('post', { inputs, toolCache, env: stepEnv, runnerTemp: m.runnerTemp, state: m.state, timeoutMs: 600_000 })
      if (p.code !== 0) throw new Error(`action post exited ${p.code}`)
      action.postCalls.push(shim.entries().map((e) => e.cmd))
      action.main.push(m.wallMs)
      action.first.push(firstMs)
      action.post.push(p.wallMs)
      log(`  run ${i + 1}/${RUNS}: bare launch ${(b.wallMs / 1000).toFixed(1)} s (first line ${(b.firstMs / 1000).toFixed(1)} s) + down ${(d.wallMs / 1000).toFixed(1)} s; action main ${(m.wallMs / 1000).toFixed(1)} s (first line ${(firstMs / 1000).toFixed(1)} s) + post ${(p.wallMs / 1000).toFixed(1)} s`)
    }
    const s = (x) => `${(x / 1000).toFixed(2)} s`
    const signed = (x) => `${x < 0 ? '−' : '+'}${s(Math.abs(x))}`
    const overhead = median(action.main) - median(bare.launch)
    const allowed = Math.max(0.05 * median(bare.launch), 3000)
    rows.push({ figure: `Real job (${RUNS} alternated runs, medians): action main / bare \`sky launch -y -c X --down\``, measured: `${s(median(action.main))} / ${s(median(bare.launch))}: ${signed(overhead)} (${((overhead / median(bare.launch)) * 100).toFixed(1)} %)`, goal: '≤ +5 % or +3 s, whichever is larger', met: overhead <= allowed })
    rows.push({ figure: '  teardown: the post step (`sky down`, then `sky status` to verify) / a bare `sky down`', measured: `${s(median(action.post))} / ${s(median(bare.down))}`, goal: 'info', met: null })
    const firstOver = median(action.first) - median(bare.first)
    rows.push({ figure: "Start to the job's first line: action (from main's start) / bare sky", measured: `${s(median(action.first))} / ${s(median(bare.first))}: ${signed(firstOver)}`, goal: 'info', met: null })
    rows.push({ figure: 'sky calls of the action on a real job: main / post', measured: `${action.mainCalls[0].join(', ')} / ${action.postCalls[0].join(', ')}`, goal: '≤ 2 to launch, ≤ 3 after', met: action.mainCalls.every((c) => c.length <= 2) && action.postCalls.every((c) => c.length <= 3) })

    // max-duration 20s on a job that would run ten minutes: from its submission (SkyPilot's
    // `Job submitted` line as relayed) to the end of main, which cancels the job and tears the
    // cluster down (verified) before it ends; each of those sky calls timed by the shim.
    shim.reset()
    let submittedAt
    const capped = await runStep('main', {
      inputs: { 'task-yaml': task('for i in $(seq 1 600); do echo "tick $i"; sleep 1; done'), 'cluster-name': `${run}-cap`, 'skypilot-version': VERSION, infra: 'slurm', 'max-duration': '20s' },
      toolCache,
      env: stepEnv,
      timeoutMs: 900_000,
      onStdout: (chunk) => {
        if (submittedAt === undefined && /Job submitted, ID: \d/.test(chunk.replace(/\x1b\[[0-9;]*m/g, ''))) submittedAt = Date.now()
      }
    })
    const cappedEnd = Date.now()
    const capCalls = shim.entries().filter((e) => e.cmd !== 'launch')
    await runStep('post', { inputs: {}, toolCache, env: stepEnv, runnerTemp: capped.runnerTemp, state: capped.state, timeoutMs: 600_000 })
    if (capped.outputs.status !== 'TIMED_OUT' || submittedAt === undefined) throw new Error(`capped job: ${capped.outputs.status}: ${capped.stdout.slice(-2000)}`)
    const beyond = cappedEnd - submittedAt - 20_000
    log(`  capped job: main ended ${s(cappedEnd - submittedAt)} after the submission: ${s(beyond)} beyond the cap (${capCalls.map((e) => `${e.cmd} ${s(e.ms)}`).join(', ')})`)
    rows.push({ figure: 'max-duration 20s on a job that would run 10 min: from its submission to the end of main (cap reached → job cancelled → cluster gone, verified)', measured: `${s(cappedEnd - submittedAt)}: ${s(beyond)} beyond the cap (${capCalls.map((e) => `\`${e.cmd}\` ${s(e.ms)}`).join(', ')})`, goal: 'info', met: null })

    // Peak RSS while a real job prints LOG_MB of ~100-byte lines through real SkyPilot's stream.
    const lines = Math.round((LOG_MB * 1024 * 1024) / 100)
    const loud = task(`yes ${'x'.repeat(99)} | head -n ${lines}`)
    // The action's own peak is its Node process's high-water mark (VmHWM), read until it exits.
    // GNU time's %M is the largest process of the tree, which here is the real `sky` client
    // (SkyPilot's Python, ~150 MB whatever the log): shown beside it, not counted.
    const t1 = Date.now()
    let mainPid
    let mainPeakKb = 0
    let skyPeakKb = 0
    const poll = setInterval(() => {
      try {
        if (mainPid) mainPeakKb = Math.max(mainPeakKb, readHwmKb(mainPid))
        for (const p of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
          if (/\/usr\/local\/bin\/sky\0launch/.test(fs.readFileSync(`/proc/${p}/cmdline`, 'latin1'))) skyPeakKb = Math.max(skyPeakKb, readHwmKb(p))
        }
      } catch {
        // a process that ended between the listing and the read
      }
    }, 200)
    const big = await runStep('main', { inputs: { 'task-yaml': loud, 'cluster-name': `${run}-loud`, 'skypilot-version': VERSION, infra: 'slurm' }, toolCache, env: stepEnv, stdout: path.join(root, 'loud.log'), onSpawn: (pid) => (mainPid = pid), timeoutMs: 3_600_000 })
    clearInterval(poll)
    const relayed = fs.statSync(path.join(root, 'loud.log')).size
    await runStep('post', { inputs: {}, toolCache, env: stepEnv, runnerTemp: big.runnerTemp, state: big.state, timeoutMs: 600_000 })
    const rss = mainPeakKb
    log(`  loud job: ${big.outputs.status}, ${(relayed / 2 ** 20).toFixed(0)} MiB relayed in ${((Date.now() - t1) / 1000).toFixed(0)} s, peak RSS of main ${fmtMB(rss)} (the sky client it ran: ${fmtMB(skyPeakKb)})`)
    rows.push({ figure: `Peak RSS of main while a real job prints ${LOG_MB} MB of log (${(relayed / 2 ** 20).toFixed(0)} MiB relayed in ${((Date.now() - t1) / 1000).toFixed(0)} s, ${big.outputs.status}); the real \`sky\` client it runs, not counted`, measured: `${fmtMB(rss)}; sky client ${fmtMB(skyPeakKb)}`, goal: '< 100 MB', met: rss > 0 && rss < 100 * 1024 && big.outputs.status === 'SUCCEEDED' })
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
  const mark = (met) => (met === null ? '' : met ? '✅ yes' : '❌ no')
  const table = ['| figure | measured | goal | met |', '|---|---|---|---|', ...rows.map((r) => `| ${r.figure.replace(/^ {2}/, '↳ ')} | ${r.measured} | ${r.goal === 'info' ? '' : r.goal} | ${mark(r.met)} |`)].join('\n')
  const doc = `# Real-job benchmark\n\n${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} · ${os.cpus().length} cores · load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} · real SkyPilot ${VERSION} on the real-sky-slurm cluster\n\n${table}\n`
  console.log(`\n${doc}`)
  fs.mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true })
  fs.writeFileSync(path.join(ROOT, 'bench', 'results', 'real-jobs.md'), doc)
}

await main()

// "The server side": one detached process per launch / exec / jobs launch
// request. It provisions (or fails, or hangs), submits the job, runs the task's
// setup and run with bash, writes the logs and keeps the ledger up to date.
// It is a process-group leader, so `sky down` / cancel can kill it whole.
import fs from 'node:fs'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { updateLedger } from './lib/ledger.mjs'
import { TERMINAL, nowSec, writeDone, logsDir } from './lib/common.mjs'

const [home, requestId] = process.argv.slice(2)
const spec = JSON.parse(fs.readFileSync(path.join(home, 'requests', `${requestId}.json`), 'utf8'))
const baseEnv = JSON.parse(process.env.FAKE_SKY_JOB_ENV ?? '{}')
delete process.env.FAKE_SKY_JOB_ENV

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const reqLog = fs.openSync(spec.requestLog, 'a')
const say = (s) => fs.writeSync(reqLog, s)

function findRequest(l) {
  return l.requests.find((r) => r.request_id === requestId)
}

function finishRequest(status, extra = {}) {
  const cancelled = updateLedger(home, (l) => {
    const r = findRequest(l)
    if (!r) return false
    if (r.status === 'CANCELLED') return true
    Object.assign(r, { status, finished_at: Date.now() / 1000 }, extra)
    return false
  })
  if (cancelled) process.exit(0)
  writeDone(`${spec.requestLog}.done`, { status, ...extra })
}

function runBash(script, env, cwd, fd) {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { stdio: ['ignore', fd, fd], env, cwd })
    child.on('error', () => resolve({ code: 127, child }))
    child.on('exit', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), signal }))
    runBash.current = child
  })
}

function jobEnv(task, extra) {
  const nodes = task.numNodes ?? 1
  return {
    ...baseEnv,
    ...task.envs,
    SKYPILOT_NODE_RANK: '0',
    SKYPILOT_NUM_NODES: String(nodes),
    SKYPILOT_NODE_IPS: Array.from({ length: nodes }, (_, i) => `10.0.0.${i + 1}`).join('\n'),
    SKYPILOT_NUM_GPUS_PER_NODE: String(task.gpusPerNode ?? 0),
    SKYPILOT_CLUSTER_INFO: JSON.stringify({
      cluster_name: spec.cluster,
      cloud: spec.cloud,
      region: spec.region,
      zone: null,
      num_nodes: nodes,
      provider_name: spec.cloud.toLowerCase()
    }),
    ...extra
  }
}

function ensureCwd() {
  if (spec.workdir) return spec.workdir
  const d = path.join(home, 'nodes', spec.cluster ?? 'managed', 'sky_workdir')
  fs.mkdirSync(d, { recursive: true })
  return d
}

function taskId(jobId) {
  const ts = new Date().toISOString().replace(/[:T]/g, '-').replace(/\..*/, '')
  return `sky-${ts}_${spec.cluster}_${jobId}`
}

// ---------------- cluster launch / exec ----------------
async function clusterRequest() {
  const b = spec.behaviour ?? {}
  if (spec.kind === 'launch' && !spec.reuse) {
    say(`⚙︎ Launching on ${spec.cloud} (${spec.region}).\n`)
    if (b.hang) {
      // Provisioning that never finishes: only down / api cancel / a kill ends it.
      for (;;) await sleep(60_000)
    }
    await sleep(b.provisionMs ?? 0)
    if (b.fail) {
      updateLedger(home, (l) => {
        const i = l.clusters.findIndex((c) => c.name === spec.cluster)
        if (i !== -1 && spec.createdCluster && !b.leaveInit) l.clusters.splice(i, 1)
      })
      finishRequest('FAILED', { error: b.failMessage })
      process.exit(0)
    }
    say('└── Instance is up.\n')
    updateLedger(home, (l) => {
      const c = l.clusters.find((x) => x.name === spec.cluster)
      if (c) Object.assign(c, { status: 'UP', launched_at: nowSec() })
    })
    say(`✓ Cluster launched: ${spec.cluster}.  View logs: sky logs --provision ${spec.cluster}\n`)
  } else if (spec.kind === 'launch') {
    say(`Cluster ${spec.cluster} is UP; skipping provisioning.\n`)
  }

  const task = spec.tasks[0]
  const jobLog = path.join(logsDir(home, 'jobs'), `${spec.cluster}-${requestId}.log`)
  fs.writeFileSync(jobLog, '')
  const job = updateLedger(home, (l) => {
    const c = l.clusters.find((x) => x.name === spec.cluster)
    if (!c) return null
    const id = c.next_job_id ?? 1
    c.next_job_id = id + 1
    const j = {
      cluster: spec.cluster,
      job_id: id,
      job_name: task.name ?? null,
      status: task.run == null ? 'SUCCEEDED' : 'PENDING',
      submitted_at: Date.now() / 1000,
      start_at: null,
      end_at: null,
      pid: process.pid,
      request_id: requestId,
      log: jobLog
    }
    l.jobs.push(j)
    return j
  })
  if (!job) {
    finishRequest('FAILED', {
      error: `sky.exceptions.ClusterDoesNotExist: Cluster '${spec.cluster}' does not exist.`
    })
    process.exit(0)
  }
  say(`⚙︎ Job submitted, ID: ${job.job_id}\n`)
  finishRequest('SUCCEEDED', { job_id: job.job_id })
  fs.closeSync(reqLog)

  const fd = fs.openSync(jobLog, 'a')
  const env = jobEnv(task, { SKYPILOT_TASK_ID: taskId(job.job_id) })
  const cwd = ensureCwd()
  const setJob = (patch) =>
    updateLedger(home, (l) => {
      const j = l.jobs.find((x) => x.cluster === spec.cluster && x.job_id === job.job_id && x.request_id === requestId)
      if (!j || TERMINAL.has(j.status)) return false
      Object.assign(j, patch)
      return true
    })

  let status = 'SUCCEEDED'
  if (task.run != null) {
    const runSetup = spec.kind === 'launch' && !spec.noSetup && task.setup != null
    if (runSetup) {
      if (!setJob({ status: 'SETTING_UP', start_at: Date.now() / 1000 })) process.exit(0)
      const r = await runBash(task.setup, { ...env, SKYPILOT_SETUP_NODE_RANK: '0' }, cwd, fd)
      if (r.code !== 0) status = 'FAILED_SETUP'
    }
    if (status === 'SUCCEEDED') {
      if (!setJob({ status: 'RUNNING', ...(runSetup ? {} : { start_at: Date.now() / 1000 }) })) process.exit(0)
      const r = await runBash(task.run, env, cwd, fd)
      if (r.code !== 0) status = 'FAILED'
    }
  }
  fs.writeSync(fd, `${status === 'SUCCEEDED' ? '✓' : '✗'} Job finished (status: ${status}).\n`)
  fs.closeSync(fd)
  updateLedger(home, (l) => {
    const j = l.jobs.find((x) => x.request_id === requestId)
    if (j && !TERMINAL.has(j.status)) Object.assign(j, { status, end_at: Date.now() / 1000 })
    else if (j && j.status === 'SUCCEEDED' && task.run == null) j.end_at = Date.now() / 1000
    // --down without -i: tear down once the job ends, except after a setup failure.
    if (spec.down && !spec.idle && (status === 'SUCCEEDED' || status === 'FAILED')) {
      const i = l.clusters.findIndex((c) => c.name === spec.cluster)
      if (i !== -1) l.clusters.splice(i, 1)
    }
  })
  writeDone(`${jobLog}.done`, { status })
}

// ---------------- managed job ----------------
async function managedRequest() {
  const m = spec.managed
  const jobLog = path.join(logsDir(home, 'managed'), `${requestId}.log`)
  fs.writeFileSync(jobLog, '')
  say(`⚙︎ Launching managed job '${m.name}' from jobs controller...\n`)
  const id = updateLedger(home, (l) => {
    const jid = (l.counters.managedJobId ?? 0) + 1
    l.counters.managedJobId = jid
    l.managedJobs.push({
      job_id: jid,
      task_id: 0,
      job_name: m.name,
      status: 'PENDING',
      recovery_count: 0,
      job_duration: 0,
      failure_reason: null,
      submitted_at: Date.now() / 1000,
      start_at: null,
      end_at: null,
      user_name: spec.user,
      pid: process.pid,
      request_id: requestId,
      log: jobLog
    })
    return jid
  })
  say(
    `Managed Job ID: ${id}\n` +
      '📋 Useful Commands\n' +
      `├── To cancel the job:\t\tsky jobs cancel ${id}\n` +
      `├── To stream job logs:\t\tsky jobs logs ${id}\n` +
      `├── To stream controller logs:\tsky jobs logs --controller ${id}\n` +
      '└── To view all managed jobs:\tsky jobs queue\n'
  )
  finishRequest('SUCCEEDED', { job_id: id })
  fs.closeSync(reqLog)

  const fd = fs.openSync(jobLog, 'a')
  const log = (s) => fs.writeSync(fd, s)
  const setJob = (patch) =>
    updateLedger(home, (l) => {
      const j = l.managedJobs.find((x) => x.job_id === id)
      if (!j || TERMINAL.has(j.status) || j.status === 'CANCELLING') return false
      Object.assign(j, patch)
      return true
    })
  const cwd = ensureCwd()
  let runSeconds = 0
  let status = 'SUCCEEDED'
  let reason = null
  let preemptionsLeft = m.preemptTimes ?? 0
  let recoveries = 0

  if (!setJob({ status: 'STARTING' })) process.exit(0)
  log(`⚙︎ Launching managed job cluster ${m.cluster} on ${spec.cloud} (${spec.region}).\n`)
  await sleep(spec.behaviour?.provisionMs ?? 0)
  if (m.failNoResource) {
    status = 'FAILED_NO_RESOURCE'
    reason = spec.behaviour?.failMessage ?? 'Failed to provision all possible launchable resources.'
  }
  for (let t = 0; t < spec.tasks.length && status === 'SUCCEEDED'; t++) {
    const task = spec.tasks[t]
    for (;;) {
      const env = jobEnv(task, { SKYPILOT_TASK_ID: `${taskId(id)}_${t}` })
      if (!setJob({ status: 'RUNNING', start_at: Date.now() / 1000 })) process.exit(0)
      if (task.setup != null) {
        const r = await runBash(task.setup, env, cwd, fd)
        if (r.code !== 0) {
          status = 'FAILED_SETUP'
          reason = `Setup failed with return code ${r.code}`
          break
        }
      }
      if (task.run == null) break
      const started = Date.now()
      const running = runBash(task.run, env, cwd, fd)
      if (preemptionsLeft > 0) {
        const child = runBash.current
        const timer = sleep(m.preemptAfterMs ?? 300).then(() => 'preempt')
        const first = await Promise.race([running.then(() => 'exited'), timer])
        if (first === 'preempt') child.kill('SIGKILL')
        await running
        runSeconds += (Date.now() - started) / 1000
        preemptionsLeft--
        recoveries++
        log(
          `\n⚠︎ The cluster ${m.cluster} was preempted (fake spot preemption). ` +
            `Managed job ${id} is RECOVERING (recovery #${recoveries}).\n`
        )
        if (!setJob({ status: 'RECOVERING', recovery_count: recoveries })) process.exit(0)
        await sleep(spec.behaviour?.provisionMs ?? 0)
        log(`✓ Managed job ${id} recovered: the task restarts from the beginning.\n`)
        continue
      }
      const r = await running
      runSeconds += (Date.now() - started) / 1000
      if (r.code !== 0) {
        status = 'FAILED'
        reason = `Job failed with return code ${r.code}`
      }
      break
    }
  }
  log(`${status === 'SUCCEEDED' ? '✓' : '✗'} Managed job finished: ${id} (status: ${status}).\n`)
  fs.closeSync(fd)
  updateLedger(home, (l) => {
    const j = l.managedJobs.find((x) => x.job_id === id)
    if (j && !TERMINAL.has(j.status) && j.status !== 'CANCELLING') {
      Object.assign(j, { status, failure_reason: reason, end_at: Date.now() / 1000, job_duration: runSeconds })
    }
  })
  writeDone(`${jobLog}.done`, { status })
}

try {
  if (spec.kind === 'jobs.launch') await managedRequest()
  else await clusterRequest()
  process.exit(0)
} catch (e) {
  try {
    fs.appendFileSync(path.join(home, 'runner-errors.log'), `${requestId}: ${e.stack}\n`)
    finishRequest('FAILED', { error: `RuntimeError: fake sky runner crashed: ${e.message}` })
  } catch {}
  process.exit(1)
}

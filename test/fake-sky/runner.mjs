// "The server side": one detached process per launch / exec / jobs launch
// request. It provisions (or fails, or hangs), submits the job, runs the task's
// setup and run with bash, writes the logs and keeps the ledger up to date.
// It is a process-group leader, so `sky down` / cancel can kill it whole.
import fs from 'node:fs'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { readLedger, updateLedger } from './lib/ledger.mjs'
import { TERMINAL, controllerName, nowSec, writeDone, logsDir } from './lib/common.mjs'
import { starting, finishing } from './lib/ansi.mjs'
import { msg } from './lib/wordings.mjs'

const [home, requestId] = process.argv.slice(2)
const spec = JSON.parse(fs.readFileSync(path.join(home, 'requests', `${requestId}.json`), 'utf8'))
const baseEnv = JSON.parse(process.env.FAKE_SKY_JOB_ENV ?? '{}')
delete process.env.FAKE_SKY_JOB_ENV

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const reqLog = fs.openSync(spec.requestLog, 'a')
const say = (s) => fs.writeSync(reqLog, s)

/** A cluster this launch created goes away again when the launch fails (unless told to stay INIT). */
function dropCreatedCluster() {
  updateLedger(home, (l) => {
    const i = l.clusters.findIndex((c) => c.name === spec.cluster)
    if (i !== -1 && spec.createdCluster) l.clusters.splice(i, 1)
  })
}

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

/**
 * Runs a job's setup or run with bash, its stdout and stderr into the job's log, each line behind
 * SkyPilot's prefix with the command's pid, coloured as the real log is (skylet/executor/slurm.py
 * and task_codegen.py print `(setup pid=N) `, `(<task name>, pid=N) `, `(head, rank=0, pid=N) `).
 */
function runBash(script, env, cwd, fd, label) {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'], env, cwd })
    const prefix = `\x1b[36m(${label === 'setup' ? `setup pid=${child.pid}` : `${label}, pid=${child.pid}`})\x1b[0m `
    let open = 2
    const relay = (stream) => {
      let partial = ''
      stream.on('data', (chunk) => {
        const lines = (partial + chunk.toString('utf8')).split('\n')
        partial = lines.pop()
        if (lines.length > 0) fs.writeSync(fd, lines.map((l) => `${prefix}${l}\n`).join(''))
      })
      stream.on('end', () => {
        if (partial) fs.writeSync(fd, `${prefix}${partial}\n`)
        if (--open === 0) finish()
      })
    }
    let exit
    const finish = () => exit && resolve(exit)
    relay(child.stdout)
    relay(child.stderr)
    child.on('error', () => resolve({ code: 127, child }))
    child.on('exit', (code, signal) => {
      exit = { code: code ?? (signal ? 128 : 1), signal, pid: child.pid }
      if (open === 0) finish()
    })
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

/** The run's log prefix names the task: its name, `sky-cmd` for an inline command, else `task`. */
function logLabel(task) {
  return task.name ?? 'task'
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
    if (b.noCloud) {
      // No cloud enabled: the optimizer finds nothing to run on before anything is provisioned.
      dropCreatedCluster()
      finishRequest('FAILED', { error: msg.noCloud })
      process.exit(0)
    }
    say(`${starting(`Launching on ${spec.cloud} (${spec.region}).`)}\n`)
    if (b.hang) {
      // Provisioning that never finishes: only down / api cancel / a kill ends it.
      for (;;) await sleep(60_000)
    }
    await sleep(b.provisionMs ?? 0)
    if (b.fail) {
      if (!b.leaveInit) dropCreatedCluster()
      finishRequest('FAILED', { error: b.failMessage })
      process.exit(0)
    }
    say('└── Instance is up.\n')
    updateLedger(home, (l) => {
      const c = l.clusters.find((x) => x.name === spec.cluster)
      if (c) Object.assign(c, { status: 'UP', launched_at: nowSec() })
    })
    say(`${finishing(`Cluster launched: ${spec.cluster}.`)}  View logs: sky logs --provision ${spec.cluster}\n`)
  } else if (spec.kind === 'launch') {
    say(`Cluster ${spec.cluster} is UP; skipping provisioning.\n`)
  }

  const first = spec.tasks[0]
  if (first.run == null && first.setup == null) {
    // cloud_vm_ray_backend._execute: nothing to run, no job.
    say(msg.runNotSpecified)
    finishRequest('SUCCEEDED', { job_id: null })
    process.exit(0)
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
      status: 'PENDING',
      submitted_at: Date.now() / 1000,
      start_at: null,
      end_at: null,
      pid: process.pid,
      request_id: requestId,
      resources: task.requested,
      metadata: task.metadata ?? {},
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
  say(msg.jobSubmitted(job.job_id))
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

  // task_codegen.py: every job's log opens with these two lines (they mark where `sky logs`
  // starts streaming). `✓ Job finished (status: S).` is not in the file: the tail adds it.
  fs.writeSync(fd, msg.waitingForResources(task.numNodes ?? 1))
  fs.writeSync(fd, msg.jobStarted)
  let status = 'SUCCEEDED'
  const runSetup = spec.kind === 'launch' && !spec.noSetup && task.setup != null
  if (runSetup) {
    if (!setJob({ status: 'SETTING_UP', start_at: Date.now() / 1000 })) process.exit(0)
    const r = await runBash(task.setup, { ...env, SKYPILOT_SETUP_NODE_RANK: '0' }, cwd, fd, 'setup')
    if (r.code !== 0) {
      status = 'FAILED_SETUP'
      fs.writeSync(fd, msg.setupFailed(job.job_id, r.code, r.pid))
    }
  }
  if (status === 'SUCCEEDED' && task.run != null) {
    // The cluster's allocation is ended outside SkyPilot (an admin's scancel, a node failure): the
    // job's processes die with it, and so does the cluster-side job table, so the job never gets a
    // final status; the cluster stays UP in the records until refreshed or torn down. After
    // `allocationEndsAfterMs`, or when a test says so (SIGUSR2: FakeSky.endAllocation).
    const endAllocation = () => {
      runBash.current?.kill('SIGKILL')
      updateLedger(home, (l) => {
        const c = l.clusters.find((x) => x.name === spec.cluster)
        if (c) c.allocation_gone = 7
      })
      writeDone(`${jobLog}.done`, { killed: true })
      process.exit(0)
    }
    process.on('SIGUSR2', endAllocation)
    if (!setJob({ status: 'RUNNING', ...(runSetup ? {} : { start_at: Date.now() / 1000 }) })) process.exit(0)
    const ends = spec.behaviour?.allocationEndsAfterMs
    if (ends != null) setTimeout(endAllocation, ends)
    const r = await runBash(task.run, env, cwd, fd, logLabel(task))
    if (r.code !== 0) {
      status = 'FAILED'
      fs.writeSync(fd, msg.runFailed(job.job_id, r.code))
    }
  }
  fs.closeSync(fd)
  updateLedger(home, (l) => {
    const j = l.jobs.find((x) => x.request_id === requestId)
    if (j && !TERMINAL.has(j.status)) Object.assign(j, { status, end_at: Date.now() / 1000 })
    // --down without -i: tear down once the job ends, except after a setup failure.
    if (spec.down && !spec.idle && (status === 'SUCCEEDED' || status === 'FAILED')) {
      const i = l.clusters.findIndex((c) => c.name === spec.cluster)
      if (i !== -1) l.clusters.splice(i, 1)
    }
  })
  writeDone(`${jobLog}.done`, { status })
}

// ---------------- managed job ----------------
/**
 * The jobs controller's part. Without consolidation mode the controller must be up (brought up
 * here when it is not, which needs a cloud); the controller runs the job as a cluster job of its
 * own, whose id (`Job submitted, ID: N`) is not the managed job id.
 */
async function managedRequest() {
  const m = spec.managed
  const jobLog = path.join(logsDir(home, 'managed'), `${requestId}.log`)
  if (!m.consolidation && !m.controllerPreset && !readLedgerController()) {
    say(msg.ensuringController(controllerName({ userName: spec.user })))
    say(msg.choosingControllerResources)
    if (m.noCloud) {
      finishRequest('FAILED', { error: msg.noCloud })
      process.exit(0)
    }
    say(`${starting(`Launching on ${spec.cloud} (${spec.region}).`)}\n`)
    updateLedger(home, (l) => {
      l.jobsController ??= { launched_at: nowSec() }
    })
    say(`${finishing(`Cluster launched: ${controllerName({ userName: spec.user })}.`)}\n`)
  }
  fs.writeFileSync(jobLog, '')
  say(msg.launchingManaged(m.name, m.consolidation))
  // The request's own work before the jobs queue lists the job (the task's upload, the controller's
  // bookkeeping): `sky api cancel` meanwhile ends it with no job created.
  await sleep(m.submitMs ?? 0)
  const { id, controllerJobId } = updateLedger(home, (l) => {
    const jid = (l.counters.managedJobId ?? 0) + 1
    l.counters.managedJobId = jid
    spec.tasks.forEach((t, taskIndex) => {
      l.managedJobs.push({
        job_id: jid,
        task_id: taskIndex,
        job_name: m.name,
        task_name: t.name ?? m.name,
        status: 'PENDING',
        recovery_count: 0,
        job_duration: 0,
        failure_reason: null,
        // A pipeline's later tasks are submitted when they start (null until then, as the real queue shows).
        submitted_at: taskIndex === 0 ? Date.now() / 1000 : null,
        start_at: null,
        end_at: null,
        user_name: spec.user,
        resources: t.requested,
        metadata: t.metadata ?? {},
        limits: t.limits ?? null,
        cloud: spec.cloud,
        region: spec.region,
        pid: process.pid,
        request_id: requestId,
        log: jobLog
      })
    })
    if (m.consolidation) return { id: jid, controllerJobId: null }
    const cj = (l.counters.controllerJobId || m.controllerJobsBefore) + 1
    l.counters.controllerJobId = cj
    return { id: jid, controllerJobId: cj }
  })
  /**
   * The controller records a job's end some time after the job's log ended (it looks every 15 s,
   * then cleans the job's cluster up): `recordLagMs` lets the log end (its .done) that long before
   * the status does, as a follow then sees ("Managed job finished: N (status: RUNNING)", exit 101).
   */
  const lag = async (status) => {
    if (!(m.recordLagMs > 0)) return
    writeDone(`${jobLog}.done`, { status })
    await sleep(m.recordLagMs)
  }
  /** A task failed: it takes its reason, the tasks after it are cancelled (jobs/controller.py). */
  const failFrom = (taskIndex, status, reason, runSeconds = 0) =>
    updateLedger(home, (l) => {
      const now = Date.now() / 1000
      for (const j of l.managedJobs) {
        if (j.job_id !== id || TERMINAL.has(j.status)) continue
        if ((j.task_id ?? 0) === taskIndex) Object.assign(j, { status, failure_reason: reason, end_at: now, job_duration: runSeconds })
        else if ((j.task_id ?? 0) > taskIndex) Object.assign(j, { status: 'CANCELLED', end_at: now })
      }
    })
  // Pre-checks that fail with no provisioning delay have failed before the launch request returns:
  // the launch's follow then finds the job ended ("already in terminal state"), every time. (With a
  // real server it depends on whether the controller or the client is quicker.)
  if (m.noCloud && !((spec.behaviour?.provisionMs ?? 0) > 0)) failFrom(0, 'FAILED_PRECHECKS', msg.noCloudReason)
  // The controller's own cluster job: a different counter. Consolidation mode prints nothing
  // here (jobs/server/core.py _consolidated_launch builds the message and drops it).
  if (controllerJobId != null) say(msg.jobSubmitted(controllerJobId))
  finishRequest('SUCCEEDED', { job_id: id })
  fs.closeSync(reqLog)

  const fd = fs.openSync(jobLog, 'a')
  const log = (s) => fs.writeSync(fd, s)
  const setTask = (taskIndex, patch) =>
    updateLedger(home, (l) => {
      const j = l.managedJobs.find((x) => x.job_id === id && (x.task_id ?? 0) === taskIndex)
      if (!j || TERMINAL.has(j.status) || j.status === 'CANCELLING') return false
      Object.assign(j, patch)
      return true
    })
  const finish = () => {
    fs.closeSync(fd)
    const rows = readLedgerRows(id)
    const status = (rows.find((r) => !TERMINAL.has(r.status)) ?? rows[rows.length - 1])?.status ?? 'FAILED_CONTROLLER'
    writeDone(`${jobLog}.done`, { status })
    process.exit(0)
  }
  const cwd = ensureCwd()

  await sleep(spec.behaviour?.provisionMs ?? 0)
  if (m.noCloud) {
    // The controller's optimizer finds no cloud: the job never starts.
    failFrom(0, 'FAILED_PRECHECKS', msg.noCloudReason)
    finish()
  }
  if (m.failNoResource) {
    failFrom(0, 'FAILED_NO_RESOURCE', spec.behaviour?.failMessage ?? 'Failed to provision all possible launchable resources.')
    finish()
  }
  let preemptionsLeft = m.preemptTimes ?? 0
  let recoveries = 0
  for (let t = 0; t < spec.tasks.length; t++) {
    const task = spec.tasks[t]
    let runSeconds = 0
    if (!setTask(t, { status: 'STARTING', ...(t > 0 ? { submitted_at: Date.now() / 1000 } : {}) })) finish()
    log(`${starting(`Launching managed job cluster ${m.cluster} on ${spec.cloud} (${spec.region}).`)}\n`)
    for (;;) {
      const env = jobEnv(task, { SKYPILOT_TASK_ID: `${taskId(id)}_${t}` })
      if (!setTask(t, { status: 'RUNNING', start_at: Date.now() / 1000 })) finish()
      log(msg.waitingForResources(task.numNodes ?? 1))
      log(msg.jobStarted)
      if (task.setup != null) {
        const r = await runBash(task.setup, env, cwd, fd, 'setup')
        if (r.code !== 0) {
          log(msg.jobFinished('FAILED_SETUP'))
          failFrom(t, 'FAILED_SETUP', `Setup failed with return code ${r.code}`, runSeconds)
          finish()
        }
      }
      if (task.run == null) break
      const started = Date.now()
      const running = runBash(task.run, env, cwd, fd, spec.tasks.length > 1 ? logLabel(task) : m.name)
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
        if (!setTask(t, { status: 'RECOVERING', recovery_count: recoveries })) finish()
        await sleep(spec.behaviour?.provisionMs ?? 0)
        log(`${finishing(`Managed job ${id} recovered: the task restarts from the beginning.`)}\n`)
        continue
      }
      const r = await running
      runSeconds += (Date.now() - started) / 1000
      if (r.code !== 0) {
        // The job's own cluster (a fresh one per managed job) numbers it 1.
        log(msg.runFailed(1, r.code))
        log(msg.jobFinished('FAILED'))
        await lag('FAILED')
        failFrom(t, 'FAILED', `Job failed with return code ${r.code}`, runSeconds)
        finish()
      }
      break
    }
    log(msg.jobFinished('SUCCEEDED'))
    if (t === spec.tasks.length - 1) await lag('SUCCEEDED')
    setTask(t, { status: 'SUCCEEDED', end_at: Date.now() / 1000, job_duration: runSeconds })
  }
  finish()
}

function readLedgerController() {
  return readLedger(home).jobsController
}

function readLedgerRows(id) {
  return readLedger(home)
    .managedJobs.filter((j) => j.job_id === id)
    .sort((a, b) => (a.task_id ?? 0) - (b.task_id ?? 0))
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

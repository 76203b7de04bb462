// Managed jobs: jobs launch / queue / logs / cancel. Two modes, as a real API server has:
// - consolidation (`managed.consolidation: true`): the controller runs next to the server; the
//   launch prints no `Job submitted` line;
// - a jobs controller cluster (the default, as SkyPilot's own default): it must be up before any
//   managed-job command works (`managed.controller: "up"`, or brought up by the first launch,
//   which needs a cloud), and the launch prints `Job submitted, ID: N` with N the controller's
//   own cluster-job id, a counter of its own.
import fs from 'node:fs'
import { readLedger, updateLedger } from './ledger.mjs'
import { EXIT, NAME_RE, TERMINAL, clusterBehaviour, exitCodeForStatus, killGroup, userName, writeDone } from './common.mjs'
import { UsageError } from './parse.mjs'
import { ctx, fail, out } from './context.mjs'
import { dashboardUrl, ensureServer, firstRequest, streamDroppedError } from './api-client.mjs'
import { loadTasks, noCloud } from './tasks.mjs'
import { newRequest, remoteBaseEnv, spawnRunner, waitRequest, writeSpec } from './requests.mjs'
import { StreamDropped, follow } from './stream.mjs'
import { managedJobRecord } from './records.mjs'
import { resolveTail } from './cluster-commands.mjs'
import { msg } from './wordings.mjs'

const usage = (command, message) => new UsageError(message, command)

// command.py _NUM_MANAGED_JOBS_TO_SHOW: `sky jobs queue` lists this many jobs unless -a / --limit.
export const NUM_MANAGED_JOBS_TO_SHOW = 50

export const consolidation = () => ctx.cfg.managed?.consolidation === true

/**
 * Whether the managed-jobs machinery exists: consolidation mode, or a jobs controller that is up
 * (managed jobs on record live on one, so a ledger that holds some has it).
 */
function controllerUp(l) {
  return consolidation() || Boolean(l.jobsController) || ctx.cfg.managed?.controller === 'up' || l.managedJobs.length > 0
}

function requireController(l) {
  if (!controllerUp(l)) throw fail(1, msg.noController)
}

/** A job's rows (one per task), in task order. */
export function rowsOf(l, id) {
  return l.managedJobs.filter((j) => j.job_id === id).sort((a, b) => (a.task_id ?? 0) - (b.task_id ?? 0))
}

/** jobs/state.py get_status: the first task not yet final, else the last task. */
export function jobStatus(rows) {
  if (!rows.length) return null
  return (rows.find((r) => !TERMINAL.has(r.status)) ?? rows[rows.length - 1]).status
}

export async function cmdJobsLaunch({ opts: o, args }) {
  const tasks = loadTasks(args.entrypoint ?? [], { ...o, name: undefined }, { allowPipeline: true, command: 'jobs launch' })
  const name = o.name ?? o.cluster ?? tasks.pipelineName ?? tasks[0].name ?? 'sky-cmd'
  // A single task takes the job's name (-n overrides the task's); a pipeline's tasks keep theirs.
  if (tasks.length === 1) tasks[0].name = name
  if (!NAME_RE.test(name)) throw fail(1, msg.invalidClusterName(name))
  await ensureServer()
  if (!o.yes) {
    out(`Launching a managed job '${name}'. Proceed? [Y/n]: \n`)
    throw fail(1, 'Aborted!')
  }
  await firstRequest('/jobs/launch')
  const mcfg = ctx.cfg.managed ?? {}
  const behaviour = clusterBehaviour(ctx.cfg, name).launch
  const request = updateLedger(ctx.H, (l) => newRequest(l, 'sky.jobs.launch', null))
  writeSpec(request.request_id, {
    kind: 'jobs.launch',
    cluster: null,
    requestLog: request.log,
    tasks: tasks.map(({ envs, ...t }) => t),
    workdir: tasks[0].workdir,
    cloud: tasks[0].cloud,
    region: tasks[0].region,
    user: userName(ctx.cfg),
    behaviour: { provisionMs: behaviour.provisionMs ?? mcfg.provisionMs ?? 0, failMessage: mcfg.failMessage },
    managed: {
      name,
      cluster: `${name}-${request.request_id.slice(0, 4)}`,
      consolidation: consolidation(),
      controllerPreset: mcfg.controller === 'up',
      // The controller's own cluster jobs so far: its job ids and the managed job ids are two
      // counters (they part whenever a launch failed after taking an id, with pools, ...).
      controllerJobsBefore: mcfg.controllerJobsBefore ?? 10,
      noCloud: noCloud(),
      preemptTimes: mcfg.preemptTimes ?? 0,
      preemptAfterMs: mcfg.preemptAfterMs ?? 300,
      failNoResource: Boolean(mcfg.failNoResource),
      recordLagMs: mcfg.recordLagMs ?? 0,
      submitMs: mcfg.submitMs ?? 0
    }
  })
  // Every task of a pipeline gets its own envs; the runner receives the first's as base.
  request.pid = spawnRunner(request.request_id, { ...remoteBaseEnv(), ...tasks[0].envs })
  const done = await waitRequest(request, { async: o.async })
  if (!done) return 0
  const id = done.job_id
  // `Managed Job ID` belongs to the hint block: right away with -d, after the job when following.
  const hints = () => out(msg.managedHints(id, dashboardUrl(`jobs/${id}`)))
  if (o.detach_run) {
    hints()
    return 0
  }
  const code = await followManaged(id, { followMode: true, tail: 0, drop: mcfg.dropStreamAfterMs ?? null })
  hints()
  return code
}

/**
 * jobs/utils.py stream_logs_by_id as the client sees it: a job already final prints why; one
 * still going is followed to its end, then `✓ Managed job finished: N (status: S).`.
 */
async function followManaged(id, { followMode, tail, drop }) {
  const l = readLedger(ctx.H)
  const rows = rowsOf(l, id)
  if (!rows.length) {
    out(msg.managedNotFound(id))
    return EXIT.NOT_FOUND
  }
  if (rows.length > 1) out(msg.managedTasksHint(id, rows.length))
  const status = jobStatus(rows)
  // Already final when the follow starts (a job that failed its pre-checks at once): why it
  // ended, not a stream. The launch's own follow meets this too when the job is that quick.
  if (TERMINAL.has(status)) {
    const log = rows[0].log
    const ran = rows.some((r) => r.start_at != null) && log && fs.existsSync(log) && fs.statSync(log).size > 0
    if (!ran) {
      const failed = status.startsWith('FAILED')
      const reason = failed ? rows.map((r) => r.failure_reason).find((r) => r != null) : null
      out(msg.managedTerminal(id, status, reason))
      return exitCodeForStatus(status)
    }
    await follow(log, { tail, followMode: false })
    out(`${msg.jobFinished(status)}\n`)
    return exitCodeForStatus(status)
  }
  if (!followMode) {
    await follow(rows[0].log, { tail, followMode: false })
    out('\n')
    return EXIT.SUCCEEDED
  }
  try {
    await follow(rows[0].log, { pid: rows[0].pid, tail, dropAfterMs: drop })
  } catch (e) {
    if (e instanceof StreamDropped) throw streamDroppedError('/jobs/logs')
    throw e
  }
  const final = jobStatus(rowsOf(readLedger(ctx.H), id))
  out(`${msg.managedFinished(id, final)}\n`)
  return exitCodeForStatus(final)
}

export async function cmdJobsQueue({ opts: o }) {
  await ensureServer()
  await firstRequest('/jobs/queue/v2')
  const l = readLedger(ctx.H)
  requireController(l)
  // Newest job first, its tasks in order.
  let rows = l.managedJobs.slice().sort((a, b) => b.job_id - a.job_id || (a.task_id ?? 0) - (b.task_id ?? 0))
  if (o.skip_finished) rows = rows.filter((r) => !TERMINAL.has(jobStatus(rowsOf(l, r.job_id))))
  if (o.status?.length) rows = rows.filter((r) => o.status.includes(r.status))
  // The limit counts jobs, not rows: a pipeline's tasks come whole.
  const limit = o.all ? null : o.limit ?? NUM_MANAGED_JOBS_TO_SHOW
  if (limit != null) {
    const keep = new Set([...new Set(rows.map((r) => r.job_id))].slice(0, limit))
    rows = rows.filter((r) => keep.has(r.job_id))
  }
  const pub = rows.map((r) => managedJobRecord(r, { verbose: Boolean(o.verbose), allUsers: Boolean(o.all_users) }))
  if (o.output === 'json') {
    out(`${JSON.stringify(pub, null, 2)}\n`)
    return 0
  }
  out('Fetching managed job statuses...\nManaged jobs\nID  TASK  NAME  #RECOVERIES  STATUS\n')
  for (const j of pub) out(`${j.job_id}  ${j.task_id}  ${j.job_name}  ${j.recovery_count}  ${j.status}\n`)
  return 0
}

export async function cmdJobsLogs({ opts: o, args }) {
  const followMode = o.follow !== false
  if (args.job_id != null && !/^\d+$/.test(args.job_id)) throw usage('jobs logs', `Invalid value for '[JOB_ID]': '${args.job_id}' is not a valid integer.`)
  const tail = resolveTail(o.tail, followMode)
  await ensureServer()
  await firstRequest('/jobs/logs')
  const l = readLedger(ctx.H)
  // Without following, the client never asks for the request's result: errors and the job's
  // status stay on the server, and the exit code is 0 (jobs/client/sdk.py get_result=follow).
  if (!controllerUp(l)) {
    if (!followMode) return 0
    throw fail(1, msg.noController)
  }
  let id
  if (args.job_id != null) id = Number(args.job_id)
  else if (o.name) id = [...l.managedJobs].reverse().find((x) => x.job_name === o.name)?.job_id
  else id = l.managedJobs[l.managedJobs.length - 1]?.job_id
  if (id == null) {
    out(msg.managedNotFound(args.job_id ?? ''))
    return followMode ? EXIT.NOT_FOUND : 0
  }
  const code = await followManaged(id, { followMode, tail, drop: followMode ? ctx.cfg.logs?.dropStreamAfterMs ?? null : null })
  return followMode ? code : 0
}

export async function cmdJobsCancel({ opts: o, args }) {
  const ids = (args.job_ids ?? []).map(Number)
  const given = [ids.length > 0, o.name != null, o.pool != null, Boolean(o.all || o.all_users)]
  if (given.filter(Boolean).length !== 1) {
    const parts = [
      ...(ids.length ? [`--job-ids ${ids.join(',')}`] : []),
      ...(o.name != null ? [`--name ${o.name}`] : []),
      ...(o.pool != null ? [`--pool ${o.pool}`] : []),
      ...(o.all ? ['--all'] : []),
      ...(o.all_users ? ['--all-users'] : [])
    ]
    throw usage('jobs cancel', `Can only specify one of JOB_IDS, --name, --pool, or --all/--all-users. Provided '${parts.join(' ')}'.`)
  }
  if (!o.yes) {
    const what = ids.length ? `managed job${ids.length > 1 ? 's' : ''} with ID${ids.length > 1 ? 's' : ''} ${ids.join(',')}` : o.name != null ? `'${o.name}'` : 'all managed jobs'
    out(`Cancelling ${what}. Proceed? [Y/n]: \n`)
    throw fail(1, 'Aborted!')
  }
  await ensureServer()
  await firstRequest('/jobs/cancel')
  requireController(readLedger(ctx.H))
  const result = updateLedger(ctx.H, (l) => {
    const active = (id) => !TERMINAL.has(jobStatus(rowsOf(l, id)))
    let text = ''
    let targets = []
    const byIds = (list) => {
      const chosen = []
      for (const id of [...new Set(list)].sort((a, b) => a - b)) {
        const rows = rowsOf(l, id)
        if (!rows.length) text += msg.cancelSkippedMissing(id)
        else if (!active(id)) text += msg.cancelSkippedTerminal(id, jobStatus(rows))
        else chosen.push(id)
      }
      return chosen
    }
    if (o.name != null) {
      const named = [...new Set(l.managedJobs.filter((j) => j.job_name === o.name).map((j) => j.job_id))].filter(active)
      if (!named.length) return { text: msg.noRunningJobNamed(o.name), targets }
      if (named.length > 1) return { text: msg.multipleRunningNamed(o.name, named), targets }
      targets = byIds(named)
      text += `'${o.name}' ${msg.scheduledToCancel(targets)}`
    } else {
      targets = byIds(ids.length ? ids : [...new Set(l.managedJobs.map((j) => j.job_id))].filter(active))
      text += targets.length ? msg.scheduledToCancel(targets) : msg.noJobToCancel
    }
    const endsAs = ctx.cfg.managed?.cancelEndsAs ?? 'CANCELLED'
    for (const r of l.managedJobs) {
      if (targets.includes(r.job_id) && !TERMINAL.has(r.status)) {
        r.status = endsAs
        r.end_at = Date.now() / 1000
      }
    }
    return { text, targets: l.managedJobs.filter((r) => targets.includes(r.job_id) && r.task_id === 0) }
  })
  for (const j of result.targets) {
    killGroup(j.pid)
    writeDone(`${j.log}.done`, { status: ctx.cfg.managed?.cancelEndsAs ?? 'CANCELLED' })
  }
  out(result.text)
  return 0
}

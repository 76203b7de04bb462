// Cluster commands: launch, exec, status, queue, logs, down/stop/start/autostop, cancel.
import crypto from 'node:crypto'
import fs from 'node:fs'
import { readLedger, updateLedger } from './ledger.mjs'
import { EXIT, NAME_RE, TERMINAL, clusterBehaviour, exitCodeForStatus, killGroup, matchGlob, nowSec, userHash, userName, writeDone } from './common.mjs'
import { UsageError } from './parse.mjs'
import { ctx, err, fail, out } from './context.mjs'
import { dashboardUrl, ensureServer, firstRequest, streamDroppedError } from './api-client.mjs'
import { loadTasks, noCloud } from './tasks.mjs'
import { newRequest, remoteBaseEnv, spawnRunner, waitRequest, writeSpec } from './requests.mjs'
import { StreamDropped, follow } from './stream.mjs'
import { clusterJobRecord, controllerRecord, statusRecord } from './records.mjs'
import { msg } from './wordings.mjs'

const usage = (command, message) => new UsageError(message, command)

// command.py _DEFAULT_TAIL_LINES: `sky logs` / `sky jobs logs` show only this many lines of an
// existing log unless --tail says otherwise (the launch's own tail shows everything).
export const DEFAULT_TAIL_LINES = 1000

/** --tail as command.py _apply_default_tail resolves it (the hint goes to stderr). */
export function resolveTail(tail, followMode) {
  if (tail === undefined) {
    if (!followMode) return 0
    err(msg.tailHint)
    return DEFAULT_TAIL_LINES
  }
  return Math.max(tail, 0)
}

function checkClusterName(name, op) {
  if (!NAME_RE.test(name)) throw fail(1, msg.invalidClusterName(name))
  if (name.startsWith('sky-jobs-controller-') || name.startsWith('sky-serve-controller-')) {
    throw fail(1, `sky.exceptions.NotSupportedError: ${op} is not allowed for SkyPilot controller '${name}'.`)
  }
}

function dropAfter(section, cluster) {
  const b = section === 'launch' ? clusterBehaviour(ctx.cfg, cluster).launch : ctx.cfg[section] ?? {}
  return b.dropStreamAfterMs ?? null
}

/** Follows a cluster job's log; a configured drop ends the client as the real one ends. */
async function tailJob(job, { tail = 0, followMode = true, drop = null } = {}) {
  let done
  try {
    done = await follow(job.log, { pid: job.pid, tail, followMode, dropAfterMs: drop })
  } catch (e) {
    if (e instanceof StreamDropped) throw streamDroppedError('/logs')
    throw e
  }
  // skylet/log_lib.py: the tail, not the log file, ends with the job's final status. A job whose
  // driver was killed with its allocation has none: the tail ends by the signal (exit 143).
  if (done?.status) out(msg.jobFinished(done.status))
  return done
}

/** The exit code of a tail that ended: the job's class, or 143 for a driver killed under it. */
function tailExit(done) {
  return done?.killed ? EXIT.DRIVER_KILLED : exitCodeForStatus(done?.status)
}

/** The cluster's allocation ended outside SkyPilot: what the node-side commands fail with. */
function allocationGone(c) {
  if (c?.allocation_gone) throw fail(1, msg.allocationExpired(c.allocation_gone))
}

export async function cmdLaunch({ opts: o, args }) {
  const tasks = loadTasks(args.entrypoint ?? [], o, { allowPipeline: false, command: 'launch' })
  const task = tasks[0]
  const cluster = o.cluster ?? `sky-${crypto.randomBytes(2).toString('hex')}-${userName(ctx.cfg)}`
  checkClusterName(cluster, 'Launching tasks on it')
  await ensureServer()
  const { launch: b } = clusterBehaviour(ctx.cfg, cluster)
  const existing = readLedger(ctx.H).clusters.find((c) => c.name === cluster)
  if (o.dryrun) {
    out('Dryrun finished.\n')
    return 0
  }
  if (!o.yes) {
    out(
      existing?.status === 'UP'
        ? `Running task on cluster ${cluster}. Proceed? [Y/n]: \n`
        : `Launching a new cluster '${cluster}'. Proceed? [Y/n]: \n`
    )
    throw fail(1, 'Aborted!')
  }
  out(msg.runningOnCluster(cluster))
  await firstRequest('/launch')
  const idle = o.idle_minutes_to_autostop ?? null
  const request = updateLedger(ctx.H, (l) => {
    const attempts = (l.counters.attempts[cluster] = (l.counters.attempts[cluster] ?? 0) + 1)
    let c = l.clusters.find((x) => x.name === cluster)
    const created = !c
    if (!c) {
      c = {
        name: cluster,
        status: 'INIT',
        autostop: -1,
        to_down: false,
        launched_at: nowSec(),
        // The usage interval opens when provisioning starts (global_user_state.add_or_update_cluster
        // at INIT); launched_at moves to the moment the cluster is UP, the interval does not.
        usage_started_at: nowSec(),
        cloud: task.cloud,
        region: task.region,
        zone: null,
        resources_str: task.resourcesStr,
        num_nodes: task.numNodes,
        user_name: userName(ctx.cfg),
        workspace: o.workspace ?? 'default',
        last_use: `sky launch -c ${cluster}`,
        next_job_id: 1,
        // The allocation's wall-clock limit, from the task's config (set when it is provisioned).
        limits: task.limits
      }
      l.clusters.push(c)
    }
    c.autostop = idle ?? (o.down ? 0 : -1)
    c.to_down = Boolean(o.down)
    const r = newRequest(l, 'sky.launch', cluster)
    r.created_cluster = created
    r.reuse = c.status === 'UP'
    r.noCloud = !r.reuse && noCloud()
    r.fail = !r.reuse && (b.fail === true || attempts <= (b.failTimes ?? 0))
    return r
  })
  writeSpec(request.request_id, {
    kind: 'launch',
    cluster,
    createdCluster: request.created_cluster,
    reuse: request.reuse,
    requestLog: request.log,
    tasks: tasks.map(({ envs, ...t }) => t),
    workdir: task.workdir,
    cloud: task.cloud,
    region: task.region,
    down: Boolean(o.down),
    idle: idle && idle > 0 ? idle : null,
    noSetup: Boolean(o.no_setup),
    user: userName(ctx.cfg),
    behaviour: {
      provisionMs: b.provisionMs ?? 0,
      hang: Boolean(b.hang),
      noCloud: request.noCloud,
      fail: request.fail,
      failMessage: b.failMessage ?? msg.noResources,
      leaveInit: Boolean(b.leaveInit),
      allocationEndsAfterMs: b.allocationEndsAfterMs ?? null
    }
  })
  request.pid = spawnRunner(request.request_id, { ...remoteBaseEnv(), ...task.envs })
  const done = await waitRequest(request, { async: o.async })
  if (!done) return 0
  const hints = () => out(msg.clusterHints(done.job_id ?? null, cluster, dashboardUrl(`clusters/${cluster}`)))
  if (o.detach_run || done.job_id == null) {
    hints()
    return 0
  }
  const job = readLedger(ctx.H).jobs.find((j) => j.cluster === cluster && j.job_id === done.job_id)
  if (!job) return EXIT.NOT_FOUND
  const finished = await tailJob(job, { drop: dropAfter('launch', cluster) })
  hints()
  return tailExit(finished)
}

export async function cmdExec({ opts: o, args }) {
  let cluster = args.cluster
  let entry = args.entrypoint ?? []
  if (o.cluster) {
    if (cluster) entry = [cluster, ...entry]
    cluster = o.cluster
  }
  if (!cluster) throw usage('exec', "Missing argument '[CLUSTER]' and '[ENTRYPOINT]...'")
  if (entry.length === 0) throw usage('exec', "Missing argument '[ENTRYPOINT]...'")
  const tasks = loadTasks(entry, o, { allowPipeline: false, command: 'exec' })
  const task = tasks[0]
  checkClusterName(cluster, 'Executing task on it')
  out(msg.submittingTo(cluster))
  await ensureServer()
  await firstRequest('/exec')
  const request = updateLedger(ctx.H, (l) => {
    const c = l.clusters.find((x) => x.name === cluster)
    if (!c) return { error: msg.clusterDoesNotExist(cluster) }
    if (c.status !== 'UP') {
      return {
        error: `sky.exceptions.ClusterNotUpError: Cluster '${cluster}' is not up (status: ${c.status}). Please wait for the cluster to be up or use \`sky start\`.`
      }
    }
    return newRequest(l, 'sky.exec', cluster)
  })
  if (request.error) throw fail(1, request.error)
  const c = readLedger(ctx.H).clusters.find((x) => x.name === cluster)
  writeSpec(request.request_id, {
    kind: 'exec',
    cluster,
    requestLog: request.log,
    tasks: tasks.map(({ envs, ...t }) => t),
    workdir: task.workdir,
    cloud: c?.cloud ?? task.cloud,
    region: c?.region ?? task.region,
    user: userName(ctx.cfg)
  })
  request.pid = spawnRunner(request.request_id, { ...remoteBaseEnv(), ...task.envs })
  const done = await waitRequest(request, { async: o.async })
  if (!done || o.detach_run || done.job_id == null) return 0
  const job = readLedger(ctx.H).jobs.find((j) => j.cluster === cluster && j.job_id === done.job_id)
  if (!job) return EXIT.NOT_FOUND
  const finished = await tailJob(job, { drop: dropAfter('launch', cluster) })
  return tailExit(finished)
}

// ---------------------------------------------------------------- queries

function matchNames(all, patterns) {
  if (!patterns?.length) return all
  return all.filter((c) => patterns.some((p) => matchGlob(p, c.name)))
}

/** ux_utils.get_non_matched_query: names (or globs) that match no cluster. */
function notFound(all, patterns) {
  return (patterns ?? []).filter((p) => !all.some((c) => matchGlob(p, c.name)))
}

/** The clusters `sky status` knows: the user's, and the jobs controller once it is up. */
function allClusters(l) {
  return [...l.clusters.map(statusRecord), ...(l.jobsController ? [controllerRecord(l.jobsController)] : [])]
}

export async function cmdStatus({ opts: o, args }) {
  await ensureServer()
  // `sky status` asks for the managed jobs first: that is the request a refused client dies on.
  await firstRequest('/jobs/queue/v2')
  const all = allClusters(readLedger(ctx.H))
  const missing = notFound(all, args.clusters)
  if (missing.length) out(msg.clustersNotFound(missing))
  const records = matchNames(all, args.clusters)
  if (o.output === 'json') {
    out(`${JSON.stringify(records, null, 2)}\n`)
    return 0
  }
  if (records.length === 0) {
    out('Clusters\nNo existing clusters.\n')
    return 0
  }
  const rows = [['NAME', 'INFRA', 'RESOURCES', 'STATUS', 'AUTOSTOP', 'LAUNCHED']]
  for (const r of records) {
    rows.push([
      r.name,
      `${r.cloud} (${r.region})`,
      r.resources_str,
      r.status,
      r.autostop < 0 ? '-' : `${r.autostop}m${r.to_down ? ' (down)' : ''}`,
      new Date(r.launched_at * 1000).toISOString()
    ])
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)))
  out(`Clusters\n${rows.map((row) => row.map((v, i) => String(v).padEnd(widths[i])).join('  ').trimEnd()).join('\n')}\n`)
  return 0
}

export async function cmdQueue({ opts: o, args }) {
  await ensureServer()
  await firstRequest('/queue')
  const l = readLedger(ctx.H)
  const names = args.clusters?.length ? args.clusters : l.clusters.map((c) => c.name)
  out(msg.queueFetching(names))
  const result = {}
  for (const n of names) {
    if (!l.clusters.some((c) => c.name === n)) {
      // The real CLI reports the failure and goes on: `{}` and exit 0.
      out(msg.queueFailed(n))
      continue
    }
    const gone = l.clusters.find((c) => c.name === n)?.allocation_gone
    if (gone) {
      out(msg.queueFailedAllocation(n, gone))
      continue
    }
    let jobs = l.jobs.filter((j) => j.cluster === n).map(clusterJobRecord).reverse()
    if (o.skip_finished) jobs = jobs.filter((j) => !TERMINAL.has(j.status))
    result[n] = jobs
  }
  if (o.output === 'json') {
    out(`${JSON.stringify(result, null, 2)}\n`)
    return 0
  }
  for (const [n, jobs] of Object.entries(result)) {
    out(`\nJob queue of current user on cluster ${n}\nID  NAME  STATUS\n`)
    for (const j of jobs) out(`${j.job_id}  ${j.job_name}  ${j.status}\n`)
  }
  return 0
}

export async function cmdLogs({ opts: o, args }) {
  if (!args.cluster) throw usage('logs', "Missing argument 'CLUSTER'.")
  const ids = args.job_ids ?? []
  if (ids.length > 1 && !o.sync_down) {
    throw usage('logs', `Cannot stream logs of multiple jobs (IDs: ${ids.join(', ')}).\nPass -s/--sync-down to download the logs instead.`)
  }
  if (ids.length && !/^\d+$/.test(ids[0])) throw usage('logs', `Invalid job ID ${ids[0]}. Job ID must be integers.`)
  const followMode = o.follow !== false
  let tail = 0
  if (!o.status && !o.provision) {
    out(msg.tailing(ids[0] ?? null, args.cluster))
    tail = resolveTail(o.tail, followMode)
  }
  await ensureServer()
  await firstRequest(o.status ? '/job_status' : '/logs')
  const l = readLedger(ctx.H)
  const c = l.clusters.find((x) => x.name === args.cluster)
  if (!c) throw fail(1, msg.clusterDoesNotExist(args.cluster))
  const jobs = l.jobs.filter((j) => j.cluster === c.name)
  if (o.provision) {
    const r = [...l.requests].reverse().find((x) => x.cluster_name === c.name && x.name === 'sky.launch')
    if (r) out(fs.readFileSync(r.log, 'utf8'))
    return 0
  }
  const job = ids.length ? jobs.find((j) => String(j.job_id) === String(ids[0])) : jobs[jobs.length - 1]
  if (o.status) out(msg.gettingJobStatus)
  allocationGone(c)
  if (o.status) {
    if (!ids.length && !job) {
      out(msg.noJobOnCluster(c.name))
      return EXIT.NOT_FOUND
    }
    out(msg.jobStatusLine(ids[0] ?? job.job_id, job?.status))
    if (!job) out(`Job ${ids[0]} not found\n`)
    return exitCodeForStatus(job?.status)
  }
  if (!job) {
    err(msg.jobNotFoundOnCluster(ids[0] ?? ''))
    return EXIT.NOT_FOUND
  }
  // The follow's first line comes that long after the call (the client's start-up and the server's
  // streaming, slow on a loaded machine); the job goes on meanwhile, and the log is read from its start.
  if (followMode) await new Promise((r) => setTimeout(r, ctx.cfg.logs?.startMs ?? 0))
  const done = await tailJob(job, { tail, followMode, drop: followMode ? dropAfter('logs') : null })
  if (!done) return exitCodeForStatus(readLedger(ctx.H).jobs.find((j) => j.log === job.log)?.status)
  return tailExit(done)
}

// ---------------------------------------------------------------- teardown

function cancelProcessesOf(l, predicate) {
  const pids = []
  for (const j of l.jobs) {
    if (predicate(j.cluster) && !TERMINAL.has(j.status)) {
      j.status = 'CANCELLED'
      j.end_at = Date.now() / 1000
      writeDone(`${j.log}.done`, { status: 'CANCELLED' })
      if (j.pid) pids.push(j.pid)
    }
  }
  // Terminating a cluster cancels the requests still running on it.
  for (const r of l.requests) {
    if (predicate(r.cluster_name) && (r.status === 'RUNNING' || r.status === 'PENDING')) {
      r.status = 'CANCELLED'
      r.finished_at = Date.now() / 1000
      writeDone(`${r.log}.done`, { status: 'CANCELLED' })
      if (r.pid) pids.push(r.pid)
    }
  }
  return pids
}

export const cmdDown = (parsed) => downOrStop(parsed, true)
export const cmdStop = (parsed) => downOrStop(parsed, false)

async function downOrStop({ opts: o, args }, down) {
  const command = down ? 'down' : 'stop'
  const names = args.clusters ?? []
  if (!names.length && !o.all && !o.all_users) {
    throw usage(
      command,
      `\`sky ${command}\` requires either a cluster name or glob (see \`sky status\`), or the -a/--all flag for all your clusters, or the -u/--all-users flag for all clusters in your team.`
    )
  }
  await ensureServer()
  await firstRequest('/status')
  const l0 = readLedger(ctx.H)
  const all = o.all || o.all_users
  if (!all) {
    const missing = notFound(l0.clusters, names)
    if (missing.length) out(msg.clustersNotFound(missing))
  }
  // -a never picks the jobs controller; naming it is refused by the real CLI (not emulated).
  const targets = (all ? l0.clusters : matchNames(l0.clusters, names)).map((c) => c.name)
  if (!targets.length) {
    out(msg.downNothing)
    return 0
  }
  const operation = down ? 'Terminating' : 'Stopping'
  if (!o.yes) {
    out(`${operation} ${targets.length} cluster${targets.length > 1 ? 's' : ''}: ${targets.join(', ')}. Proceed? [Y/n]: \n`)
    throw fail(1, 'Aborted!')
  }
  out('\n')
  const failures = []
  for (const name of targets) {
    const { down: d } = clusterBehaviour(ctx.cfg, name)
    const result = updateLedger(ctx.H, (l) => {
      const c = l.clusters.find((x) => x.name === name)
      if (!c) return { gone: true }
      const key = `${command}:${name}`
      const n = (l.counters.attempts[key] = (l.counters.attempts[key] ?? 0) + 1)
      if (down && (d.fail === true || n <= (d.failTimes ?? 0)) && !o.purge) {
        return { failed: d.failMessage ?? 'Failed to terminate the cluster: the cloud API returned an error.' }
      }
      if (down && (d.ignore === true || n <= (d.ignoreTimes ?? 0))) return { ignored: true }
      const pids = cancelProcessesOf(l, (cl) => cl === name)
      if (down) {
        l.clusters.splice(l.clusters.indexOf(c), 1)
        // The cluster history the cost report reads: its use ends now.
        ;(l.costHistory ??= []).push({ ...c, status: 'TERMINATED', ended_at: nowSec() })
      } else c.status = 'STOPPED'
      return { pids }
    })
    for (const pid of result.pids ?? []) killGroup(pid)
    if (result.failed) {
      failures.push(name)
      out(`${operation} cluster ${name}...failed. \nReason: RuntimeError: ${result.failed}.\n`)
    } else {
      out(`${operation} cluster ${name}...done.\n${down ? '' : `  To restart the cluster, run: sky start ${name}\n`}`)
    }
  }
  if (failures.length) {
    out(
      `Cluster(s) failed. See details above.${down ? ' If you want to ignore the errors and remove the cluster(s) from the status table, use `sky down --purge`.' : ''}\n`
    )
  }
  return 0
}

/**
 * `sky cost-report -o json`: one record per cluster of the history (those up, and those downed
 * within --days), priced as core.cost_report does (list price x nodes x the seconds of its usage
 * intervals, an open interval counting up to now). Prices per hour and node come from the config's
 * `prices` ({ Cloud: usd }); a cloud without one is priced 0, as Slurm and Kubernetes are.
 */
export async function cmdCostReport({ opts: o }) {
  await ensureServer()
  await firstRequest('/cost_report')
  const l = readLedger(ctx.H)
  const now = nowSec()
  const since = now - (o.days ?? 30) * 86400
  const rows = [...l.clusters, ...(l.costHistory ?? []).filter((c) => c.ended_at >= since)]
  const records = rows.map((c) => {
    const end = c.ended_at ?? null
    const start = c.usage_started_at ?? c.launched_at
    const duration = Math.max(0, Math.round((end ?? now) - start))
    const nodes = c.num_nodes ?? 1
    const price = ctx.cfg.prices?.[c.cloud] ?? 0
    // The real record's fields (held by the real-jobs tier: jobs-local.test.ts), in its order.
    return {
      name: c.name,
      // The history's launched_at: when the interval opened (the cluster's own moves on to UP).
      launched_at: Math.round(start),
      duration,
      num_nodes: nodes,
      resources: { infra: `${c.cloud.toLowerCase()}/${c.region}`, cpus: '2+' },
      cluster_hash: c.cluster_hash ?? `fake-${c.name}`,
      usage_intervals: [[Math.round(start), end === null ? null : Math.round(end)]],
      user_hash: userHash(ctx.cfg),
      user_name: c.user_name ?? userName(ctx.cfg),
      workspace: c.workspace ?? 'default',
      last_creation_command: c.last_use ?? null,
      last_creation_yaml: null,
      last_event: null,
      node_names: null,
      priority: null,
      priority_class: null,
      total_cost: (price * nodes * duration) / 3600,
      cloud: c.cloud,
      region: c.region,
      cpus: '2',
      memory: '4',
      accelerators: null,
      resources_str: c.resources_str,
      resources_str_full: c.resources_str,
      status: c.status === 'TERMINATED' ? 'TERMINATED' : c.status
    }
  })
  if (o.output === 'json') out(`${JSON.stringify(records, null, 2)}\n`)
  else out(`Cost report\n${records.map((r) => `${r.name}  $${r.total_cost.toFixed(2)}`).join('\n')}\n`)
  return 0
}

export async function cmdStart({ args }) {
  await ensureServer()
  for (const name of args.clusters ?? []) {
    updateLedger(ctx.H, (l) => {
      const c = l.clusters.find((x) => x.name === name)
      if (c) c.status = 'UP'
    })
    out(`Cluster ${name} started.\n`)
  }
  return 0
}

export async function cmdAutostop({ opts: o, args }) {
  await ensureServer()
  const l0 = readLedger(ctx.H)
  for (const c of matchNames(l0.clusters, args.clusters)) {
    updateLedger(ctx.H, (l) => {
      const x = l.clusters.find((y) => y.name === c.name)
      if (!x) return
      x.autostop = o.cancel ? -1 : o.idle_minutes ?? 5
      x.to_down = o.cancel ? false : Boolean(o.down)
    })
    out(`Scheduling autostop on cluster '${c.name}'...done\n`)
  }
  return 0
}

export async function cmdCancel({ opts: o, args }) {
  const ids = (args.jobs ?? []).map(Number)
  if (!ids.length && !o.all && !o.all_users) out('No job IDs or --all/--all-users provided; cancelling the latest running job.\n')
  await ensureServer()
  await firstRequest('/cancel')
  // core.cancel raises ClusterDoesNotExist, a ValueError, which the CLI turns into a usage error.
  if (!readLedger(ctx.H).clusters.some((c) => c.name === args.cluster)) throw usage('cancel', `Cluster '${args.cluster}' does not exist.`)
  if (o.all || o.all_users) out(msg.cancellingAll(args.cluster))
  else if (ids.length) out(msg.cancellingJobs(ids, args.cluster))
  else out(`\x1b[33mCancelling latest running job on cluster '${args.cluster}'...\x1b[0m\n`)
  const hits = updateLedger(ctx.H, (l) => {
    const mine = l.jobs.filter((j) => j.cluster === args.cluster && !TERMINAL.has(j.status))
    const chosen = o.all || o.all_users ? mine : ids.length ? mine.filter((j) => ids.includes(j.job_id)) : mine.filter((j) => j.status === 'RUNNING').slice(-1)
    for (const j of chosen) {
      j.status = 'CANCELLED'
      j.end_at = Date.now() / 1000
      writeDone(`${j.log}.done`, { status: 'CANCELLED' })
    }
    return chosen
  })
  for (const j of hits) killGroup(j.pid)
  out(msg.cancelledJobs(hits.map((j) => j.job_id)))
  return 0
}

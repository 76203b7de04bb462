// The JSON records the double prints, with the real records' fields, in the real order, and the
// real nullness: fields the CLI does not ask the server for are null (or the model's default).
// Field sets: sky/schemas/api/responses.py (StatusResponse, ClusterJobRecord, ManagedJobRecord),
// sky/server/requests payloads; which are filled: command.py _DEFAULT/_VERBOSE_*_FIELDS_TO_GET.
// test/real/contract.test.ts holds every list here against the real models and the real CLI.
import { TERMINAL, controllerName, userHash, userName } from './common.mjs'
import { ctx } from './context.mjs'

/** `sky status -o json`: StatusResponse minus handle and credentials. */
export function statusRecord(c) {
  const user = c.user_name ?? userName(ctx.cfg)
  return {
    name: c.name,
    launched_at: c.launched_at,
    last_use: c.last_use ?? `sky launch -c ${c.name}`,
    status: c.status,
    autostop: c.autostop,
    to_down: c.to_down,
    owner: null,
    metadata: {},
    cluster_hash: c.cluster_hash ?? `fake-${c.name}`,
    cluster_ever_up: c.status !== 'INIT' || Boolean(c.ever_up),
    status_updated_at: c.launched_at,
    user_hash: userHash(ctx.cfg),
    user_name: user,
    config_hash: null,
    workspace: c.workspace ?? 'default',
    last_creation_yaml: null,
    last_creation_command: c.last_use ?? null,
    is_managed: false,
    last_event: null,
    launch_status_reason: null,
    resources_str: c.resources_str,
    resources_str_full: c.resources_str,
    nodes: c.num_nodes ?? 1,
    cloud: c.cloud ?? null,
    region: c.region ?? null,
    cpus: c.cpus ?? null,
    memory: c.memory ?? null,
    accelerators: c.accelerators ?? null,
    labels: null,
    cluster_name_on_cloud: `${c.name}-${userHash(ctx.cfg).slice(0, 4)}`,
    node_names: null,
    priority: null,
    priority_class: null,
    links: null
  }
}

/** The jobs controller as `sky status` lists it, once it is up (no consolidation mode). */
export function controllerRecord(controller) {
  return statusRecord({
    name: controllerName(ctx.cfg),
    launched_at: controller.launched_at,
    status: 'UP',
    autostop: 10,
    to_down: false,
    resources_str: '1x Kubernetes(cpus=4+)',
    cloud: 'Kubernetes',
    region: 'in-cluster',
    last_use: 'sky jobs launch'
  })
}

/** `sky queue NAME -o json`: ClusterJobRecord. An unnamed job is '-' (job_lib.add_job). */
export function clusterJobRecord(j) {
  return {
    job_id: j.job_id,
    job_name: j.job_name ?? '-',
    username: j.user_name ?? userName(ctx.cfg),
    user_hash: userHash(ctx.cfg),
    submitted_at: j.submitted_at,
    start_at: j.start_at,
    end_at: j.end_at,
    resources: j.resources ?? '1x[CPU:2+]',
    status: j.status,
    log_path: j.log,
    metadata: j.metadata ?? {}
  }
}

/**
 * `sky jobs queue -o json`: one ManagedJobRecord per task. Without -v the CLI asks only for the
 * default fields (no failure_reason, no start_at, no infra); without -u no user_name.
 */
export function managedJobRecord(j, { verbose = false, allUsers = false } = {}) {
  const v = (x) => (verbose ? x : null)
  const failed = j.failure_reason != null
  const ran = j.start_at != null
  return {
    task_job_id: null,
    job_id: j.job_id,
    task_id: j.task_id ?? 0,
    job_name: j.job_name,
    task_name: j.task_name ?? j.job_name,
    job_duration: j.job_duration ?? 0,
    workspace: 'default',
    status: j.status,
    schedule_state: v(TERMINAL.has(j.status) ? 'DONE' : j.status === 'PENDING' ? 'WAITING' : 'ALIVE'),
    resources: j.resources ?? '1x[CPU:2+]',
    cluster_resources: v(ran ? j.resources ?? '1x[CPU:2+]' : '-'),
    cluster_resources_full: v(ran ? j.resources ?? '1x[CPU:2+]' : '-'),
    cloud: v(ran ? j.cloud ?? 'Kubernetes' : '-'),
    region: v(ran ? j.region ?? 'in-cluster' : '-'),
    zone: v('-'),
    infra: v(ran ? `${j.cloud ?? 'Kubernetes'} (${j.region ?? 'in-cluster'})` : '-'),
    recovery_count: j.recovery_count ?? 0,
    details: v(failed ? `Failure: ${j.failure_reason}` : null),
    failure_reason: v(j.failure_reason ?? null),
    user_name: allUsers ? j.user_name ?? userName(ctx.cfg) : null,
    user_hash: allUsers && verbose ? userHash(ctx.cfg) : null,
    submitted_at: j.submitted_at,
    start_at: v(j.start_at ?? null),
    end_at: j.end_at,
    user_yaml: null,
    entrypoint: null,
    metadata: v(j.metadata ?? {}),
    controller_pid: null,
    controller_pid_started_at: null,
    dag_yaml_path: null,
    env_file_path: null,
    last_recovered_at: -1,
    run_timestamp: null,
    priority: v(0),
    priority_class: null,
    original_user_yaml_path: null,
    pool: null,
    pool_hash: null,
    current_cluster_name: null,
    cluster_name_on_cloud: null,
    job_id_on_pool_cluster: null,
    accelerators: null,
    labels: null,
    links: null,
    node_names: null,
    execution: null,
    is_job_group: false,
    is_primary_in_job_group: null,
    is_batch: null,
    batch_total_batches: null,
    batch_completed_batches: null,
    internal_external_ips: null,
    internal_services: null
  }
}

// SkyPilot's own long-running requests, listed by `sky api status` as user skypilot-system.
const DAEMONS = [
  ['skypilot-status-refresh-daemon', 'sky.status-refresh'],
  ['skypilot-volume-status-refresh-daemon', 'sky.volume-refresh'],
  ['managed-job-status-refresh-daemon', 'sky.managed-job-status-refresh', 'consolidation'],
  ['pool-status-refresh-daemon', 'sky.pool-status-refresh', 'consolidation'],
  ['expired-token-cleanup-daemon', 'sky.expired-token-cleanup']
]

export function daemonRequests(since, consolidation) {
  return DAEMONS.filter(([, , only]) => !only || consolidation).map(([request_id, name], i) => ({
    request_id,
    name,
    status: 'RUNNING',
    created_at: since + i / 100,
    finished_at: null,
    user_name: 'skypilot-system',
    user_id: 'skypilot-system',
    cluster_name: null,
    daemon: true
  }))
}

/**
 * `sky api status -o json`: a request record. The CLI asks for the default fields (id, name,
 * user, status, created_at; cluster_name with -v) unless it names request ids, when it gets all.
 */
export function requestRecord(r, { verbose = false, full = false } = {}) {
  const all = full && !r.daemon
  return {
    request_id: r.request_id,
    name: r.name,
    entrypoint: all ? r.name.replace(/^sky\./, '') : '',
    request_body: all ? JSON.stringify({ cluster_name: r.cluster_name ?? null }) : 'null',
    status: r.status,
    created_at: r.created_at,
    user_id: r.user_id ?? userHash(ctx.cfg),
    return_value: 'null',
    error: 'null',
    pid: null,
    schedule_type: all && /launch|exec/.test(r.name) ? 'long' : 'short',
    user_name: r.user_name ?? userName(ctx.cfg),
    cluster_name: verbose || all ? r.cluster_name ?? null : null,
    status_msg: null,
    should_retry: false,
    finished_at: all ? r.finished_at ?? null : null,
    file_mounts_blob_id: null
  }
}

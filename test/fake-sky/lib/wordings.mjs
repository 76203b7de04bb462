// Every sentence the double prints that the real SkyPilot prints too, in one place, with the
// colour codes the real one leaves in a pipe. Each is marked with where it was confirmed:
// [live] seen from the real CLI and servers (test/real/contract.test.ts holds it there),
// [src] read in SkyPilot's source (file named), for what no cloud-less machine can show.
import { BOLD, INDENT, INDENT_LAST, RESET, bold, cyan, finishing, starting, yellow } from './ansi.mjs'

const tree = (lines) => lines.map((l, i) => `${i === lines.length - 1 ? '└── ' : '├── '}${l}`).join('\n')

export const msg = {
  // [live] command.py _make_task_or_dag_from_entrypoint_with_overrides / sdk.launch (click: plain).
  yamlToRun: (entry) => `YAML to run: ${entry}\n`,
  commandToRun: (cmd) => `Command to run: ${cmd}\n`,
  runningOnCluster: (cluster) => `Running on cluster: ${cluster}\n`,
  submittingTo: (cluster) => `Submitting job to cluster: ${cluster}\n`,

  // [live] sky/exceptions.py NoCloudAccessError as the CLI prints it (no traceback).
  noCloud: `sky.exceptions.NoCloudAccessError: Cloud access is not set up. Run: ${bold('sky check')}`,
  // [live] the same text as a managed job's failure_reason / details.
  noCloudReason: `[sky.exceptions.NoCloudAccessError] Cloud access is not set up. Run: ${bold('sky check')}`,

  // [live] command.py _async_call_or_wait, --async (click: colours stripped).
  submitted(requestName, requestId, serverUrl) {
    const s = requestId.slice(0, 8)
    return (
      `Submitted ${requestName} request: ${requestId}\n` +
      `${tree([`Check logs with: sky api logs ${s}`, `Or, visit: ${serverUrl}/api/stream?request_id=${s}`, `To cancel the request, run: sky api cancel ${s}`])}\n\n`
    )
  },
  // [transcript; src sky_logging.NewLineFormatter] the Ctrl-C hint goes through the client's
  // logger: dim/bold codes stay, and the logger turns the newlines inside one message into \r\n.
  asyncHint(requestId, serverUrl) {
    const s = requestId.slice(0, 8)
    const DIM = '\x1b[2m'
    return (
      `${starting('Request will continue running asynchronously.')}\r\n` +
      `${INDENT}${DIM}View logs: ${BOLD}sky api logs ${s}${RESET}\r\n` +
      `${INDENT}${DIM}Or, visit: ${serverUrl}/api/stream?request_id=${s}\r\n` +
      `${INDENT_LAST}${DIM}To cancel the request, run: ${BOLD}sky api cancel ${s}${RESET}\r\n` +
      `${RESET}\n`
    )
  },

  // [live] sky/exceptions.py; the URL is the endpoint as given, credentials included.
  connection(url) {
    const one = `sky.exceptions.ApiServerConnectionError: Could not connect to SkyPilot API server at ${url}. Please ensure that the server is running. Try: curl ${url}/api/health`
    return `${one}\n\nThe above exception was the direct cause of the following exception:\n\n${one}`
  },
  auth(url) {
    return `sky.exceptions.ApiServerAuthenticationError: Authentication required for SkyPilot API server at ${url}. Please run:\n  sky api login -e ${url}`
  },
  // [live] a request the server refused (basic auth wrong or missing): an uncaught HTTPError.
  httpError(status, url) {
    return (
      'Traceback (most recent call last):\n' +
      '  File "/usr/local/bin/sky", line 16, in <module>\n' +
      '    sys.exit(cli())\n' +
      '  (frames of the fake omitted)\n' +
      `requests.exceptions.HTTPError: ${status} Client Error: Unauthorized for url: ${url}`
    )
  },
  // [live, through a fake server that drops the stream] the client retries a dropped log stream
  // (rest.retry_transient_errors, 3 tries) and, with the server still gone, dies on this.
  streamDropped(host, port, pathAndQuery) {
    return (
      'Traceback (most recent call last):\n' +
      '  (frames of the fake omitted)\n' +
      `ConnectionRefusedError: [Errno 111] Connection refused\n\n` +
      'During handling of the above exception, another exception occurred:\n\n' +
      'Traceback (most recent call last):\n' +
      '  File "/usr/local/bin/sky", line 16, in <module>\n' +
      '    sys.exit(cli())\n' +
      '  (frames of the fake omitted)\n' +
      `requests.exceptions.ConnectionError: HTTPConnectionPool(host='${host}', port=${port}): Max retries exceeded with url: ${pathAndQuery} ` +
      `(Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f0000000000>: Failed to establish a new connection: [Errno 111] Connection refused'))`
    )
  },
  installCommand(version) {
    return version.includes('dev') ? `pip install -U "skypilot-nightly==${version}"` : `pip install -U "skypilot==${version}"`
  },
  // [src] sky/server/versions.py CLIENT_TOO_OLD_ERROR (sic: no space after the colon).
  clientTooOld({ clientVersion, serverVersion, minVersion }) {
    return (
      `Your SkyPilot client version is too old:${clientVersion}\n` +
      `The server is running on ${serverVersion} and the minimum compatible version is ${minVersion}.\n` +
      `Upgrade your client with:\n${msg.installCommand(serverVersion)}`
    )
  },
  serverTooOld({ clientVersion, serverVersion, minVersion }) {
    return (
      `Your SkyPilot API server version is too old: ${serverVersion}\n` +
      `The client is running on ${clientVersion} and the minimum compatible version is ${minVersion}.\n` +
      'Contact your administrator to upgrade the remote API server or downgrade your client with:\n' +
      `${msg.installCommand(serverVersion)}`
    )
  },
  invalidClusterName(name) {
    return (
      `sky.exceptions.InvalidClusterNameError: Cluster name '${name}' is invalid; ensure it is fully ` +
      'matched by regex (e.g., only contains letters, numbers and dash): [a-zA-Z]([-_.a-zA-Z0-9]*[a-zA-Z0-9])?'
    )
  },
  nullEnv(key) {
    return (
      `ValueError: Environment variable '${key}' is None. Please set a value for it in task YAML or with ` +
      `--env flag. To set it to be empty, use an empty string (${key}: "" in task YAML or --env ${key}="" in CLI).`
    )
  },
  nullSecret(key) {
    return (
      `ValueError: Secret variable '${key}' is None. Please set a value for it in task YAML or with ` +
      `--secret flag. To set it to be empty, use an empty string (${key}: "" in task YAML or --secret ${key}="" in CLI).`
    )
  },
  noResources:
    'sky.exceptions.ResourcesUnavailableError: Failed to provision all possible launchable resources. ' +
    "Relax the task's resource requirements: 1x Kubernetes()\nTo keep retrying until the cluster is up, use the `--retry-until-up` flag.",

  // [live] clusters. The "not found" line comes from the server's logger (bold name kept).
  clustersNotFound: (names) => `Cluster(s) not found: ${bold(names.join(', '))}.\n`,
  downNothing: 'Cluster(s) not found (tip: see `sky status`).\n',
  // [live] exit 1, the message itself yellow.
  clusterDoesNotExist: (name) => `sky.exceptions.ClusterDoesNotExist: ${yellow(`Cluster '${name}' does not exist.`)}`,
  // [live] sky queue NAME -o json of a missing cluster: the failure is printed, `{}` and exit 0.
  queueFetching: (names) => `Fetching job queue for: ${names.join(', ')}\n`,
  queueFailed: (name) => `Failed to get the job queue for cluster '${name}'.\n  sky.exceptions.ClusterDoesNotExist: Cluster '${name}' does not exist.\n`,
  // [live] sky logs: the logger line, and click's stderr hint when --tail is not given while following.
  tailing: (jobId, cluster) => `${yellow(`Tailing logs of ${jobId == null ? 'the last job' : `job ${jobId}`} on cluster '${cluster}'...`)}\n`,
  tailHint: 'Showing the last 1000 lines (default). Pass --tail 0 to print the entire log.\n',
  // [src] skylet/log_lib.py tail_logs, for a job id the cluster does not know (stderr).
  jobNotFoundOnCluster: (jobId) => `Job ${jobId} not found (see \`sky queue\`).\n`,
  // [src] command.py logs --status.
  jobStatusLine: (jobId, status) => `Job ${jobId}: ${status ?? 'None'}\n`,
  noJobOnCluster: (cluster) => `No job found on cluster '${cluster}'.\n`,
  // [src] task_codegen.py: the first lines of every cluster job's log; log_lib: the last one.
  waitingForResources: (nodes) => `${INDENT}\x1b[2mWaiting for task resources on ${nodes} node${nodes > 1 ? 's' : ''}.${RESET}\n`,
  jobStarted: `${INDENT_LAST}Job started. Streaming logs... \x1b[2m(Ctrl-C to exit log streaming; job will not be killed)${RESET}\n`,
  jobFinished: (status) => `${finishing(`Job finished (status: ${status}).`)}\n`,
  // [live, Slurm] `sky logs --status` of an existing cluster says what it does first (yellow).
  gettingJobStatus: '\x1b[33mGetting job status...\x1b[0m\n',
  // [live, Slurm] the node-side commands of a cluster whose allocation was ended outside SkyPilot
  // (scancel): the runtime's command fails, the CLI says so (exit 1); `sky queue` reports it and goes on.
  allocationExpired: (id) => `sky.exceptions.CommandError: Command source \${SKY_RUNTIME_DIR:-$HOME}/skypilot-runtime/bin/activate; env -u PYTHONPATH -C $HOME $([ -s \${... failed with return code 1.\n\x1b[31mFailed to get job status.\x1b[0m\nsrun: error: Slurm job ${id} has expired\n`,
  queueFailedAllocation: (cluster, id) => `srun: error: Slurm job ${id} has expired\n\nFailed to get the job queue for cluster '${cluster}'.\n  sky.exceptions.CommandError: Command source \${SKY_RUNTIME_DIR:-$HOME}/skypilot-runtime/bin/activate; env -u PYTHONPATH -C $HOME $([ -s \${... failed with return code 1.\nFailed to get job queue on cluster ${cluster}.\nsrun: error: Slurm job ${id} has expired\n\n`,
  // [live, Slurm] the job driver's own lines when a command fails (task_codegen.py / executor):
  // red, after the job's last line, before the tail's `Job finished`.
  runFailed: (jobId, code) => `ERROR: \x1b[31mJob ${jobId} failed with return code list:\x1b[0m [${code}] \n`,
  setupFailed: (jobId, code, pid) => `ERROR: \x1b[31mJob ${jobId}'s setup failed with return code ${code} (pid=${pid}). See error logs above for more details.\x1b[0m\n`,
  jobSubmitted: (id) => `${starting(`Job submitted, ID: ${id}`)}\n`,
  // [src] cloud_vm_ray_backend.py cancel_jobs, core.py cancel.
  cancellingJobs: (ids, cluster) => `${yellow(`Cancelling jobs (${ids.join(', ')}) on cluster '${cluster}'...`)}\n`,
  cancellingAll: (cluster) => `${yellow(`Cancelling all your jobs on cluster '${cluster}'...`)}\n`,
  cancelledJobs: (ids) => (ids.length ? `Cancelled job ID(s): ${ids.join(', ')}\n` : 'No jobs cancelled. They may be in terminal states.\n'),
  // [src] ux_utils.command_hint_messages CLUSTER_JOB (click: plain).
  clusterHints(jobId, cluster, dashboard) {
    const job = jobId == null ? '' : `\nJob ID: ${jobId}\n${tree([`To cancel the job:\t\tsky cancel ${cluster} ${jobId}`, `To stream job logs:\t\tsky logs ${cluster} ${jobId}`, `To view job queue:\t\tsky queue ${cluster}`])}`
    const lines = [...(dashboard ? [`View on dashboard:\t\t${dashboard}`] : []), `To log into the head VM:\tssh ${cluster}`, `To submit a job:\t\tsky exec ${cluster} yaml_file`, `To stop the cluster:\tsky stop ${cluster}`, `To teardown the cluster:\tsky down ${cluster}`]
    return `\n📋 Useful Commands${job}\nCluster name: ${cluster}\n${tree(lines)}\n`
  },
  runNotSpecified: 'Run commands not specified or empty.\n',

  // Managed jobs.
  // [live / src] jobs/server/core.py: the controller bring-up and the launch line (logger: yellow).
  ensuringController: (controller) => `${yellow(`Ensuring the jobs controller ${controller} is up before continuing job launch...`)}\n`,
  choosingControllerResources: 'Choosing resources for managed jobs controller...\n',
  launchingManaged: (name, consolidation) => `${yellow(`Launching managed job '${name}'${consolidation ? '' : ' from jobs controller'}...`)}\n`,
  // [live] jobs/utils.py: printed when the followed job ends, before the hint block.
  managedFinished: (id, status) => `${finishing(`Managed job finished: ${id} (status: ${status}).`)}\n`,
  // [live] ux_utils.command_hint_messages MANAGED_JOB (click: plain); the dashboard line only when
  // the endpoint is not the default local server.
  managedHints(id, dashboard) {
    const lines = [...(dashboard ? [`View on dashboard:\t\t${dashboard}`] : []), `To cancel the job:\t\tsky jobs cancel ${id}`, `To stream job logs:\t\tsky jobs logs ${id}`, `To stream controller logs:\tsky jobs logs --controller ${id}`, 'To view all managed jobs:\tsky jobs queue']
    return `\n📋 Useful Commands\nManaged Job ID: ${id}\n${tree(lines)}\n`
  },
  // [live] no jobs controller (no managed job ever, without consolidation mode): exit 1.
  noController: 'sky.exceptions.ClusterNotUpError: No in-progress managed jobs.',
  // [live] jobs/utils.py stream_logs_by_id.
  managedNotFound: (id) => `Job ${id} not found.\n`,
  managedTerminal: (id, status, reason) =>
    `${yellow(`Job ${id} is already in terminal state ${status}. For more details, run: sky jobs logs --controller ${id}`)}${reason ? `\nFailure reason: ${reason}` : ''}\n`,
  managedTasksHint: (id, n) => `${cyan(`Hint: This job has ${n} tasks. Use 'sky jobs logs ${id} TASK' to view logs for a specific task (TASK can be task ID or name).`)}\n`,
  // [live / src] jobs/utils.py cancel_jobs_by_id / cancel_job_by_name.
  cancelSkippedMissing: (id) => `Job ${id} not found. Skipped.\n`,
  cancelSkippedTerminal: (id, status) => `Job ${id} is already in terminal state ${status}. Skipped.\n`,
  noJobToCancel: 'No job to cancel.\n',
  noRunningJobNamed: (name) => `No running job found with name '${name}'.\n`,
  scheduledToCancel: (ids) => `${ids.length > 1 ? `Jobs with IDs ${ids.join(', ')} are` : `Job with ID ${ids[0]} is`} scheduled to be cancelled.\n`,
  multipleRunningNamed: (name, ids) => `\x1b[31mMultiple running jobs found with name '${name}'.\nJob IDs: [${ids.join(', ')}]${RESET}\n`,

  // API requests. [live] sdk.api_cancel echoes what it cancels; [src] command.py api_cancel the result.
  cancellingRequests: (ids) => `Cancelling ${ids.length} request${ids.length > 1 ? 's' : ''}: ${ids.map((i) => `'${i}'`).join(', ')}...\n`,
  noRequestsToCancel: 'No requests need to be cancelled.\n',
  cancelledRequests: (ids) => (ids.length === 1 ? `Cancelled 1 request: ${ids[0]}\n` : `Cancelled ${ids.length} requests.\n`)
}

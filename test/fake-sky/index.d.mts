import type { ChildProcessByStdio } from 'node:child_process'
import type { Readable } from 'node:stream'

export interface FakeCluster {
  name: string
  status: 'INIT' | 'UP' | 'STOPPED'
  autostop: number
  to_down: boolean
  launched_at: number
  cloud: string
  region: string
  zone: string | null
  resources_str: string
  num_nodes: number
  user_name: string
  workspace: string
  next_job_id: number
}

export interface FakeJob {
  cluster: string
  job_id: number
  job_name: string | null
  status: string
  submitted_at: number
  start_at: number | null
  end_at: number | null
  pid: number
  request_id: string
  log: string
}

export interface FakeManagedJob {
  job_id: number
  task_id: number
  job_name: string
  task_name?: string
  status: string
  recovery_count: number
  job_duration: number
  failure_reason: string | null
  submitted_at: number
  start_at: number | null
  end_at: number | null
  user_name: string
  pid: number
  request_id: string
  log: string
}

export interface FakeRequest {
  request_id: string
  name: string
  cluster_name: string | null
  status: 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED'
  created_at: number
  finished_at: number | null
  user_name: string
  pid: number | null
  log: string
  error?: string
  job_id?: number
}

export interface FakeLedger {
  clusters: FakeCluster[]
  jobs: FakeJob[]
  /** One row per task of a managed job (a pipeline has several rows of one job_id). */
  managedJobs: FakeManagedJob[]
  requests: FakeRequest[]
  /** The jobs controller cluster, once up (without consolidation mode). */
  jobsController: { launched_at: number } | null
}

export interface FakeCall {
  argv: string[]
  pid: number
  start: number
  end: number
  exit: number
}

export interface LaunchBehaviour {
  failTimes?: number
  fail?: boolean
  failMessage?: string
  leaveInit?: boolean
  hang?: boolean
  provisionMs?: number
  /** The log tail of `sky launch` / `sky exec` drops this long after it starts: exit 1, the job goes on. */
  dropStreamAfterMs?: number
  /**
   * The cluster's allocation is ended outside SkyPilot this long after the run starts (scancel): the
   * job dies without a final status, the tail exits 143, node-side commands fail with CommandError.
   */
  allocationEndsAfterMs?: number
}

export interface DownBehaviour {
  ignore?: boolean
  ignoreTimes?: number
  fail?: boolean
  failTimes?: number
  failMessage?: string
}

export interface FakeSkyConfig {
  version?: string
  userName?: string
  callDelayMs?: number
  launch?: LaunchBehaviour
  down?: DownBehaviour
  clusters?: Record<string, LaunchBehaviour & { launch?: LaunchBehaviour; down?: DownBehaviour }>
  managed?: {
    /** The server runs the jobs controller next to itself (no `Job submitted` line). Default false. */
    consolidation?: boolean
    /** Without consolidation: 'up' when the jobs controller exists before the first managed job. */
    controller?: 'up' | 'absent'
    /** Cluster jobs the jobs controller ran before the first managed job (default 10): `Job submitted, ID` starts above it. */
    controllerJobsBefore?: number
    preemptTimes?: number
    preemptAfterMs?: number
    failNoResource?: boolean
    failMessage?: string
    provisionMs?: number
    /** The follow of `sky jobs launch` drops this long after it starts: exit 1, the job goes on. */
    dropStreamAfterMs?: number
    /** The controller records the job's end this long after its log ended: the follow ends on RUNNING (exit 101). */
    recordLagMs?: number
    /** The `sky.jobs.launch` request works this long before the jobs queue lists the job; `sky api cancel` meanwhile creates none. */
    submitMs?: number
    /** The status a job cancelled while running ends with (default CANCELLED; FAILED_CONTROLLER as on the grpc-less real-sky chroot). */
    cancelEndsAs?: string
  }
  /** `sky logs` / `sky jobs logs` (following) drop this long after they start. */
  logs?: { dropStreamAfterMs?: number; /** `sky logs` (following) shows its first line this long after it starts. */ startMs?: number }
  /** Enabled clouds; [] is no cloud at all: launches fail with NoCloudAccessError. */
  check?: { enabled?: string[] | Record<string, string[]> }
  server?: { version?: string; localUnreachable?: boolean }
  job?: { inheritEnv?: boolean }
  /** List price per node and hour, per cloud as SkyPilot names it (`AWS`); none: 0, as on Slurm and Kubernetes. `sky cost-report` prices with it. */
  prices?: Record<string, number>
}

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface RunOptions {
  cwd?: string
  env?: Record<string, string | undefined>
  timeoutMs?: number
}

export interface FakeSky {
  home: string
  binDir: string
  env: Record<string, string | undefined>
  ledger(): FakeLedger
  calls(): FakeCall[]
  writeConfig(patch: FakeSkyConfig): void
  run(args: string[], opts?: RunOptions): Promise<RunResult>
  spawn(args: string[], opts?: RunOptions): ChildProcessByStdio<null, Readable, Readable>
  waitFor<T>(predicate: (ledger: FakeLedger) => T, opts?: { timeoutMs?: number; intervalMs?: number }): Promise<T>
  /** Ends the allocation of the cluster's RUNNING job now, outside SkyPilot (see `launch.allocationEndsAfterMs`). */
  endAllocation(cluster: string): void
  cleanup(): void
}

export const FAKE_SKY_BIN_DIR: string
export function createFakeSky(options?: { config?: FakeSkyConfig; home?: string }): FakeSky

export interface FakeServer {
  url: string
  port: number
  requests: Array<{ method: string; url: string; authorization: string | null; headers: Record<string, unknown>; time: number }>
  close(): Promise<void>
}
export function startFakeServer(options?: {
  version?: string
  token?: string | null
  port?: number
  host?: string
  basicAuth?: { user: string; pass: string } | null
  user?: { name: string; id: string }
  apiVersion?: number
  /** Behind an auth proxy: an anonymous health check gets only {status: 'healthy'} (or needs_auth from a client). */
  authProxy?: boolean
}): Promise<FakeServer>

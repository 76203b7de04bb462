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
  managedJobs: FakeManagedJob[]
  requests: FakeRequest[]
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
    preemptTimes?: number
    preemptAfterMs?: number
    failNoResource?: boolean
    failMessage?: string
    provisionMs?: number
  }
  check?: { enabled?: string[] | Record<string, string[]> }
  server?: { version?: string; localUnreachable?: boolean }
  job?: { inheritEnv?: boolean }
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
}): Promise<FakeServer>

import * as core from '@actions/core'
import { runCaptured, runStreaming, type Captured, type StreamOptions, type Streaming } from '../process.js'
import * as args from './args.js'
import { findManagedJob, findManagedJobByName, parseJobsQueue, parseQueue, parseStatus, stripAnsi, type ClusterJobRecord, type ClusterRecord, type ManagedJob, type ManagedJobRecord } from './parse.js'

/**
 * The one door to the `sky` executable: argument arrays from ./args.ts, the env that carries the
 * server endpoint, token and secrets, and readers for its JSON. Counts its calls (each real one
 * costs about a second of Python start-up and a server round trip).
 */
export class Sky {
  calls = 0

  constructor(
    readonly path: string,
    private readonly env: NodeJS.ProcessEnv
  ) {}

  async run(argv: string[], timeoutMs = 10 * 60_000): Promise<Captured> {
    this.calls++
    core.debug(`sky ${argv.join(' ')}`)
    return runCaptured(this.path, argv, { env: this.env, timeoutMs })
  }

  stream(argv: string[], options: Omit<StreamOptions, 'env'> & { extraEnv?: Record<string, string> } = {}): Streaming {
    this.calls++
    const env = options.extraEnv ? { ...this.env, ...options.extraEnv } : this.env
    return runStreaming(this.path, argv, { ...options, env })
  }

  async status(clusters: string[]): Promise<ClusterRecord[]> {
    const result = await this.run(args.statusArgs(clusters), 5 * 60_000)
    if (result.code !== 0) throw new Error(`sky status failed (exit ${result.code}): ${lastLines(result.stderr)}`)
    return parseStatus(result.stdout)
  }

  /** `sky down` exits 0 whatever happened: what it printed says which clusters it did not find. */
  async down(clusters: string[]): Promise<Captured & { notFound: string[] }> {
    const result = await this.run(args.downArgs(clusters), 20 * 60_000)
    const text = stripAnsi(result.stdout + result.stderr)
    // "Cluster(s) not found: a, b." (then the tip line "Cluster(s) not found (tip: ...)").
    const listed = /Cluster\(s\) not found: (.+?)\.?$/m.exec(text)?.[1]
    const notFound = listed ? listed.split(/,\s*/).map((n) => n.trim()).filter((n) => clusters.includes(n)) : []
    return { ...result, notFound }
  }

  async queue(cluster: string): Promise<ClusterJobRecord[]> {
    const result = await this.run(args.queueArgs(cluster), 5 * 60_000)
    if (result.code !== 0) throw new Error(`sky queue failed (exit ${result.code}): ${lastLines(result.stderr)}`)
    return parseQueue(result.stdout, cluster)
  }

  /** Every managed job's task rows; none at all when the server has no jobs controller yet. */
  async jobsQueue(): Promise<ManagedJobRecord[]> {
    const result = await this.run(args.jobsQueueArgs(), 5 * 60_000)
    if (result.code !== 0) {
      // Without consolidation mode, no jobs controller exists until the first managed job: sky says
      // "ClusterNotUpError: No in-progress managed jobs." and exits 1. That is an empty queue.
      if (/ClusterNotUpError/.test(result.stderr) && /No in-progress managed jobs/.test(stripAnsi(result.stderr))) return []
      throw new Error(`sky jobs queue failed (exit ${result.code}): ${lastLines(stripAnsi(result.stderr))}`)
    }
    return parseJobsQueue(result.stdout)
  }

  /** One managed job (all its tasks folded), or undefined when the queue does not hold it. */
  async managedJob(jobId: string): Promise<ManagedJob | undefined> {
    return findManagedJob(await this.jobsQueue(), jobId)
  }

  /** The newest managed job of this name submitted since `since` (epoch seconds). */
  async managedJobByName(name: string, since?: number): Promise<ManagedJob | undefined> {
    return findManagedJobByName(await this.jobsQueue(), name, since)
  }

  async jobsCancel(jobIds: string[]): Promise<Captured> {
    return this.run(args.jobsCancelArgs(jobIds), 5 * 60_000)
  }

  async jobsCancelByName(name: string, timeoutMs = 5 * 60_000): Promise<Captured> {
    return this.run(args.jobsCancelByNameArgs(name), timeoutMs)
  }

  /** A cluster job's status: `sky logs --status` prints `Job N: STATUS` and exits with its class. */
  async jobStatus(cluster: string, jobId: string): Promise<{ code: number | null; status?: string; output: string }> {
    const result = await this.run(args.logsStatusArgs(cluster, jobId), 5 * 60_000)
    const text = stripAnsi(result.stdout)
    return { code: result.code, status: /Job \d+: ([A-Z_]+)/.exec(text)?.[1], output: lastLines(stripAnsi(result.stdout + result.stderr)) }
  }

  async cancelJob(cluster: string, jobId: string, timeoutMs: number): Promise<Captured> {
    return this.run(args.cancelArgs(cluster, jobId), timeoutMs)
  }

  /** Server requests of this user still running for a cluster (a launch whose client went away). */
  async runningRequests(cluster: string): Promise<{ id: string; name: string }[]> {
    const result = await this.run(args.apiStatusArgs(), 2 * 60_000)
    if (result.code !== 0) throw new Error(`sky api status failed (exit ${result.code}): ${lastLines(stripAnsi(result.stderr))}`)
    const start = result.stdout.search(/^\[/m)
    const rows = start < 0 ? [] : (JSON.parse(result.stdout.slice(start)) as { request_id?: string; name?: string; status?: string; cluster_name?: string | null }[])
    return rows
      .filter((r) => r.cluster_name === cluster && (r.status === 'RUNNING' || r.status === 'PENDING'))
      .map((r) => ({ id: String(r.request_id), name: String(r.name) }))
  }

  /** `sky api cancel`: exit 0 whether or not there was anything to cancel; its words say which. */
  async apiCancel(requestId: string, timeoutMs: number): Promise<Captured & { answer: 'cancelled' | 'finished' | 'failed' }> {
    const result = await this.run(args.apiCancelArgs(requestId), timeoutMs)
    const text = stripAnsi(result.stdout)
    const answer = result.code !== 0 ? 'failed' : /No requests need to be cancelled/.test(text) ? 'finished' : /Cancelled \d+ request/.test(text) ? 'cancelled' : 'failed'
    return { ...result, answer }
  }
}

export function lastLines(text: string, count = 3): string {
  return stripAnsi(text).trim().split('\n').slice(-count).join(' ').trim() || '(no output)'
}

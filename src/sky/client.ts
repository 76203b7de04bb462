import * as core from '../gh/core.js'
import { runCaptured, runStreaming, type Captured, type StreamOptions, type Streaming } from '../process.js'
import * as args from './args.js'
import { parseJobsQueue, parseQueue, parseStatus, type ClusterJobRecord, type ClusterRecord, type ManagedJobRecord } from './parse.js'

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

  async down(clusters: string[]): Promise<Captured> {
    return this.run(args.downArgs(clusters), 20 * 60_000)
  }

  async queue(cluster: string): Promise<ClusterJobRecord[]> {
    const result = await this.run(args.queueArgs(cluster), 5 * 60_000)
    if (result.code !== 0) throw new Error(`sky queue failed (exit ${result.code}): ${lastLines(result.stderr)}`)
    return parseQueue(result.stdout, cluster)
  }

  async jobsQueue(): Promise<ManagedJobRecord[]> {
    const result = await this.run(args.jobsQueueArgs(), 5 * 60_000)
    if (result.code !== 0) throw new Error(`sky jobs queue failed (exit ${result.code}): ${lastLines(result.stderr)}`)
    return parseJobsQueue(result.stdout)
  }

  /** One managed job's record, or undefined when the queue does not hold it. */
  async managedJob(jobId: string): Promise<ManagedJobRecord | undefined> {
    return (await this.jobsQueue()).find((j) => String(j.job_id) === jobId)
  }

  async jobsCancel(jobIds: string[]): Promise<Captured> {
    return this.run(args.jobsCancelArgs(jobIds), 5 * 60_000)
  }

  async apiCancel(requestId: string, timeoutMs: number): Promise<Captured> {
    return this.run(args.apiCancelArgs(requestId), timeoutMs)
  }
}

export function lastLines(text: string, count = 3): string {
  return text.trim().split('\n').slice(-count).join(' ').trim() || '(no output)'
}

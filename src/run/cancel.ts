import * as core from '../gh/core.js'
import type { Streaming } from '../process.js'
import { deadline as timeLimit } from '../process.js'
import type { Sky } from '../sky/client.js'

/**
 * A cancelled run: the runner sends SIGINT, then SIGTERM 7.5 s later, then kills the tree 2.5 s
 * after that. Within that window this forwards the interrupt to every `sky` client, lets each
 * print its server-side request id, and cancels those requests (Ctrl-C alone leaves them running).
 * The post step then tears the clusters down.
 */
export class Cancellation {
  cancelled = false
  /** sky clients running now. */
  private readonly active = new Set<Streaming>()
  private readonly managedJobIds = new Set<string>()
  /** Request ids seen in sky's output; kept after its client exits, since the request may not have. */
  private readonly requestIds = new Set<string>()
  private handling?: Promise<void>

  track(stream: Streaming): { setRequestId(id: string): void; done(): void } {
    this.active.add(stream)
    const ids: string[] = []
    return {
      setRequestId: (id) => {
        ids.push(id)
        this.requestIds.add(id)
      },
      done: () => {
        this.active.delete(stream)
        // A client that ended on its own took its request with it. One that ended because the run
        // was cancelled left the request running on the server: cancel() still needs its id.
        if (!this.cancelled) for (const id of ids) this.requestIds.delete(id)
      }
    }
  }

  trackManagedJob(id: string): void {
    this.managedJobIds.add(id)
  }

  /** Installs the signal handlers; returns a function that removes them. */
  install(sky: () => Sky | undefined, deadlineMs = 6500): () => void {
    const handler = (signal: NodeJS.Signals): void => {
      if (this.handling) {
        // A second signal (the runner's SIGTERM 7.5 s after SIGINT): the kill is 2.5 s away. Pass it
        // on to any sky client that ignored the interrupt; the post step tears down regardless.
        core.info(`Received ${signal} while cancelling: stopping what is still running.`)
        for (const stream of this.active) stream.interrupt('SIGTERM')
        return
      }
      core.info(`Received ${signal}: the run is being cancelled. Stopping sky and cancelling its server-side requests; the post step tears the cluster down.`)
      this.handling = this.cancel(sky(), Date.now() + deadlineMs)
    }
    process.on('SIGINT', handler)
    process.on('SIGTERM', handler)
    return () => {
      process.off('SIGINT', handler)
      process.off('SIGTERM', handler)
    }
  }

  /** Resolves once cancellation is handled (or immediately if the run was not cancelled). */
  async settled(): Promise<void> {
    await this.handling
  }

  async cancel(sky: Sky | undefined, deadline: number): Promise<void> {
    this.cancelled = true
    const streams = [...this.active]
    for (const s of streams) s.interrupt('SIGINT')
    // Give each client a moment to exit and print its request id.
    await Promise.race([Promise.all(streams.map((s) => s.done)), timeLimit(Math.max(0, Math.min(2500, deadline - Date.now() - 3000)))])
    if (!sky) return
    const requestIds = [...this.requestIds]
    const jobs = [...this.managedJobIds]
    const timeout = Math.max(500, deadline - Date.now())
    const work: Promise<unknown>[] = requestIds.map(async (id) => {
      const r = await sky.apiCancel(id, timeout)
      core.info(r.code === 0 ? `Cancelled server request ${id}.` : `Could not cancel server request ${id} (exit ${r.code}); the post step tears the cluster down anyway.`)
    })
    if (jobs.length > 0) {
      work.push(
        sky.jobsCancel(jobs).then((r) => core.info(r.code === 0 ? `Cancelled managed job ${jobs.join(', ')}.` : `Could not cancel managed job ${jobs.join(', ')} now (exit ${r.code}); the post step retries.`))
      )
    }
    await Promise.race([Promise.all(work), timeLimit(timeout)])
  }
}

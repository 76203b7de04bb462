import * as core from '@actions/core'
import type { Streaming } from '../process.js'
import { deadline as timeLimit } from '../process.js'
import type { Sky } from '../sky/client.js'
import { lastLines } from '../sky/client.js'

/**
 * A cancelled run: the runner sends SIGINT, then SIGTERM 7.5 s later, then kills the tree 2.5 s
 * after that. Within that window this forwards the interrupt to every `sky` client, lets each
 * print its server-side request id, and stops what Ctrl-C alone leaves running: the server-side
 * requests (`sky api cancel`), the managed jobs (by name: their id is printed only when they end),
 * and jobs on clusters the action leaves running (`sky cancel`). The post step then tears the
 * clusters down and verifies the managed jobs ended. Every line says what SkyPilot answered.
 */
export class Cancellation {
  cancelled = false
  /** sky clients running now. */
  private readonly active = new Set<Streaming>()
  private readonly managedNames = new Set<string>()
  /** Jobs on clusters that outlive the run (down: false, mode: exec): `sky cancel` stops them. */
  private readonly keptJobs = new Map<string, { cluster: string; jobId: string }>()
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

  trackManagedJob(name: string): void {
    this.managedNames.add(name)
  }

  /** A job on a cluster the action keeps: cancelled with the run, since no teardown will stop it. */
  trackKeptJob(cluster: string, jobId: string): void {
    this.keptJobs.set(`${cluster}/${jobId}`, { cluster, jobId })
  }

  /**
   * Installs the signal handlers; returns a function that removes them. The runner sends SIGTERM
   * 7.5 s after its SIGINT and kills 2.5 s later: the cancel calls must be done within 6.5 s.
   * SKYPILOT_ACTION_CANCEL_WINDOW_MS gives more, for tests on a machine where one real `sky` call
   * takes longer than that (the runner's own window cannot be changed).
   */
  install(sky: () => Sky | undefined, deadlineMs = cancelWindowMs()): () => void {
    const handler = (signal: NodeJS.Signals): void => {
      if (this.handling) {
        // A second signal (the runner's SIGTERM 7.5 s after SIGINT): the kill is 2.5 s away. Pass it
        // on to any sky client that ignored the interrupt; the post step tears down regardless.
        core.info(`Received ${signal} while cancelling: stopping what is still running.`)
        for (const stream of this.active) stream.interrupt('SIGTERM')
        return
      }
      core.info(`Received ${signal}: the run is being cancelled. Stopping sky and what it started on the server; the post step tears the cluster down.`)
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
    const timeout = Math.max(500, deadline - Date.now())
    const work: Promise<unknown>[] = [...this.requestIds].map(async (id) => {
      const r = await sky.apiCancel(id, timeout)
      if (r.answer === 'cancelled') core.info(`Server request ${id}: cancelled.`)
      else if (r.answer === 'finished') core.info(`Server request ${id}: the server answered that it had already finished, so there was nothing to cancel there.`)
      else core.info(`Server request ${id}: could not be cancelled (sky exit ${r.code}: ${lastLines(r.stderr || r.stdout, 1)}); the post step tears the cluster down anyway.`)
    })
    for (const name of this.managedNames) {
      work.push(
        sky.jobsCancelByName(name, timeout).then((r) =>
          core.info(`Managed job '${name}': ${r.code === 0 ? lastLines(r.stdout, 1) : `could not be cancelled now (sky exit ${r.code}); the post step tries again`}.`)
        )
      )
    }
    for (const { cluster, jobId } of this.keptJobs.values()) {
      work.push(
        sky.cancelJob(cluster, jobId, timeout).then((r) =>
          core.info(`Job ${jobId} on ${cluster} (left running with the cluster): ${r.code === 0 ? lastLines(r.stdout, 1) : `could not be cancelled (sky exit ${r.code}: ${lastLines(r.stderr, 1)}); stop it with: sky cancel -y ${cluster} ${jobId}`}`)
        )
      )
    }
    await Promise.race([Promise.all(work), timeLimit(timeout)])
  }
}

function cancelWindowMs(): number {
  const ms = Number(process.env.SKYPILOT_ACTION_CANCEL_WINDOW_MS)
  return Number.isFinite(ms) && ms > 0 ? ms : 6500
}

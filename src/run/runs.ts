import { RunLifecycle, type RunRecord, type TaskKind } from '../lifecycle.js'
import type { Plan } from '../plan.js'
import { saveRun, saveRuns } from '../state.js'

/** Server and runner clocks may differ: a managed job of our name this much older than our launch is still ours. */
export const MANAGED_CLOCK_SLACK_S = 300

/**
 * The run record of every task of the step, saved before any launch starts and again on every move
 * of its lifecycle, so that a post step after a kill at any point knows what each task left behind.
 */
export class Runs {
  readonly records: RunRecord[]
  private readonly lifecycles: RunLifecycle[]

  constructor(plan: Plan, now = Date.now()) {
    const since = Math.floor(now / 1000) - MANAGED_CLOCK_SLACK_S
    const keep = new Map(plan.keep.map((k) => [k.cluster, k.why]))
    this.records = plan.tasks.map((t): RunRecord => {
      if (plan.mode === 'managed') {
        const name = t.argv[t.argv.indexOf('-n') + 1]!
        return { task: t.name, kind: plan.detach ? 'detached-managed' : 'managed', managed: { name, since }, phase: 'planned' }
      }
      const why = t.cluster ? keep.get(t.cluster) : undefined
      const kind: TaskKind = plan.detach && plan.down ? 'detached-cluster' : why !== undefined ? 'kept-cluster' : 'cluster'
      return { task: t.name, kind, cluster: t.cluster, phase: 'planned', ...(why !== undefined ? { why } : {}) }
    })
    this.lifecycles = this.records.map((r, i) => new RunLifecycle(r.task, (_, phase) => this.update(i, { phase })))
    saveRuns(this.records)
  }

  lifecycle(index: number): RunLifecycle {
    return this.lifecycles[index]!
  }

  /** The server turned every attempt away: nothing was created, so the post step has nothing to do. */
  refused(index: number): void {
    this.update(index, { refused: true })
  }

  private update(index: number, patch: Partial<RunRecord>): void {
    Object.assign(this.records[index]!, patch)
    saveRun(index, this.records[index]!)
  }
}

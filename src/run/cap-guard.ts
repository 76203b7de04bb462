import { formatSpan, type Caps } from '../caps.js'

/**
 * One task's caps while the runner watches it. The clock starts when the job is submitted (a
 * managed job: when its launch starts, which is when SkyPilot records its submission) and runs
 * on across retries of the same task: a cap bounds the task's spend, not one attempt's. A cost
 * cap becomes a deadline once the hourly price is known (SkyPilot's estimate grows linearly with
 * the time the resources are up), so no `sky` call is made to watch it.
 *
 * When a cap is reached, every stream following the job is interrupted; the executor
 * (run/launch.ts) then cancels the job, and the step reports TIMED_OUT.
 */

export interface CapReached {
  cap: 'max-duration' | 'max-cost-usd'
  /** The cap as the user wrote it (`20s`, `$12.50`). */
  limit: string
  /** From the job's submission to the moment the cap was reached. */
  afterMs: number
  /** The cost SkyPilot's price gives for that time, for a cost cap. */
  costUsd?: number
}

export interface Price {
  /** US dollars per hour for all the job's nodes, as SkyPilot prices them. */
  usdPerHour: number
  /** The cost already run up at `at` (a launched cluster was up before its job was submitted). */
  usdAt: number
  at: number
}

/**
 * When a cost cap is reached (epoch ms), from SkyPilot's price: `usd` run up by `at`, `usdPerHour`
 * from then on (its estimate grows linearly with the time the resources are up). None without a price.
 */
export function costCapReachedAt(maxCostUsd: number, price: { usd: number; usdPerHour: number }, at: number): number | undefined {
  return price.usdPerHour > 0 ? at + ((maxCostUsd - price.usd) / price.usdPerHour) * 3_600_000 : undefined
}

export class CapGuard {
  reached?: CapReached
  /** When the job was submitted (epoch ms), once it was. */
  submittedAt?: number
  private price?: Price
  private timer?: NodeJS.Timeout
  private readonly listeners = new Set<() => void>()
  private readonly onSubmit: (() => void)[] = []

  constructor(
    readonly caps: Caps,
    private readonly now: () => number = Date.now
  ) {}

  get any(): boolean {
    return this.caps.maxDurationMs !== undefined || this.caps.maxCostUsd !== undefined
  }

  /** The job exists: the clock starts (the first time only). */
  submitted(at = this.now()): void {
    if (this.submittedAt !== undefined || !this.any) return
    this.submittedAt = at
    this.arm()
    for (const f of this.onSubmit.splice(0)) f()
  }

  /** Runs `f` when the job is submitted (the price of what it runs on can be asked then). */
  onSubmitted(f: () => void): void {
    if (this.submittedAt !== undefined) f()
    else this.onSubmit.push(f)
  }

  /** The hourly price is known: the cost cap is watched from here as a deadline. */
  priced(price: Price): void {
    if (this.caps.maxCostUsd === undefined || this.reached) return
    this.price = price
    this.arm()
  }

  /** The moment the first cap is reached, as far as is known now (epoch ms). */
  deadline(): { at: number; cap: CapReached['cap'] } | undefined {
    const candidates: { at: number; cap: CapReached['cap'] }[] = []
    if (this.submittedAt !== undefined && this.caps.maxDurationMs !== undefined) candidates.push({ at: this.submittedAt + this.caps.maxDurationMs, cap: 'max-duration' })
    const costAt = this.price && this.caps.maxCostUsd !== undefined ? costCapReachedAt(this.caps.maxCostUsd, { usd: this.price.usdAt, usdPerHour: this.price.usdPerHour }, this.price.at) : undefined
    if (costAt !== undefined) candidates.push({ at: costAt, cap: 'max-cost-usd' })
    return candidates.sort((a, b) => a.at - b.at)[0]
  }

  /** Called once when a cap is reached (at once if it already was). Returns the unsubscribe. */
  onReach(listener: () => void): () => void {
    if (this.reached) {
      listener()
      return () => undefined
    }
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** The job ended by itself: nothing more to watch. */
  stop(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private arm(): void {
    clearTimeout(this.timer)
    const next = this.deadline()
    if (!next) return
    // setTimeout holds at most ~24.8 days; a 30-day cap re-arms on the way.
    const wait = Math.min(Math.max(0, next.at - this.now()), 2 ** 31 - 1)
    this.timer = setTimeout(() => (next.at <= this.now() ? this.reach(next.cap) : this.arm()), wait)
  }

  private reach(cap: CapReached['cap']): void {
    if (this.reached) return
    const at = this.now()
    const afterMs = at - (this.submittedAt ?? at)
    this.reached =
      cap === 'max-duration'
        ? { cap, limit: this.caps.maxDurationText ?? formatSpan(this.caps.maxDurationMs!), afterMs }
        : { cap, limit: `$${this.caps.maxCostUsd!.toFixed(2)}`, afterMs, costUsd: this.price!.usdAt + (this.price!.usdPerHour * (at - this.price!.at)) / 3_600_000 }
    for (const listener of this.listeners) listener()
    this.listeners.clear()
  }
}

/** The sentence that opens a TIMED_OUT message. */
export function capReachedSentence(what: string, r: CapReached): string {
  const cost = r.costUsd !== undefined ? ` (SkyPilot's price puts it at $${r.costUsd.toFixed(2)})` : ''
  return `${what} reached its ${r.cap} cap of ${r.limit} ${formatSpan(r.afterMs)} after it was submitted${cost}.`
}

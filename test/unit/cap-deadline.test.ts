import { describe, expect, it } from 'vitest'
import { CapGuard, costCapReachedAt } from '../../src/run/cap-guard.js'
import { earliestDeadline, recordedCap } from '../../src/run/recorded-cap.js'

/**
 * A cap as a deadline: the same arithmetic while the runner watches (CapGuard) and for a later step
 * or the janitor that reads the cap from the job's record (earliestDeadline).
 */
describe('a cost cap as a deadline', () => {
  it("is reached when SkyPilot's linear estimate gets there: what is left of the cap at the price per hour", () => {
    // $2 run up, $4 an hour, a $10 cap: $8 left, two hours from now.
    expect(costCapReachedAt(10, { usd: 2, usdPerHour: 4 }, 1_000)).toBe(1_000 + 2 * 3_600_000)
    // Already past it: a deadline in the past, reached at once.
    expect(costCapReachedAt(10, { usd: 12, usdPerHour: 4 }, 1_000)).toBeLessThan(1_000)
    // No price per hour: no deadline.
    expect(costCapReachedAt(10, { usd: 0, usdPerHour: 0 }, 1_000)).toBeUndefined()
  })

  it('while the runner watches: the earlier of the duration and the cost deadline, counted from the price read', () => {
    let now = 0
    const guard = new CapGuard({ maxDurationMs: 3 * 3_600_000, maxCostUsd: 10 }, () => now)
    guard.submitted(0)
    expect(guard.deadline()).toEqual({ at: 3 * 3_600_000, cap: 'max-duration' })
    now = 60_000
    guard.priced({ usdPerHour: 4, usdAt: 2, at: now })
    expect(guard.deadline()).toEqual({ at: 60_000 + 2 * 3_600_000, cap: 'max-cost-usd' })
    guard.stop()
  })

  it("from the job's record: the same deadlines, with the cap as messages name it", () => {
    const cap = recordedCap({ skypilot_action_caps: { max_duration_s: 3 * 3600, max_cost_usd: 10 } }, 0, {})!
    expect(earliestDeadline(cap, { usd: 2, usdPerHour: 4 }, 60_000)).toEqual({ at: 60_000 + 2 * 3_600_000, which: 'max-cost-usd', limit: '$10.00' })
    expect(earliestDeadline(cap, undefined, 60_000)).toEqual({ at: 3 * 3_600_000, which: 'max-duration', limit: '3h' })
  })
})

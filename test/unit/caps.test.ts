import { describe, expect, it } from 'vitest'
import { capsStamp, formatSpan, parseCost, parseDuration } from '../../src/caps.js'

describe('max-duration', () => {
  it('reads 45m, 2h, 1h30m, 1d, 90s and a bare number of minutes', () => {
    const ms = (t: string) => (parseDuration(t) as { ms: number }).ms
    expect(['45m', '2h', '1h30m', '1d', '90s', '30', '1.5', ' 2H '].map(ms)).toEqual([2_700_000, 7_200_000, 5_400_000, 86_400_000, 90_000, 1_800_000, 90_000, 7_200_000])
    expect(ms('30d')).toBe(30 * 86_400_000)
  })

  it.each([['0'], ['0m'], ['-5'], ['-1h'], ['abc'], ['2x'], ['1e309'], ['31d'], ['721h'], ['1h 30m'], ['m'], ['0.001']])("refuses '%s' with the input's name and valid examples", (bad) => {
    const r = parseDuration(bad)
    expect(r).toHaveProperty('problem')
    expect((r as { problem: string }).problem).toMatch(/^'max-duration' must be .*(45m|90s|30 days)/)
  })
})

describe('max-cost-usd', () => {
  it('reads dollars with at most two decimals', () => {
    expect(['25', '12.50', '0.01', '1000000'].map((t) => (parseCost(t) as { usd: number }).usd)).toEqual([25, 12.5, 0.01, 1_000_000])
  })

  it.each([['0'], ['0.00'], ['-3'], ['abc'], ['2x'], ['1e309'], ['12.505'], ['$25'], ['1000001']])("refuses '%s' with the input's name and an example", (bad) => {
    const r = parseCost(bad)
    expect((r as { problem: string }).problem).toMatch(/^'max-cost-usd' must be .*e\.g\. 25 or 12\.50/)
  })

  it('says why a cost with more than two decimals is refused', () => {
    expect((parseCost('12.505') as { problem: string }).problem).toMatch(/at most two decimals/)
  })
})

describe('formats', () => {
  it('spans as messages say them', () => {
    expect([20_000, 312_000, 5_400_000, 183_600_000].map(formatSpan)).toEqual(['20s', '5m 12s', '1h 30m', '2d 3h'])
  })

  it("the backend's limit: the cap plus the allowance for setting up the allocation, in whole minutes for Slurm; none for exec", () => {
    expect(capsStamp({ maxDurationMs: 20_000, maxDurationText: '20s' }, 'launch', {})).toEqual({ maxDurationS: 20, slurmTimeMinutes: 11, podDeadlineS: 620 })
    expect(capsStamp({ maxDurationMs: 2_700_000 }, 'managed', { SKYPILOT_ACTION_BACKEND_ALLOWANCE_S: '0' })).toEqual({ maxDurationS: 2700, slurmTimeMinutes: 45, podDeadlineS: 2700 })
    expect(capsStamp({ maxDurationMs: 90_500, maxCostUsd: 3 }, 'exec', {})).toEqual({ maxDurationS: 91, maxCostUsd: 3 })
    expect(capsStamp({ maxCostUsd: 3 }, 'launch', {})).toEqual({ maxCostUsd: 3 })
    expect(capsStamp({}, 'launch', {})).toBeUndefined()
  })
})

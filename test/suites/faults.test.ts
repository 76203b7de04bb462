import { afterAll, describe, expect, it } from 'vitest'
import { faultTable, runFaultSuite, type FaultRow } from './faults.js'

/** `npm run suite:faults`: runs every fault scenario against the built bundles and prints the table. */

let rows: FaultRow[] = []

describe('fault suite', () => {
  it('every scenario ends clean, or fails loudly naming what is left and how to remove it', { timeout: 300_000 }, async () => {
    rows = await runFaultSuite()
    expect(rows.length).toBeGreaterThanOrEqual(19)
    for (const row of rows) expect({ scenario: row.scenario, failed: row.failed }).toEqual({ scenario: row.scenario, failed: [] })
    // A cluster may be left only where the post step failed loudly (sky down that does nothing).
    for (const row of rows) if (row.clustersLeft !== 0) expect(row.scenario).toMatch(/sky down exits 0 but leaves/)
    for (const row of rows) expect(row.runningJobs).toBe(0)
    // A known open bug that no longer shows: turn its `c.open(...)` into a plain check in faults.ts.
    expect(rows.flatMap((r) => r.openFixed)).toEqual([])
  })
})

afterAll(() => {
  if (rows.length > 0) console.log(`\n${faultTable(rows)}\n`)
})

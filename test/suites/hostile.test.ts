import { afterAll, describe, expect, it } from 'vitest'
import { hostileTable, runHostileSuite, type HostileRow } from './hostile.js'

/** `npm run suite:hostile`: every input with hostile values, against the built bundles; prints the table. */

let rows: HostileRow[] = []

describe('hostile-input suite', () => {
  it('every hostile value is rejected before sky with a fix, or passed through as one argument; no secret shows', { timeout: 400_000 }, async () => {
    rows = await runHostileSuite()
    expect(rows.length).toBeGreaterThan(100)
    const failures = rows.filter((r) => !r.held && !r.open).map((r) => `${r.id} [${r.input}]: ${r.result}: ${r.failed.join('; ')} | ${r.message}`)
    expect(failures).toEqual([])
    // A known open bug must still show; once it is fixed, drop its `open` note in hostile.ts.
    expect(rows.filter((r) => r.open && r.held).map((r) => r.id)).toEqual([])
  })
})

afterAll(() => {
  if (rows.length > 0) console.log(`\n${hostileTable(rows)}\n`)
})

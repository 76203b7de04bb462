import { expect } from 'vitest'
import { canMove, type Phase } from '../../../src/lifecycle.js'
import { leftovers } from './servers.js'
import { squeue } from './slurm.js'

/**
 * What the real-jobs scenarios share: names of their own (one prefix per test run, so that what an
 * earlier run left is never mistaken for this one's), waiting on what SkyPilot or Slurm answers
 * (never on a fixed sleep), and the check that nothing is left running.
 */

/** bin/sky's own local API server: what the action talks to without an endpoint. */
export const LOCAL_SERVER = 'http://127.0.0.1:46580'

export const RUN = `rj${Date.now().toString(36).slice(-5)}`

/** A cluster or managed job name of this run (valid for SkyPilot and for Slurm's job names). */
export const named = (tag: string): string => `${RUN}-${tag}`

/** Asks `probe` until it answers something truthy, at most `timeoutMs`; the last answer on failure. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, o: { timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (o.timeoutMs ?? 180_000)
  let last: unknown
  for (;;) {
    try {
      const answer = await probe()
      if (answer) return answer
      last = answer
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last answer: ${last instanceof Error ? last.message : JSON.stringify(last)})`)
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 2000))
  }
}

/**
 * Nothing of `prefix` is left: no cluster in `sky status`, no managed job in progress in
 * `sky jobs queue -a`, no Slurm allocation in squeue. Squeue is waited on: this test cluster tracks
 * a job's processes with proctrack/linuxproc, so an allocation SkyPilot cancelled stays listed
 * until the job's own commands end (at most a scenario's job length). A loud failure names what is left.
 */
export async function expectNothingLeft(prefix: string, endpoint: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const left = await leftovers(endpoint, env)
  const ours = (x: string) => x.includes(prefix)
  expect({ clusters: left.clusters.filter(ours), jobs: left.jobs.filter(ours) }, `left running on ${endpoint}`).toEqual({ clusters: [], jobs: [] })
  const mine = async () => (await squeue()).filter((a) => a.name.startsWith(prefix))
  await waitFor(`Slurm to release the allocations of ${prefix}`, async () => (await mine()).length === 0, { timeoutMs: 300_000, intervalMs: 5000 }).catch(async (error: Error) => {
    throw new Error(`${error.message}; squeue still holds: ${JSON.stringify(await mine())}`)
  })
}

/**
 * The moves of each task's lifecycle, from the run records as the step saved them (again on each
 * move): task name → its phases in order. Each move must be one src/lifecycle.ts allows.
 */
export function movesOf(step: { stateWrites: [string, string][] }): Record<string, string[]> {
  const moves: Record<string, string[]> = {}
  for (const [name, value] of step.stateWrites) {
    if (!/^run-\d+$/.test(name)) continue
    const r = JSON.parse(value) as { task: string; phase: string }
    const list = (moves[r.task] ??= [])
    if (list.at(-1) !== r.phase || r.phase === 'launching') list.push(r.phase)
  }
  for (const [task, list] of Object.entries(moves)) for (let i = 1; i < list.length; i++) expect(canMove(list[i - 1] as Phase, list[i] as Phase), `${task}: ${list.join(' → ')}`).toBe(true)
  return moves
}

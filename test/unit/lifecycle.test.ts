import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { canMove, exitCodeForStatus, FINAL_STATUSES, PHASES, POST_STEP, postAction, RunLifecycle, STATUSES, type Phase } from '../../src/lifecycle.js'

const action = parse(fs.readFileSync(new URL('../../action.yml', import.meta.url), 'utf8')) as { outputs: Record<string, { description: string }> }

describe('the lifecycle table', () => {
  it('every status a phase can end in is in the status table, and the table has no status no phase or mode can report', () => {
    const fromPhases = new Set(Object.values(PHASES).flatMap((p) => p.statuses))
    for (const s of fromPhases) expect(STATUSES, s).toHaveProperty(s)
    // The rest are the modes without a job (down, report, dry run) and failures before any plan.
    const withoutJob = Object.keys(STATUSES).filter((s) => !fromPhases.has(s as never))
    expect(withoutJob.sort()).toEqual(['DRY_RUN', 'ERROR', 'INVALID', 'LEFT_RUNNING', 'TORN_DOWN', 'UNVERIFIED'].filter((s) => !fromPhases.has(s as never)).sort())
  })

  it("the `status` output's description in action.yml names exactly the statuses of the table", () => {
    const named = new Set(action.outputs.status!.description.match(/\b[A-Z][A-Z_]{3,}\b/g))
    expect([...named].sort()).toEqual(Object.keys(STATUSES).sort())
  })

  it("SkyPilot's final statuses and their exit codes (0, 100, 103); anything else has not finished (101)", () => {
    expect([...FINAL_STATUSES].sort()).toEqual(['CANCELLED', 'FAILED', 'FAILED_CONTROLLER', 'FAILED_DRIVER', 'FAILED_NO_RESOURCE', 'FAILED_PRECHECKS', 'FAILED_SETUP', 'SUCCEEDED'])
    expect(['SUCCEEDED', 'FAILED', 'FAILED_SETUP', 'CANCELLED', 'RUNNING', 'RECOVERING', 'PENDING'].map(exitCodeForStatus)).toEqual([0, 100, 100, 103, 101, 101, 101])
  })

  it('moves: a job that exists is never launched again; only an ended job that failed may be', () => {
    expect(canMove('launching', 'launching')).toBe(true)
    expect(canMove('submitted', 'launching')).toBe(false)
    expect(canMove('running', 'launching')).toBe(false)
    expect(canMove('ended', 'launching')).toBe(true)
    expect(canMove('planned', 'submitted')).toBe(false)
    for (const [phase, rule] of Object.entries(PHASES)) for (const next of Object.keys(rule.next)) expect(PHASES, `${phase} -> ${next}`).toHaveProperty(next)
  })

  it('the post step: nothing for a task never launched; a cluster is torn down from its first launch on, a kept one never; a managed job not seen to end is cancelled', () => {
    const launched: Phase[] = ['launching', 'submitted', 'running', 'ended']
    for (const kind of Object.keys(POST_STEP) as (keyof typeof POST_STEP)[]) expect(POST_STEP[kind].planned, kind).toBe('nothing')
    for (const p of launched) expect(POST_STEP.cluster[p]).toBe('tear-down')
    for (const p of launched) expect(POST_STEP['kept-cluster'][p]).toBe('leave-running')
    expect(['launching', 'submitted', 'running', 'ended'].map((p) => POST_STEP.managed[p as Phase])).toEqual(['cancel-and-verify', 'cancel-and-verify', 'cancel-and-verify', 'nothing'])
    expect(POST_STEP['detached-cluster'].submitted).toBe('leave-running')
    expect(POST_STEP['detached-cluster'].launching).toBe('tear-down')
    expect(postAction({ kind: 'cluster', phase: 'ended', refused: true })).toBe('nothing')
  })

  it('a run lifecycle refuses a move the table does not allow, and reports each move', () => {
    const moves: Phase[] = []
    const life = new RunLifecycle('t', (_, p) => moves.push(p))
    life.to('launching')
    life.reach('running')
    life.reach('submitted')
    expect(life.phase).toBe('running')
    expect(() => life.to('launching')).toThrow(/no move from running to launching/)
    life.to('ended')
    life.to('launching')
    expect(moves).toEqual(['launching', 'submitted', 'running', 'ended', 'launching'])
  })
})

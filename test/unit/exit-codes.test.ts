import { describe, it, expect } from 'vitest'
import { describeOutcome, isRetryable, outcomeOf } from '../../src/sky/exit-codes.js'

describe('outcomeOf', () => {
  it.each([
    [0, 'succeeded', 'SUCCEEDED'],
    [100, 'job-failed', 'FAILED'],
    [101, 'not-finished', 'RUNNING'],
    [102, 'not-found', 'NOT_FOUND'],
    [103, 'cancelled', 'CANCELLED'],
    [1, 'launch-failed', 'LAUNCH_FAILED'],
    [2, 'usage', 'USAGE_ERROR'],
    [null, 'interrupted', 'INTERRUPTED'],
    [137, 'launch-failed', 'LAUNCH_FAILED']
  ] as const)('exit %s → %s', (code, kind, status) => {
    expect(outcomeOf(code)).toEqual({ kind, status })
  })
})

describe('isRetryable', () => {
  it('retries a launch failure (exit 1)', () => {
    expect(isRetryable(outcomeOf(1), false)).toBe(true)
    expect(isRetryable(outcomeOf(1), true)).toBe(true)
  })

  it('retries a failed job (exit 100) only with retryOnJobFailure', () => {
    expect(isRetryable(outcomeOf(100), false)).toBe(false)
    expect(isRetryable(outcomeOf(100), true)).toBe(true)
  })

  it.each([0, 2, 101, 102, 103, null])('never retries exit %s', (code) => {
    expect(isRetryable(outcomeOf(code), false)).toBe(false)
    expect(isRetryable(outcomeOf(code), true)).toBe(false)
  })
})

describe('describeOutcome', () => {
  it('success says so', () => {
    expect(describeOutcome(outcomeOf(0), 0, "Task 'train'")).toBe("Task 'train' succeeded.")
  })

  it('a failed job names exit code 100 and says to read its log', () => {
    const m = describeOutcome(outcomeOf(100), 100, 'The job')
    expect(m).toContain('exit code 100')
    expect(m).toMatch(/^The job ran and failed/)
    expect(m).toContain('See its log above')
  })

  it.each([101, 102, 103])('exit %s is named in the message', (code) => {
    const m = describeOutcome(outcomeOf(code), code, 'The job')
    expect(m).toContain(`exit code ${code}`)
    expect(m).toMatch(/^The job /)
  })

  it('not found says why it may be gone', () => {
    expect(describeOutcome(outcomeOf(102), 102, 'Job 7')).toContain('torn down')
  })

  it.each([1, 137, 255])('a launch failure (exit %s) names the code and where to look', (code) => {
    const m = describeOutcome(outcomeOf(code), code, 'The launch')
    expect(m).toContain(`sky exit code ${code}`)
    expect(m).toContain('failed before the job ran')
    expect(m).toMatch(/capacity|credentials|quota/)
    expect(m).toContain("See sky's error above")
  })

  it('a usage error names exit code 2 and asks for a report', () => {
    const m = describeOutcome(outcomeOf(2), 2, 'x')
    expect(m).toContain('exit code 2')
    expect(m).toContain('report')
  })

  it('an interrupted run says it was interrupted', () => {
    expect(describeOutcome(outcomeOf(null), null, 'The job')).toBe('The job was interrupted before it finished.')
  })
})

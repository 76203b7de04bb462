import { describe, it, expect } from 'vitest'
import { classifyLaunchFailure, describeFailedStatus, describeKilledTail, describeOutcome, isFinalJobExitCode, isJobExitCode, isRetryable, outcomeOf, signalOf } from '../../src/sky/exit-codes.js'

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

describe('isJobExitCode and signalOf', () => {
  it("only SkyPilot's JobExitCode values answer for a job; a tail killed by a signal is not an answer", () => {
    expect([0, 100, 101, 102, 103].every(isJobExitCode)).toBe(true)
    // 143: the tail killed with the job's allocation (CI once took it for a failed launch); 255: ssh.
    for (const code of [null, 1, 2, 130, 137, 143, 255]) expect(isJobExitCode(code), String(code)).toBe(false)
    expect([signalOf(143), signalOf(137), signalOf(130)]).toEqual([15, 9, 2])
    for (const code of [null, 0, 1, 100, 103, 128, 255]) expect(signalOf(code), String(code)).toBeUndefined()
  })

  it('a final answer is a job exit code other than 101 (not finished: asked or followed again)', () => {
    expect([0, 100, 102, 103].every(isFinalJobExitCode)).toBe(true)
    for (const code of [null, 1, 2, 101, 143, 255]) expect(isFinalJobExitCode(code), String(code)).toBe(false)
  })

  it('a tail killed by a signal is said with the signal, and as a driver killed outside SkyPilot', () => {
    expect(describeKilledTail('sky logs', 143)).toBe("sky logs exited 143 (the job's log ended by signal 15): the job's driver was killed, as when the cluster's node or allocation ends outside SkyPilot (e.g. scancel, a node failure, a time limit)")
    expect(describeKilledTail('sky', 137, ' after job 2 was submitted')).toMatch(/^sky exited 137 \(the job's log ended by signal 9\) after job 2 was submitted: the job's driver was killed/)
  })
})

describe('isRetryable', () => {
  it('retries a launch failure (exit 1) only when SkyPilot said something another try can fix', () => {
    const capacity = classifyLaunchFailure({ type: 'ResourcesUnavailableError', message: 'Failed to provision all possible launchable resources.' })
    const noCloud = classifyLaunchFailure({ type: 'NoCloudAccessError', message: 'Cloud access is not set up. Run: sky check' })
    expect(isRetryable(outcomeOf(1), false, capacity)).toBe(true)
    expect(isRetryable(outcomeOf(1), true, capacity)).toBe(true)
    expect(isRetryable(outcomeOf(1), false, noCloud)).toBe(false)
    // Nothing recognisable was said: nothing says another try would do better.
    expect(isRetryable(outcomeOf(1), false, classifyLaunchFailure(undefined))).toBe(false)
    expect(isRetryable(outcomeOf(1), false)).toBe(false)
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

describe('classifyLaunchFailure', () => {
  it.each([
    ['ResourcesUnavailableError', 'Failed to provision all possible launchable resources.', true, false],
    ['ApiServerConnectionError', 'Could not connect to SkyPilot API server at http://x.', true, true],
    ['ServerTemporarilyUnavailableError', 'The server is restarting.', true, true],
    ['HTTPError', '503 Server Error: Service Unavailable for url: http://x/api/get', true, true],
    ['HTTPError', '401 Client Error: Unauthorized for url: http://x/jobs', false, false],
    ['NoCloudAccessError', 'Cloud access is not set up. Run: sky check', false, false],
    ['ApiServerAuthenticationError', 'Authentication required for SkyPilot API server at http://x.', false, false],
    ['ValueError', "Invalid task YAML: 'resources.cpus'", false, false],
    ['ClusterDoesNotExist', "Cluster 'c' does not exist.", false, false],
    ['InvalidClusterNameError', "Cluster name 'x' is invalid", false, false]
  ] as const)('%s (%s): retryable %s, transient %s', (type, message, retryable, transient) => {
    expect(classifyLaunchFailure({ type, message })).toMatchObject({ retryable, transient, said: `${type}: ${message}` })
  })

  it('a request the server turned away (auth, version) created nothing', () => {
    for (const [type, message] of [['HTTPError', '401 Client Error: Unauthorized for url: http://x/jobs'], ['HTTPError', '403 Client Error: Forbidden'], ['ApiServerAuthenticationError', 'Authentication required'], ['APIVersionMismatchError', 'Your SkyPilot client version is too old']]) {
      expect(classifyLaunchFailure({ type: type!, message: message! }).refused, type).toBe(true)
    }
    for (const [type, message] of [['NoCloudAccessError', 'Cloud access is not set up.'], ['HTTPError', '503 Server Error'], ['ResourcesUnavailableError', 'x']]) {
      expect(classifyLaunchFailure({ type: type!, message: message! }).refused, type).toBeFalsy()
    }
  })
})

describe('describeFailedStatus', () => {
  it('says what a managed job that never ran went through, with SkyPilot\'s reason', () => {
    const m = describeFailedStatus('Managed job 2 (t)', 'FAILED_PRECHECKS', '[sky.exceptions.NoCloudAccessError] Cloud access is not set up. Run: sky check')
    expect(m).toContain('ended FAILED_PRECHECKS')
    expect(m).toContain('the task never ran')
    expect(m).toContain('SkyPilot said: [sky.exceptions.NoCloudAccessError] Cloud access is not set up. Run: sky check.')
    expect(m).not.toMatch(/setup or run command/)
  })

  it.each([
    ['FAILED_NO_RESOURCE', /no resources were available/],
    ['FAILED_CONTROLLER', /jobs controller failed/],
    ['FAILED_SETUP', /setup command exited non-zero.*See its log above/],
    ['FAILED', /run command exited non-zero.*See its log above/]
  ])('%s says what it means', (status, meaning) => {
    expect(describeFailedStatus('The job', status)).toMatch(meaning)
  })
})

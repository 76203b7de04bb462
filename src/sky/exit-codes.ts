/**
 * What `sky launch`, `sky exec`, `sky jobs launch` and `sky logs` exit with (SkyPilot since early
 * 2025): the job's status class, or 1 when nothing ran, 2 for a usage error.
 */
export type Outcome =
  | { kind: 'succeeded'; status: 'SUCCEEDED' }
  | { kind: 'job-failed'; status: 'FAILED' }
  | { kind: 'not-finished'; status: 'RUNNING' }
  | { kind: 'not-found'; status: 'NOT_FOUND' }
  | { kind: 'cancelled'; status: 'CANCELLED' }
  | { kind: 'launch-failed'; status: 'LAUNCH_FAILED' }
  | { kind: 'usage'; status: 'USAGE_ERROR' }
  | { kind: 'interrupted'; status: 'INTERRUPTED' }

export function outcomeOf(exitCode: number | null): Outcome {
  switch (exitCode) {
    case 0:
      return { kind: 'succeeded', status: 'SUCCEEDED' }
    case 100:
      return { kind: 'job-failed', status: 'FAILED' }
    case 101:
      return { kind: 'not-finished', status: 'RUNNING' }
    case 102:
      return { kind: 'not-found', status: 'NOT_FOUND' }
    case 103:
      return { kind: 'cancelled', status: 'CANCELLED' }
    case 2:
      return { kind: 'usage', status: 'USAGE_ERROR' }
    case null:
      return { kind: 'interrupted', status: 'INTERRUPTED' }
    default:
      return { kind: 'launch-failed', status: 'LAUNCH_FAILED' }
  }
}

/** A launch that failed before its job ran: no capacity, a transient server error. Worth retrying. */
export function isRetryable(outcome: Outcome, retryOnJobFailure: boolean): boolean {
  return outcome.kind === 'launch-failed' || (retryOnJobFailure && outcome.kind === 'job-failed')
}

/** The message a user sees for each outcome, saying what happened and where to look. */
export function describeOutcome(outcome: Outcome, exitCode: number | null, what: string): string {
  switch (outcome.kind) {
    case 'succeeded':
      return `${what} succeeded.`
    case 'job-failed':
      return `${what} ran and failed (sky exit code 100: the job's setup or run command exited non-zero). See its log above.`
    case 'not-finished':
      return `${what} had not finished when sky returned (exit code 101).`
    case 'not-found':
      return `${what} was not found on the cluster (exit code 102): it may have been removed, or the cluster was torn down.`
    case 'cancelled':
      return `${what} was cancelled (exit code 103).`
    case 'usage':
      return `sky rejected its command line (exit code 2). This is a bug in the action or a SkyPilot version it does not support; please report it with the log above.`
    case 'interrupted':
      return `${what} was interrupted before it finished.`
    case 'launch-failed':
      return `${what} failed before the job ran (sky exit code ${exitCode}): no capacity, credentials, quota or a server error. See sky's error above.`
  }
}

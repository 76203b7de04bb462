import { isStatus, STATUSES } from '../lifecycle.js'

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

/**
 * Whether `sky logs` / `sky logs --status` answered about the job: SkyPilot's JobExitCode (0, 100,
 * 101 not finished, 102 not found, 103). Anything else is the command failing, not an answer: 1 (an
 * error, e.g. the cluster's runtime unreachable), a signal's 128+N (the tail killed with the
 * job's allocation), 255 (ssh), none at all.
 */
export function isJobExitCode(code: number | null): code is 0 | 100 | 101 | 102 | 103 {
  return code === 0 || code === 100 || code === 101 || code === 102 || code === 103
}

/** A final answer about the job: a job exit code other than 101 (not finished yet). */
export function isFinalJobExitCode(code: number | null): code is 0 | 100 | 102 | 103 {
  return isJobExitCode(code) && code !== 101
}

/**
 * What a log tail that ended by a signal means, in words: `by` (sky, sky logs) exited 128+N`when`.
 * Its job's driver was killed with the node or allocation it ran on, not by SkyPilot.
 */
export function describeKilledTail(by: string, code: number, when = ''): string {
  return `${by} exited ${code} (the job's log ended by signal ${signalOf(code)})${when}: the job's driver was killed, as when the cluster's node or allocation ends outside SkyPilot (e.g. scancel, a node failure, a time limit)`
}

/** An exit by a signal as a shell reports it (128 + N): the process under it was killed. */
export function signalOf(code: number | null): number | undefined {
  return code !== null && code > 128 && code < 160 ? code - 128 : undefined
}

/**
 * Why a launch failed before any job ran, from the exception SkyPilot printed last. Only what can
 * succeed on another try is retried: no capacity now, or a server or connection that failed for a
 * moment. Everything else (no cloud access, credentials, an invalid task, a missing cluster, an
 * unknown error) would fail the same way again.
 */
export interface LaunchFailure {
  retryable: boolean
  /** A connection or server error: the request may still be running on the server. */
  transient: boolean
  /** The server turned the client away (auth, version): nothing was created, so nothing needs tearing down. */
  refused?: boolean
  /** SkyPilot's own words, e.g. `NoCloudAccessError: Cloud access is not set up. Run: sky check`. */
  said?: string
}

const CAPACITY = new Set(['ResourcesUnavailableError', 'KubeAPIUnreachableError', 'ExecutionPoolFullError', 'ConcurrentWorkerExhaustedError'])
const TRANSIENT = new Set([
  'ApiServerConnectionError', 'ServerTemporarilyUnavailableError', 'ExecutionRetryableError', 'RequestInterruptedError', 'NetworkError',
  'ConnectionError', 'ConnectionResetError', 'ConnectionRefusedError', 'ChunkedEncodingError', 'ReadTimeout', 'ReadTimeoutError',
  'ConnectTimeout', 'ProtocolError', 'RemoteDisconnected', 'IncompleteRead', 'ClientPayloadError', 'ServerDisconnectedError'
])

export function classifyLaunchFailure(error: { type: string; message: string } | undefined): LaunchFailure {
  if (!error) return { retryable: false, transient: false }
  const said = `${error.type}: ${error.message}`.trim()
  if (CAPACITY.has(error.type)) return { retryable: true, transient: false, said }
  if (error.type === 'ApiServerAuthenticationError' || error.type === 'APIVersionMismatchError' || (error.type === 'HTTPError' && /^40[13]\b/.test(error.message))) {
    return { retryable: false, transient: false, refused: true, said }
  }
  // requests.exceptions.HTTPError carries the status: a gateway error is transient, a 4xx is not.
  const transient = TRANSIENT.has(error.type) || (error.type === 'HTTPError' && /^5\d\d\b/.test(error.message))
  return { retryable: transient, transient, said }
}

/** Retried as a whole relaunch: a failure before any job ran that another try can fix, or a failed job when asked. */
export function isRetryable(outcome: Outcome, retryOnJobFailure: boolean, failure?: LaunchFailure): boolean {
  if (outcome.kind === 'launch-failed') return failure?.retryable ?? false
  return retryOnJobFailure && outcome.kind === 'job-failed'
}

/**
 * A failed job's status said in words (its meaning from the lifecycle's table), with SkyPilot's
 * reason when it gave one, and the job's own last lines when they were seen.
 */
export function describeFailedStatus(what: string, status: string, reason?: string, lastLines: readonly string[] = []): string {
  const meaning = isStatus(status) ? STATUSES[status].means : `it ended ${status}`
  const said = reason ? ` SkyPilot said: ${reason.trim().replace(/\.$/, '')}.` : ''
  const ranCommands = status === 'FAILED' || status === 'FAILED_SETUP'
  const lines = lastLines.length > 0 ? ` Its last lines:\n${lastLines.map((l) => `    ${l}`).join('\n')}` : ranCommands ? ' See its log above.' : ''
  return `${what} ended ${status}: ${meaning}.${said}${lines}`
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
      return `${what} failed before the job ran (sky exit code ${exitCode}). See sky's error above.`
  }
}

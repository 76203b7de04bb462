/**
 * The lifecycle of a run, as data: the phases one task's run goes through, what moves it from one
 * to the next, what the post step does for a run that main left in each phase, and every value of
 * the `status` output with its exit code, its meaning and whether the step passes.
 *
 * The executor (run/launch.ts, run/tasks.ts, run/collect.ts) moves each task through PHASES and
 * reads STATUSES for every word it says about a status; the post step (run/post.ts) reads the
 * phases main saved and does what POST_STEP says; the tests read both tables (every transition the
 * real jobs make must be one the table allows, every status the action reports must be here).
 */

/** Where one task's run is. */
export type Phase = 'planned' | 'launching' | 'submitted' | 'running' | 'ended' | 'torn-down'

export interface PhaseRule {
  /** What is true in this phase, in the words of the summary. */
  means: string
  /** The phases it may move to, and what moves it there. */
  next: Partial<Record<Phase, string>>
  /**
   * May the task be launched again from here? Never once a job exists (it would run twice), except
   * from `ended` when the job ran, failed, and the user asked for it.
   */
  relaunch: 'no' | 'when SkyPilot says another try can succeed' | "when the job failed and 'retry-on-job-failure' is true"
  /** The statuses a run that stops in this phase can report. */
  statuses: readonly Status[]
}

export const PHASES: Record<Phase, PhaseRule> = {
  planned: {
    means: 'inputs and task validated, the plan made; nothing exists on any cloud',
    next: { launching: '`sky launch` / `sky exec` / `sky jobs launch` is started (the state says so first)' },
    relaunch: 'no',
    statuses: ['INVALID', 'ERROR', 'DRY_RUN', 'SKIPPED', 'CANCELLED']
  },
  launching: {
    means: 'the launch request runs: a cluster may be provisioning, no job exists yet',
    next: {
      launching: 'the launch failed before any job existed and SkyPilot says another try can succeed (no capacity, a transient error): launched again',
      submitted: "SkyPilot printed the job's id (`Job submitted, ID: N`), or the jobs queue holds a managed job of the task's name",
      ended: 'the launch failed before any job existed, and no retry is left or can help; or the run was cancelled'
    },
    relaunch: 'when SkyPilot says another try can succeed',
    statuses: ['LAUNCH_FAILED', 'CANCELLED', 'UNKNOWN', 'USAGE_ERROR', 'INTERRUPTED', 'TIMED_OUT']
  },
  submitted: {
    means: 'the job exists and is queued or setting up; it is never launched again',
    next: {
      running: "the job's own log lines stream (`Job started. Streaming logs...`)",
      ended: 'SkyPilot gave a final status (the job failed in setup, was cancelled, or the run was cancelled)'
    },
    relaunch: 'no',
    statuses: ['SUBMITTED', 'CANCELLED', 'UNKNOWN', 'TIMED_OUT']
  },
  running: {
    means: "the job's commands run; a dropped log stream is followed again, never relaunched",
    next: { ended: "SkyPilot gave a final status: the launch's exit code, `sky logs --status`, or the jobs queue; or a cap was reached and SkyPilot confirmed the job's cancel" },
    relaunch: 'no',
    statuses: ['CANCELLED', 'UNKNOWN', 'RUNNING', 'TIMED_OUT']
  },
  ended: {
    means: 'SkyPilot gave the final status (or it could not be learnt: UNKNOWN)',
    next: {
      launching: "the job ran and failed, and 'retry-on-job-failure' is true: a new job is launched",
      'torn-down': '`sky down` ran (in the post step, or at once when a cap stopped the job) and `sky status` no longer lists the cluster'
    },
    relaunch: "when the job failed and 'retry-on-job-failure' is true",
    statuses: ['SUCCEEDED', 'FAILED', 'FAILED_SETUP', 'FAILED_DRIVER', 'FAILED_PRECHECKS', 'FAILED_NO_RESOURCE', 'FAILED_CONTROLLER', 'CANCELLED', 'LAUNCH_FAILED', 'NOT_FOUND', 'UNKNOWN', 'USAGE_ERROR', 'RUNNING', 'TIMED_OUT']
  },
  'torn-down': {
    means: '`sky status` no longer lists the cluster',
    next: {},
    relaunch: 'no',
    statuses: []
  }
}

/** May a run move from `from` to `to`? */
export function canMove(from: Phase, to: Phase): boolean {
  return to in PHASES[from].next
}

/** What a task is, for the post step. */
export type TaskKind = 'cluster' | 'kept-cluster' | 'detached-cluster' | 'managed' | 'detached-managed'

/** What the post step does for a task main left in a phase. */
export type PostAction = 'nothing' | 'tear-down' | 'leave-running' | 'cancel-and-verify'

/**
 * The post step's rule. A cluster is torn down (and verified) from the moment a launch was started
 * until it is gone, whatever main saw: only `planned` (no launch ever started) needs no `sky` call.
 * A kept cluster (`down: false`, `mode: exec`) is the user's. A detached job that was submitted runs
 * on without the runner (a later `mode: collect` or `mode: down` owns it); one that never got that
 * far is cleaned up. A managed job main did not see end is cancelled by name and verified.
 */
export const POST_STEP: Record<TaskKind, Record<Phase, PostAction>> = {
  cluster: { planned: 'nothing', launching: 'tear-down', submitted: 'tear-down', running: 'tear-down', ended: 'tear-down', 'torn-down': 'nothing' },
  'kept-cluster': { planned: 'nothing', launching: 'leave-running', submitted: 'leave-running', running: 'leave-running', ended: 'leave-running', 'torn-down': 'nothing' },
  'detached-cluster': { planned: 'nothing', launching: 'tear-down', submitted: 'leave-running', running: 'leave-running', ended: 'tear-down', 'torn-down': 'nothing' },
  managed: { planned: 'nothing', launching: 'cancel-and-verify', submitted: 'cancel-and-verify', running: 'cancel-and-verify', ended: 'nothing', 'torn-down': 'nothing' },
  'detached-managed': { planned: 'nothing', launching: 'cancel-and-verify', submitted: 'nothing', running: 'nothing', ended: 'nothing', 'torn-down': 'nothing' }
}

/** What main saves for the post step about one task's run (run/post.ts acts on it). */
export interface RunRecord {
  task: string
  kind: TaskKind
  cluster?: string
  /** A managed job: its name (its id may never have been printed), and since when (epoch s) one of that name is ours. */
  managed?: { name: string; since: number }
  phase: Phase
  /** The server turned every attempt away (auth, version): nothing was created. */
  refused?: boolean
  /** Why a cluster is left running, for the summary. */
  why?: string
}

/** What the post step does for a run: by POST_STEP, except that a launch the server refused created nothing. */
export function postAction(r: Pick<RunRecord, 'kind' | 'phase' | 'refused'>): PostAction {
  if (r.refused) return 'nothing'
  return POST_STEP[r.kind]?.[r.phase] ?? 'nothing'
}

/** Every value of the `status` output. */
export type Status =
  | 'SUCCEEDED' | 'FAILED' | 'FAILED_SETUP' | 'FAILED_DRIVER' | 'FAILED_PRECHECKS' | 'FAILED_NO_RESOURCE' | 'FAILED_CONTROLLER' | 'CANCELLED'
  | 'LAUNCH_FAILED' | 'SUBMITTED' | 'RUNNING' | 'NOT_FOUND' | 'UNKNOWN' | 'USAGE_ERROR' | 'INTERRUPTED' | 'SKIPPED'
  | 'TIMED_OUT' | 'TORN_DOWN' | 'LEFT_RUNNING' | 'UNVERIFIED' | 'INVALID' | 'ERROR' | 'DRY_RUN'

export interface StatusRule {
  /** SkyPilot's own job status, or one the action reports (not one of SkyPilot's). */
  from: 'skypilot' | 'action'
  /** The job will not change any more. */
  final: boolean
  /** `exit-code` for a job that ended so (SkyPilot's exit codes), when there is one. */
  exitCode?: number
  /** The step succeeds with this status. */
  passes: boolean
  icon: string
  /** What it means, as the summary and the error say it. */
  means: string
}

export const STATUSES: Record<Status, StatusRule> = {
  SUCCEEDED: { from: 'skypilot', final: true, exitCode: 0, passes: true, icon: '✅', means: 'the job ran and its commands exited 0' },
  FAILED: { from: 'skypilot', final: true, exitCode: 100, passes: false, icon: '❌', means: "the job's run command exited non-zero" },
  FAILED_SETUP: { from: 'skypilot', final: true, exitCode: 100, passes: false, icon: '❌', means: "the job's setup command exited non-zero: its run command never started" },
  FAILED_DRIVER: { from: 'skypilot', final: true, exitCode: 100, passes: false, icon: '❌', means: "SkyPilot's job driver on the cluster failed (not the job's own commands), e.g. the cluster's node or allocation went away" },
  FAILED_PRECHECKS: { from: 'skypilot', final: true, exitCode: 100, passes: false, icon: '❌', means: "it failed SkyPilot's checks before anything was launched (e.g. no cloud access or resources that cannot exist): the task never ran" },
  FAILED_NO_RESOURCE: { from: 'skypilot', final: true, exitCode: 100, passes: false, icon: '❌', means: 'no resources were available to run it after the retries: the task never ran' },
  FAILED_CONTROLLER: { from: 'skypilot', final: true, exitCode: 100, passes: false, icon: '❌', means: 'the jobs controller failed (an error in SkyPilot, not in the task)' },
  CANCELLED: { from: 'skypilot', final: true, exitCode: 103, passes: false, icon: '⏹️', means: 'the job, or the run, was cancelled' },
  LAUNCH_FAILED: { from: 'action', final: true, exitCode: 1, passes: false, icon: '❌', means: 'the launch failed before any job existed' },
  SUBMITTED: { from: 'action', final: false, passes: true, icon: '⏳', means: 'detached: the job was submitted and runs on; collect it with mode: collect' },
  RUNNING: { from: 'action', final: false, exitCode: 101, passes: true, icon: '⏳', means: 'the job had not finished when the action stopped waiting' },
  NOT_FOUND: { from: 'action', final: true, exitCode: 102, passes: false, icon: '❓', means: 'SkyPilot has no such job or cluster' },
  UNKNOWN: { from: 'action', final: false, passes: false, icon: '❓', means: 'a job was submitted, but SkyPilot did not say how it ended' },
  USAGE_ERROR: { from: 'action', final: true, exitCode: 2, passes: false, icon: '❌', means: 'sky rejected its command line (a bug in the action, or a SkyPilot version it does not support)' },
  INTERRUPTED: { from: 'action', final: false, passes: false, icon: '⏹️', means: 'sky was stopped by a signal before it finished' },
  SKIPPED: { from: 'action', final: true, passes: false, icon: '⏭️', means: 'not started (fail-fast stopped the run, or it was cancelled first)' },
  TIMED_OUT: { from: 'action', final: true, passes: false, icon: '⏱️', means: "the step's max-duration or max-cost-usd cap was reached: the action cancelled the job (this is the action's status, not one of SkyPilot's)" },
  TORN_DOWN: { from: 'action', final: true, passes: true, icon: '✅', means: '`sky down` ran and `sky status` no longer lists the cluster' },
  LEFT_RUNNING: { from: 'action', final: true, passes: false, icon: '❌', means: '`sky status` still lists the cluster after every teardown attempt' },
  UNVERIFIED: { from: 'action', final: true, passes: false, icon: '❓', means: '`sky status` could not be read, so whether the cluster is gone is not known' },
  INVALID: { from: 'action', final: true, passes: false, icon: '❌', means: 'bad inputs or task: nothing was launched' },
  ERROR: { from: 'action', final: true, passes: false, icon: '❌', means: 'an unexpected error in the action' },
  DRY_RUN: { from: 'action', final: true, passes: true, icon: '📝', means: 'validated and planned; nothing installed or launched' }
}

export function isStatus(s: string): s is Status {
  return Object.hasOwn(STATUSES, s)
}

/** SkyPilot's statuses of jobs that will not change any more (cluster jobs and managed jobs). */
export const FINAL_STATUSES: ReadonlySet<string> = new Set(Object.entries(STATUSES).filter(([, r]) => r.from === 'skypilot' && r.final).map(([s]) => s))

/** SkyPilot's exit code for a job's status: a status it does not list as final has not finished (101). */
export function exitCodeForStatus(status: string): number {
  return FINAL_STATUSES.has(status) ? STATUSES[status as Status].exitCode! : 101
}

/** The icon of a status in the summary and the leaderboard (none for a status not in the table). */
export function statusIcon(status: string): string {
  return isStatus(status) ? STATUSES[status].icon : ''
}

/**
 * One task's run, moved through PHASES. Every move is checked against the table (a move it does not
 * allow is a bug in the action: it throws) and reported to `onMove`, which saves it for the post
 * step before anything else happens in the new phase.
 */
export class RunLifecycle {
  private current: Phase = 'planned'
  readonly moves: Phase[] = ['planned']

  constructor(
    readonly task: string,
    private readonly onMove?: (task: string, phase: Phase) => void
  ) {}

  get phase(): Phase {
    return this.current
  }

  /** Moves on; staying where it is is no move (a second `Job submitted` line, say). */
  to(next: Phase): void {
    if (next === this.current && next !== 'launching') return
    if (!canMove(this.current, next)) throw new Error(`lifecycle of ${this.task}: no move from ${this.current} to ${next} (src/lifecycle.ts)`)
    this.current = next
    this.moves.push(next)
    this.onMove?.(this.task, next)
  }

  /** Moves to `next` unless the run is already there or past it (ids and lines may come late). */
  reach(next: 'submitted' | 'running'): void {
    const order: Phase[] = ['planned', 'launching', 'submitted', 'running', 'ended']
    if (order.indexOf(this.current) < order.indexOf(next)) {
      if (next === 'running' && this.current === 'launching') this.to('submitted')
      this.to(next)
    }
  }
}

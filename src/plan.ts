import type { Inputs } from './inputs.js'
import type { Caps } from './caps.js'
import { installCommands, packageSpec, PINNED_SKYPILOT_VERSION, venvLayout, type InstallRequest } from './install/plan.js'
import { cloudOfInfra, extrasForClouds } from './task/clouds.js'
import * as args from './sky/args.js'
import type { RunnerContext } from './context.js'

/**
 * The Plan is data: every `sky` command the action will run, what it installs, what it tears
 * down. Dry-run prints it, the summary reads it, the tests assert on it; only the executor runs it.
 */

export interface PlannedTask {
  /** Fan-out item name, or the task's own name. */
  name: string
  label: string
  cluster?: string
  taskPath: string
  cwd: string
  argv: string[]
  accelerators?: string
}

export interface Plan {
  mode: Inputs['mode']
  version: string
  versionFrom: 'input' | 'server' | 'pinned'
  extras: string[]
  extrasFrom: 'input' | 'server' | 'task'
  tasks: PlannedTask[]
  down: boolean
  detach: boolean
  idleMinutes?: number
  secretNames: string[]
  /** Clusters the post step tears down (and verifies). */
  teardown: string[]
  /** Clusters deliberately left running, with why. */
  keep: { cluster: string; why: string }[]
  /**
   * Every task runs on Slurm (the `infra` input, or each task's resources): SkyPilot accepts the idle
   * autodown there, but it is not a backstop to count on (see SLURM_AUTODOWN).
   */
  onSlurm: boolean
  /**
   * Every task runs where SkyPilot has no list price (Slurm, Kubernetes): its cost report would say
   * 0, so it is not asked, and the summary says "not reported by SkyPilot for <this>".
   */
  unpriced?: string
  /** max-duration / max-cost-usd, when set: the summary says how they are held. */
  caps?: Caps
}

/**
 * Why the remote backstop (`--down -i N`) is no backstop on Slurm. SkyPilot accepts autodown there
 * (the Slurm cloud lists AUTOSTOP, not AUTODOWN, as unsupported), but it is carried out by the
 * skylet daemon inside the allocation, which then cancels its own Slurm job from the compute node
 * (provision/slurm/instance.py terminate_instances: "This assumes that the compute node is able to
 * run scancel", marked TODO to validate). On the project's test cluster the skylet never started and
 * a cluster launched with `--down -i 1` was still UP six minutes later. The post step never relies on
 * it; a wall-clock limit of the allocation does hold on Slurm.
 */
export const SLURM_AUTODOWN =
  "On Slurm, SkyPilot's idle autodown (`--down -i N`) depends on its skylet cancelling the allocation from inside it, which SkyPilot itself marks unvalidated: do not count on it. The post step tears the cluster down itself; a cluster left running (`down: false`, detached) stays until `mode: down` or the janitor removes it."


export interface PlanTaskInput {
  name: string
  label: string
  path: string
  cwd: string
  cluster?: string
  envs: Record<string, string>
  clouds: string[]
  accelerators?: string
}

/** Default idle backstop when the cluster is to be torn down and no value was given. */
export const DEFAULT_IDLE_MINUTES = 10

export function resolveVersion(inputs: Inputs, serverVersion: string | undefined): { version: string; from: Plan['versionFrom'] } {
  if (inputs.skypilotVersion) return { version: inputs.skypilotVersion, from: 'input' }
  if (serverVersion) return { version: serverVersion, from: 'server' }
  return { version: PINNED_SKYPILOT_VERSION, from: 'pinned' }
}

/** Extras: as given; none with a remote server (it holds the cloud credentials); else what the task, inputs and credentials name. */
export function resolveExtras(inputs: Inputs, clouds: string[], credentialClouds: string[]): { extras: string[]; from: Plan['extrasFrom'] } {
  if (inputs.skypilotExtras) return { extras: inputs.skypilotExtras, from: 'input' }
  if (inputs.apiServer) return { extras: [], from: 'server' }
  const named = [...clouds, ...credentialClouds]
  const infraCloud = cloudOfInfra(inputs.resources.infra)
  if (infraCloud) named.push(infraCloud)
  return { extras: extrasForClouds(named), from: 'task' }
}

export function buildPlan(inputs: Inputs, tasks: PlanTaskInput[], resolved: { version: string; versionFrom: Plan['versionFrom']; extras: string[]; extrasFrom: Plan['extrasFrom'] }): Plan {
  const secretNames = Object.keys(inputs.secrets).sort()
  const idleMinutes = inputs.idleMinutes ?? (inputs.down && inputs.mode === 'launch' ? DEFAULT_IDLE_MINUTES : undefined)
  const planned = tasks.map((t): PlannedTask => {
    const taskArgs = { taskPath: t.path, envs: { ...inputs.envs, ...t.envs }, secretNames, resources: inputs.resources }
    let argv: string[]
    switch (inputs.mode) {
      case 'exec':
        argv = args.execArgs({ ...taskArgs, cluster: t.cluster!, detach: inputs.detach, jobName: inputs.jobName })
        break
      case 'managed':
        argv = args.managedLaunchArgs({ ...taskArgs, name: inputs.jobName ?? t.cluster!, jobRecovery: inputs.jobRecovery, detach: inputs.detach })
        break
      default:
        argv = args.launchArgs({ ...taskArgs, cluster: t.cluster!, down: inputs.down, idleMinutes, detach: inputs.detach, jobName: inputs.jobName })
    }
    return { name: t.name, label: t.label, cluster: inputs.mode === 'managed' ? undefined : t.cluster, taskPath: t.path, cwd: t.cwd, argv, accelerators: t.accelerators }
  })

  const infraCloud = cloudOfInfra(inputs.resources.infra)
  const only = (cloud: string): boolean => (infraCloud ? infraCloud === cloud : tasks.length > 0 && tasks.every((t) => t.clouds.length > 0 && t.clouds.every((c) => c === cloud)))
  const onSlurm = only('slurm')
  const unpriced = onSlurm ? 'Slurm' : only('kubernetes') ? 'Kubernetes' : undefined
  const clusters = planned.map((t) => t.cluster).filter((c): c is string => Boolean(c))
  if (inputs.mode === 'collect' && inputs.clusterName) clusters.push(inputs.clusterName)
  const keep: Plan['keep'] = []
  let teardown: string[] = []
  if (!inputs.down) for (const c of clusters) keep.push({ cluster: c, why: "down is false" })
  else if (inputs.detach) {
    const why = onSlurm ? "detached: collect it with mode: collect, or remove it with mode: down (on Slurm, SkyPilot's idle autodown is not to count on)" : 'detached: it tears itself down when the job ends (--down), or collect it with mode: collect'
    for (const c of clusters) keep.push({ cluster: c, why })
  }
  else teardown = clusters

  return {
    mode: inputs.mode,
    version: resolved.version,
    versionFrom: resolved.versionFrom,
    extras: resolved.extras,
    extrasFrom: resolved.extrasFrom,
    tasks: planned,
    down: inputs.down,
    detach: inputs.detach,
    idleMinutes,
    secretNames,
    teardown,
    keep,
    onSlurm,
    ...(unpriced ? { unpriced } : {}),
    ...(inputs.caps.maxDurationMs !== undefined || inputs.caps.maxCostUsd !== undefined ? { caps: inputs.caps } : {})
  }
}

/** Shell-like rendering for people to read (never executed): quotes what needs quoting. */
export function renderCommand(argv: string[]): string {
  return argv.map(quoteArg).join(' ')
}

function quoteArg(a: string): string {
  if (/^[\w@%+=:,./-]+$/.test(a)) return a
  // A raw newline would start a new log line, which the runner could read as a workflow command:
  // control characters are shown escaped, in bash's $'...' form.
  if (/[\x00-\x1f\x7f]/.test(a)) {
    const escaped = a.replace(/[\\']/g, (c) => `\\${c}`).replace(/[\x00-\x1f\x7f]/g, (c) => ({ '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    return `$'${escaped}'`
  }
  return `'${a.replace(/'/g, `'\\''`)}'`
}

/** Every command the action would run, in order, for dry-run. */
export function describePlan(plan: Plan, ctx: RunnerContext, tools: { uv?: string; python?: string }, serverUrl?: string): string[] {
  const lines: string[] = []
  const req: InstallRequest = { version: plan.version, extras: plan.extras, toolCache: ctx.toolCache, os: ctx.os, arch: ctx.arch }
  lines.push(`# SkyPilot ${plan.version} (${plan.versionFrom === 'server' ? "the API server's version" : plan.versionFrom === 'input' ? 'skypilot-version' : 'pinned default'}), package ${packageSpec(plan.version, plan.extras)}`)
  if (serverUrl) lines.push(`# API server: ${serverUrl}${plan.versionFrom === 'pinned' ? " (its version is read from /api/health at run time and wins over the pinned default)" : ''}`)
  lines.push(`# Install, unless sky ${plan.version} is on PATH or restored from ${venvLayout(req).dir} / the Actions cache:`)
  for (const cmd of installCommands(req, { uv: tools.uv, python: tools.python ?? 'python3' })) lines.push(renderCommand(cmd))
  for (const t of plan.tasks) {
    lines.push(`# ${t.name}: ${t.label} (cwd ${t.cwd})`)
    lines.push(renderCommand(['sky', ...t.argv]))
  }
  if (plan.secretNames.length > 0) lines.push(`# secrets ${plan.secretNames.join(', ')} reach sky through its environment, never its command line`)
  if (plan.teardown.length > 0) {
    lines.push('# post step (also after failure and cancellation):')
    lines.push(renderCommand(['sky', ...args.downArgs(plan.teardown)]))
    lines.push(`${renderCommand(['sky', ...args.statusArgs(plan.teardown)])}   # must be [] (retried, else the step fails)`)
  }
  for (const k of plan.keep) lines.push(`# ${k.cluster} is left running: ${k.why}. Remove it with: sky down -y ${k.cluster}`)
  return lines
}

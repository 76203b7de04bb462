import * as core from '../gh/core.js'
import { UserError } from '../errors.js'
import type { Inputs, TaskSource } from '../inputs.js'
import { fanoutClusterName, generateClusterName } from '../naming.js'
import type { PlanTaskInput } from '../plan.js'
import { resolveTask, type ResolvedTask } from '../task/source.js'
import { validateTask, type TaskProblem } from '../task/validate.js'
import type { RunnerContext } from '../context.js'

/** At most this many problems become annotations: the runner shows 10 errors per step. */
const MAX_ANNOTATIONS = 9

export interface PreparedTasks {
  tasks: PlanTaskInput[]
  /** Directories made under RUNNER_TEMP (git checkouts, inline YAML), removed by the post step. */
  tempDirs: string[]
}

/**
 * Resolves and validates every task before anything is installed or launched. Each problem is an
 * annotation on the task file and line; all of them fail the step in one message.
 */
export async function prepareTasks(inputs: Inputs, ctx: RunnerContext): Promise<PreparedTasks> {
  const baseName = inputs.clusterName ?? generateClusterName({ prefix: inputs.clusterPrefix, runId: ctx.runId, runAttempt: ctx.runAttempt, job: ctx.job, jobIndex: inputs.jobIndex })
  const items: { name?: string; source: TaskSource; envs: Record<string, string>; cluster: string }[] = inputs.tasks
    ? inputs.tasks.map((t, i) => ({ name: t.name, source: t.source, envs: t.envs, cluster: t.clusterName ?? fanoutClusterName(baseName, i + 1) }))
    : inputs.source
      ? [{ source: inputs.source, envs: {}, cluster: baseName }]
      : []

  const tempDirs: string[] = []
  const problems: string[] = []
  const annotations: { problem: TaskProblem; file?: string; prefix: string }[] = []
  const tasks: PlanTaskInput[] = []
  const clusters = new Set<string>()

  for (const item of items) {
    const prefix = inputs.tasks ? `task '${item.name}': ` : ''
    let resolved: ResolvedTask
    try {
      resolved = await resolveTask(item.source, ctx)
    } catch (error) {
      if (error instanceof UserError) {
        problems.push(...error.problems.map((p) => prefix + p))
        continue
      }
      throw error
    }
    if (resolved.tempDir) tempDirs.push(resolved.tempDir)
    const envs = { ...inputs.envs, ...item.envs }
    const { info, problems: taskProblems } = validateTask(resolved.text, { envs, secrets: inputs.secrets, allowPipeline: inputs.mode === 'managed' })
    for (const p of taskProblems) {
      const where = p.line ? ` (${resolved.annotationFile ?? resolved.label}:${p.line}${p.column ? `:${p.column}` : ''})` : ` (${resolved.annotationFile ?? resolved.label})`
      problems.push(`${prefix}${p.message}${p.message.includes(`line ${p.line}`) ? '' : where}`)
      annotations.push({ problem: p, file: resolved.annotationFile, prefix })
    }
    if (!info) continue
    if (clusters.has(item.cluster)) problems.push(`${prefix}cluster name '${item.cluster}' is used by two tasks; give each task its own 'cluster-name'.`)
    clusters.add(item.cluster)
    tasks.push({
      name: item.name ?? info.name ?? item.cluster,
      label: resolved.label,
      path: resolved.path,
      cwd: resolved.cwd,
      cluster: item.cluster,
      envs: item.envs,
      clouds: info.clouds,
      accelerators: info.accelerators
    })
  }

  if (problems.length > 0) {
    for (const a of annotations.slice(0, MAX_ANNOTATIONS)) {
      core.error(a.prefix + a.problem.message, { title: 'Invalid SkyPilot task', file: a.file, startLine: a.problem.line, startColumn: a.problem.column })
    }
    throw new UserError(problems)
  }
  return { tasks, tempDirs }
}

import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import * as core from '@actions/core'
import { capsStamp } from '../caps.js'
import { stampTask } from '../task/stamp.js'
import { UserError } from '../errors.js'
import type { Inputs, TaskSource } from '../inputs.js'
import { fanoutClusterName, generateClusterName } from '../naming.js'
import type { PlanTaskInput } from '../plan.js'
import { resolveTask, type ResolvedTask } from '../task/source.js'
import { validateTask, type TaskProblem } from '../task/validate.js'
import type { RunnerContext } from '../context.js'

/** At most this many problems become annotations: the runner shows 10 errors per step, and the failure message is one. */
export const MAX_ANNOTATIONS = 9

export interface PreparedTasks {
  tasks: PlanTaskInput[]
  /** Directories made under RUNNER_TEMP (git checkouts, inline YAML), removed by the post step. */
  tempDirs: string[]
}

/** The problems of one task YAML: those annotated on it, and those beyond the annotation limit. */
export interface TaskProblemGroup {
  /** How the failure message names the task: '' for the single task, "task 'lr-0.1'" in a fan-out. */
  prefix: string
  /** The file the annotations are on (relative to the workspace); absent for inline YAML or a git checkout. */
  file?: string
  annotated: TaskProblem[]
  /** Problems that could not be annotated (the runner's limit): the failure message lists them. */
  listed: TaskProblem[]
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`
const listText = (items: string[]): string => (items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`)

/** "at lines 4, 9 and 12", "at line 4 and on the file as a whole", "as a whole". */
function whereText(problems: TaskProblem[]): string {
  const lines = [...new Set(problems.flatMap((p) => (p.line ? [p.line] : [])))].sort((a, b) => a - b)
  const whole = problems.some((p) => !p.line)
  const at = lines.length === 0 ? '' : `at ${lines.length === 1 ? 'line' : 'lines'} ${listText(lines.map(String))}`
  if (!whole) return at
  return at ? `${at} and on the file as a whole` : 'as a whole'
}

function groupText(g: TaskProblemGroup): { head: string; items: string[] } {
  const total = g.annotated.length + g.listed.length
  const subject = g.prefix || 'The task'
  const where = g.file ? `on ${g.file}` : 'on the task YAML'
  const annotated = g.annotated.length > 0 ? `annotated ${where} ${whereText(g.annotated)}`.trim() : ''
  const items = g.listed.map((p) => `${p.message}${g.file && p.line ? ` (${g.file}:${p.line})` : ''}`)
  if (g.listed.length === 0) return { head: `${subject} has ${plural(total, 'problem')}, ${annotated}`, items }
  if (g.annotated.length === 0) return { head: `${subject} has ${plural(total, 'problem')}`, items }
  return { head: `${subject} has ${plural(total, 'problem')}: ${g.annotated.length} ${annotated}, and ${g.listed.length} more`, items }
}

/**
 * The step's failure message when tasks are invalid. Each annotated problem is already on its file
 * and line, so the message only counts them and points there; it lists in full only what has no
 * annotation (problems beyond the runner's limit, and problems outside any task YAML).
 */
export function failureMessage(groups: TaskProblemGroup[], others: string[]): string {
  const texts = groups.filter((g) => g.annotated.length + g.listed.length > 0).map(groupText)
  if (texts.length === 1 && others.length === 0) {
    const [t] = texts as [{ head: string; items: string[] }]
    if (t.items.length === 0) return `${t.head}. Fix ${t.head.includes(' 1 problem') ? 'it' : 'them'} there, then run again.`
    return `${t.head}:\n${t.items.map((i) => `- ${i}`).join('\n')}`
  }
  const entries = [...texts.map((t) => (t.items.length === 0 ? t.head : `${t.head}:\n${t.items.map((i) => `  - ${i}`).join('\n')}`)), ...others]
  if (entries.length === 1) return entries[0] as string
  return `${entries.length} problems:\n${entries.map((e) => `- ${e}`).join('\n')}`
}

/**
 * Resolves and validates every task before anything is installed or launched. Each problem of a
 * task YAML is an annotation on its file and line; the failure message counts them and points there.
 */
export async function prepareTasks(inputs: Inputs, ctx: RunnerContext): Promise<PreparedTasks> {
  const baseName = inputs.clusterName ?? generateClusterName({ prefix: inputs.clusterPrefix, runId: ctx.runId, runAttempt: ctx.runAttempt, job: ctx.job, jobIndex: inputs.jobIndex })
  const items: { name?: string; source: TaskSource; envs: Record<string, string>; cluster: string }[] = inputs.tasks
    ? inputs.tasks.map((t, i) => ({ name: t.name, source: t.source, envs: t.envs, cluster: t.clusterName ?? fanoutClusterName(baseName, i + 1) }))
    : inputs.source
      ? [{ source: inputs.source, envs: {}, cluster: baseName }]
      : []

  const tempDirs: string[] = []
  const others: string[] = []
  const groups: TaskProblemGroup[] = []
  const tasks: PlanTaskInput[] = []
  const clusters = new Set<string>()
  let annotationsLeft = MAX_ANNOTATIONS

  for (const item of items) {
    const prefix = inputs.tasks ? `task '${item.name}'` : ''
    let resolved: ResolvedTask
    try {
      resolved = await resolveTask(item.source, ctx)
    } catch (error) {
      if (error instanceof UserError) {
        others.push(...error.problems.map((p) => (prefix ? `${prefix}: ${p}` : p)))
        continue
      }
      throw error
    }
    if (resolved.tempDir) tempDirs.push(resolved.tempDir)
    const envs = { ...inputs.envs, ...item.envs }
    const { info, problems } = validateTask(resolved.text, {
      envs,
      secrets: inputs.secrets,
      allowPipeline: inputs.mode === 'managed',
      resources: inputs.resources,
      // The action passes -n for managed jobs always, otherwise when 'job-name' is set (src/plan.ts).
      nameGiven: inputs.mode === 'managed' || Boolean(inputs.jobName)
    })
    if (problems.length > 0) {
      const annotated = problems.slice(0, annotationsLeft)
      annotationsLeft -= annotated.length
      for (const p of annotated) {
        core.error(prefix ? `${prefix}: ${p.message}` : p.message, { title: 'Invalid SkyPilot task', file: resolved.annotationFile, startLine: p.line, startColumn: p.column })
      }
      groups.push({ prefix, ...(resolved.annotationFile ? { file: resolved.annotationFile } : {}), annotated, listed: problems.slice(annotated.length) })
    }
    if (!info) continue
    const taskPath = stamped(inputs, resolved.path, resolved.text, prefix, ctx, tempDirs)
    if (clusters.has(item.cluster)) others.push(`${prefix ? `${prefix}: ` : ''}cluster name '${item.cluster}' is used by two tasks; give each task its own 'cluster-name'.`)
    clusters.add(item.cluster)
    tasks.push({
      name: item.name ?? info.name ?? item.cluster,
      label: resolved.label,
      path: taskPath,
      cwd: resolved.cwd,
      cluster: item.cluster,
      envs: item.envs,
      clouds: info.clouds,
      accelerators: info.accelerators
    })
  }

  if (groups.length > 0 || others.length > 0) throw new UserError(failureMessage(groups, others))
  return { tasks, tempDirs }
}

/**
 * With a cap, the task SkyPilot runs carries it (src/task/stamp.ts): a copy with the caps written
 * in, next to the other files main writes (removed by the post step). Without one, or when the task
 * cannot be rewritten unchanged, the task's own file (the caps then hold while the runner watches).
 */
function stamped(inputs: Inputs, file: string, text: string, prefix: string, ctx: RunnerContext, tempDirs: string[]): string {
  const stamp = capsStamp(inputs.caps, inputs.mode)
  if (!stamp) return file
  const result = stampTask(text, stamp)
  if ('why' in result) {
    core.warning(`${prefix ? `${prefix}: ` : ''}the caps could not be written into the task (${result.why}): they hold while this runner watches the job, but not after it has gone (mode: collect, the janitor${inputs.mode === 'managed' ? '' : ", Slurm's time limit"}).`)
    return file
  }
  const dir = path.join(ctx.temp, 'skypilot-action', `capped-${randomUUID().slice(0, 8)}`)
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  tempDirs.push(dir)
  const out = path.join(dir, path.basename(file))
  fs.writeFileSync(out, result.text, { mode: 0o600 })
  return out
}

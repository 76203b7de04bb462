import * as core from '@actions/core'
import { statusIcon } from './lifecycle.js'
import { SLURM_AUTODOWN, type Plan } from './plan.js'

/** The job summary, rendered in one place from the plan and the results. Holds no secret value. */

export interface TaskResult {
  name: string
  cluster?: string
  jobId?: string
  status: string
  exitCode: number | null
  attempts: number
  durationMs: number
  recoveryCount?: number
  message?: string
  /** Values the job set with `skypilot-output NAME=VALUE` lines, for the names in `job-outputs`. */
  outputs?: Record<string, string>
  /** SkyPilot's cost estimate for the task's cluster, in US dollars (`sky cost-report`). */
  costUsd?: number
  /** Why there is no cost figure, when SkyPilot says so in a way worth showing (e.g. `not reported by SkyPilot for Slurm`). */
  costNote?: string
  /** The infra the cluster ran on, as SkyPilot names it (`Slurm`, `AWS`), when known. */
  infra?: string
  /** The server turned the launch away (auth, version): nothing was created. */
  refused?: boolean
}

export interface SummaryInput {
  title: string
  plan?: Plan
  task?: string
  results: TaskResult[]
  version?: string
  installSource?: string
  serverUrl?: string
  dashboardUrl?: string
  runUrl?: string
  dryRunCommands?: string[]
  notes?: string[]
}

export function cell(text: string | number | undefined | null): string {
  if (text === undefined || text === null || text === '') return '–'
  return String(text).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${s % 60}s`
  return `${Math.floor(m / 60)}h ${m % 60}m`
}

export function renderSummary(input: SummaryInput): string {
  const out: string[] = [`### ${input.title}`, '']
  const plan = input.plan
  const rows: [string, string][] = []
  if (input.task) rows.push(['Task', cell(input.task)])
  if (plan) {
    rows.push(['Mode', plan.mode + (plan.detach ? ' (detached)' : '')])
    const r = resourcesAsked(plan)
    if (r) rows.push(['Resources asked for', cell(r)])
    if (plan.caps) rows.push(['Caps', cell(capsHeld(plan))])
  }
  if (input.version) rows.push(['SkyPilot', `${input.version}${input.installSource ? ` (${input.installSource})` : ''}`])
  if (input.serverUrl) rows.push(['API server', cell(input.serverUrl)])
  if (input.dashboardUrl) rows.push(['Dashboard', `[open](${input.dashboardUrl})`])
  if (input.runUrl) rows.push(['Run', `[logs](${input.runUrl})`])
  if (rows.length > 0) {
    out.push('| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`), '')
  }

  if (input.results.length > 0) {
    out.push('| Task | Cluster | Job | Status | Exit | Attempts | Duration |', '|---|---|---|---|---|---|---|')
    for (const r of input.results) {
      const recovered = r.recoveryCount ? ` (recovered ${r.recoveryCount}×)` : ''
      out.push(`| ${cell(r.name)} | ${cell(r.cluster)} | ${cell(r.jobId)} | ${statusIcon(r.status)} ${r.status}${recovered} | ${cell(r.exitCode)} | ${r.attempts} | ${formatDuration(r.durationMs)} |`)
    }
    out.push('')
    const messages = input.results.filter((r) => r.message && r.status !== 'SUCCEEDED')
    for (const r of messages) out.push(`- **${cell(r.name)}**: ${cell(r.message)}`)
    if (messages.length > 0) out.push('')
  }

  if (plan) {
    if (plan.teardown.length > 0) out.push(`Teardown: the post step runs \`sky down -y ${plan.teardown.join(' ')}\` and checks with \`sky status\` that ${plan.teardown.length === 1 ? 'it is' : 'they are'} gone, also after failure or cancellation.`)
    for (const k of plan.keep) out.push(`⚠️ Cluster \`${k.cluster}\` is left running (${k.why}). Remove it with \`sky down -y ${k.cluster}\`.`)
    if (plan.onSlurm && plan.idleMinutes !== undefined && (plan.teardown.length > 0 || plan.keep.length > 0)) out.push(`⚠️ ${SLURM_AUTODOWN}`)
    if (plan.teardown.length > 0 || plan.keep.length > 0) out.push('')
  }
  for (const note of input.notes ?? []) out.push(note, '')
  if (input.dryRunCommands) out.push('<details><summary>Plan (dry run)</summary>', '', '```sh', ...input.dryRunCommands, '```', '</details>', '')
  return out.join('\n')
}

/** The caps, and what holds them beyond this runner's watch. */
function capsHeld(plan: Plan): string {
  const caps = plan.caps!
  const parts = [caps.maxDurationMs !== undefined ? `max-duration ${caps.maxDurationText ?? formatDuration(caps.maxDurationMs)}` : '', caps.maxCostUsd !== undefined ? `max-cost-usd $${caps.maxCostUsd.toFixed(2)}` : ''].filter(Boolean)
  const held = ['this runner, while it follows the job', 'the job\'s own record (mode: collect and the janitor hold it later)']
  if (caps.maxDurationMs !== undefined && plan.mode !== 'exec') held.push("the backend's time limit (Slurm's --time, a Kubernetes pod's deadline)")
  return `${parts.join(', ')}; held by ${held.join(', ')}`
}

function resourcesAsked(plan: Plan): string | undefined {
  const argv = plan.tasks[0]?.argv ?? []
  const parts: string[] = []
  for (const flag of ['--infra', '--gpus', '--num-nodes', '--cpus', '--memory', '--disk-size']) {
    const i = argv.indexOf(flag)
    if (i >= 0 && argv[i + 1]) parts.push(`${flag.slice(2)} ${argv[i + 1]}`)
  }
  if (argv.includes('--use-spot')) parts.push('spot')
  const acc = plan.tasks[0]?.accelerators
  if (acc && !argv.includes('--gpus')) parts.push(`accelerators ${acc} (task)`)
  return parts.length > 0 ? parts.join(', ') : 'as in the task'
}

/** Appends markdown to the step's job summary (the toolkit's, with its size check); nothing outside a runner. */
export async function writeSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  try {
    await core.summary.addRaw(markdown, !markdown.endsWith('\n')).write()
  } catch (error) {
    core.warning(`Could not write the job summary: ${(error as Error).message}`)
  } finally {
    core.summary.emptyBuffer()
  }
}

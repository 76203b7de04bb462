import type { RankBy } from '../inputs.js'
import type { TaskResult } from '../summary.js'
import { sumUsd } from './cost.js'
import { toResultEntry, type ResultEntry } from './entry.js'
import { bestOf, rankEntries, rankedEntries } from './rank.js'
import { COST_NOTE, formatUsd, renderChart, renderJobOutputs, renderLeaderboard, renderResultsTable } from './render.js'

/**
 * What a launch, exec, managed or collect step reports from its tasks' job outputs and costs, in
 * one place: the values of the outputs it sets and the markdown for its summary (and the
 * pull-request comment). The caller sets them (setOutputs) and writes them (writeSummary).
 */
export interface StepResults {
  /** The `results` output of a fan-out: every task's entry, ranked with `rank-by`. */
  entries?: ResultEntry[]
  /** The `best` output: the first ranked entry. */
  best?: ResultEntry
  /**
   * One task's job outputs: `job-outputs` as JSON, and each one also a step output of its own name.
   * Not for a fan-out (whose tasks each have theirs, in `results`).
   */
  jobOutputs?: Record<string, string>
  /** The `cost-usd` output: the sum over the tasks, only when every task has a figure. */
  costUsd?: number
  /** The results part of the summary: one run's outputs, or the leaderboard and its chart. */
  markdown: string
}

export interface StepResultsInput {
  results: readonly TaskResult[]
  /** The step ran `tasks` (even a list of one). */
  fanout: boolean
  /** The names in `job-outputs`. */
  declared: readonly string[]
  rankBy?: RankBy
}

export function stepResults(input: StepResultsInput): StepResults {
  const costUsd = sumUsd(input.results.map((r) => r.costUsd))

  if (!input.fanout) {
    const first = input.results[0]
    const jobOutputs = input.declared.length > 0 ? { ...(first?.outputs ?? {}) } : undefined
    const parts = [jobOutputs ? renderJobOutputs(jobOutputs, input.declared) : '']
    if (costUsd !== undefined) parts.push(`Cost (est.): ${formatUsd(costUsd)}. ${COST_NOTE}`, '')
    else if (first?.costNote) parts.push(`Cost: ${first.costNote}.`, '')
    return { jobOutputs, costUsd, markdown: parts.filter(Boolean).join('\n') }
  }

  const entries = input.results.map(toResultEntry)
  if (input.rankBy) {
    const ranked = rankEntries(entries, input.rankBy)
    return { entries: rankedEntries(ranked), best: bestOf(ranked), costUsd, markdown: [renderLeaderboard(ranked, input.rankBy), renderChart(ranked, input.rankBy), totalLine(costUsd, input.results)].join('\n') }
  }
  const anyOutputs = entries.some((e) => e.outputs && Object.keys(e.outputs).length > 0)
  const anyCost = entries.some((e) => e['cost-usd'] !== undefined)
  return { entries, costUsd, markdown: anyOutputs || anyCost ? [renderResultsTable(entries), totalLine(costUsd, input.results)].join('\n') : totalLine(costUsd, input.results) }
}

function totalLine(costUsd: number | undefined, results: readonly TaskResult[] = []): string {
  if (costUsd !== undefined) return `Total cost (est.): ${formatUsd(costUsd)}.\n`
  const notes = [...new Set(results.map((r) => r.costNote).filter(Boolean))]
  return notes.length > 0 ? `Cost: ${notes.join('; ')}.\n` : ''
}

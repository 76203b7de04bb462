import fs from 'node:fs'
import path from 'node:path'
import * as core from '@actions/core'
import type { RunnerContext } from '../context.js'
import { UserError } from '../errors.js'
import type { Inputs } from '../inputs.js'
import { writeSummary } from '../summary.js'
import { sumUsd } from '../results/cost.js'
import type { ResultEntry } from '../results/entry.js'
import { bestOf, describeRankBy, rankEntries, rankedEntries } from '../results/rank.js'
import { cellText, formatUsd, renderChart, renderLeaderboard, renderResultsTable } from '../results/render.js'
import { parseSavedResults } from '../results/saved.js'
import { setOutputs } from './outputs.js'
import { publish } from './publish.js'

/**
 * `mode: report`: no SkyPilot at all. Reads the results other steps or jobs saved (`results-path`,
 * the shapes in src/results/saved.ts), ranks them (`rank-by`), renders the leaderboard and chart
 * into the step summary (and the pull request with `comment-on-pr`), and sets `results` and `best`.
 * Any unreadable file fails the step with every problem listed: a leaderboard missing a cell
 * without saying so would mislead.
 */

/** Bounds on what is read: results files are small; a huge or endless match is a wrong glob. */
const MAX_FILES = 1000
const MAX_FILE_BYTES = 4 * 1024 * 1024

/**
 * Text from the saved files (names, values), made safe for one log line: a newline in it could
 * start a line of its own that the runner reads as a workflow command (`::add-mask::`, ...).
 */
function logText(text: string | undefined, max = 100): string {
  const flat = (text ?? '').replace(/[\p{Cc}\u2028\u2029]/gu, ' ')
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

/** Files the `results-path` lines match (globs; `!` lines exclude), relative to the workspace. */
export function matchResultFiles(patterns: readonly string[], workspace: string): { files: string[]; directories: string[] } {
  const include = patterns.filter((p) => !p.startsWith('!'))
  const exclude = new Set(patterns.filter((p) => p.startsWith('!')).flatMap((p) => fs.globSync(p.slice(1), { cwd: workspace }).map((f) => path.resolve(workspace, f))))
  const files = new Set<string>()
  const directories: string[] = []
  for (const pattern of include) {
    for (const match of fs.globSync(pattern, { cwd: workspace })) {
      const abs = path.resolve(workspace, match)
      if (exclude.has(abs)) continue
      const stat = fs.statSync(abs, { throwIfNoEntry: false })
      if (stat?.isFile()) files.add(abs)
      else if (stat?.isDirectory()) directories.push(match)
    }
  }
  return { files: [...files].sort(), directories }
}

export async function runReport(inputs: Inputs, ctx: RunnerContext): Promise<void> {
  const { files, directories } = matchResultFiles(inputs.resultsPath, ctx.workspace)
  const shown = (f: string) => path.relative(ctx.workspace, f) || f

  if (inputs.dryRun) {
    core.info(`Dry run: 'results-path' matches ${files.length} file${files.length === 1 ? '' : 's'} now; the report reads them when it runs.`)
    for (const f of files.slice(0, 50)) core.info(`  ${logText(shown(f), 200)}`)
    setOutputs({ status: 'DRY_RUN' })
    await writeSummary(
      [
        '### SkyPilot report: dry run',
        '',
        `Would read the results in ${inputs.resultsPath.map((p) => `\`${cellText(p)}\``).join(', ')} (${files.length} file${files.length === 1 ? '' : 's'} there now)${inputs.rankBy ? ` and rank them by ${cellText(describeRankBy(inputs.rankBy))}` : ''}.`,
        ''
      ].join('\n')
    )
    return
  }

  if (files.length === 0) {
    const dirs = directories.length > 0 ? ` ${directories.map((d) => `'${d}'`).join(', ')} ${directories.length === 1 ? 'is a directory' : 'are directories'}: match the files in it, e.g. '${directories[0]}/*.json'.` : ''
    throw new UserError(
      `'results-path' matches no file (${inputs.resultsPath.join(', ')}) under ${ctx.workspace}.${dirs} Check that the step that downloads the saved results (e.g. actions/download-artifact's 'path') puts them where 'results-path' looks.`
    )
  }
  if (files.length > MAX_FILES) throw new UserError(`'results-path' matches ${files.length} files, more than ${MAX_FILES}: narrow the pattern to the saved results.`)

  const problems: string[] = []
  const entries: ResultEntry[] = []
  const from = new Map<string, string>()
  for (const file of files) {
    const size = fs.statSync(file).size
    if (size > MAX_FILE_BYTES) {
      problems.push(`${shown(file)}: ${Math.round(size / 1024)} KiB, more than results hold (at most ${MAX_FILE_BYTES / 1024 / 1024} MiB): is it the right file?`)
      continue
    }
    const parsed = parseSavedResults(fs.readFileSync(file, 'utf8'), shown(file))
    problems.push(...parsed.problems)
    for (const e of parsed.entries) {
      const seen = from.get(e.name)
      if (seen) problems.push(`The name '${cellText(e.name, 60)}' is in ${seen} and in ${shown(file)}: give every saved result its own name.`)
      from.set(e.name, shown(file))
      entries.push(e)
    }
  }
  if (problems.length > 0) throw new UserError(problems)

  const ranked = inputs.rankBy ? rankEntries(entries, inputs.rankBy) : undefined
  const best = ranked ? bestOf(ranked) : undefined
  const results = ranked ? rankedEntries(ranked) : entries
  const failed = entries.filter((e) => e.status !== undefined && e.status !== 'SUCCEEDED')
  const total = sumUsd(entries.map((e) => e['cost-usd']))
  setOutputs({ status: failed.length === 0 ? 'SUCCEEDED' : 'FAILED', results, best, 'cost-usd': total })

  const lines = [`### SkyPilot results: ${entries.length} from ${files.length} file${files.length === 1 ? '' : 's'}`, '']
  if (inputs.rankBy && ranked) {
    if (best) lines.push(`Best by ${cellText(describeRankBy(inputs.rankBy))}: **${cellText(best.name, 60)}**, ${cellText(inputs.rankBy.name)} ${cellText(best.outputs?.[inputs.rankBy.name])}.`, '')
    else lines.push(`No result has a number for ${cellText(inputs.rankBy.name)} from a task that succeeded: nothing is ranked.`, '')
    lines.push(renderLeaderboard(ranked, inputs.rankBy), renderChart(ranked, inputs.rankBy))
  } else {
    lines.push(renderResultsTable(entries))
  }
  if (failed.length > 0) lines.push(`${failed.length} of ${entries.length} did not succeed.`, '')
  if (total !== undefined) lines.push(`Total cost (est.): ${formatUsd(total)}.`, '')
  const markdown = lines.join('\n')
  // The summary, and with comment-on-pr the pull request's comment of this step.
  await publish(markdown, inputs, ctx)

  core.info(`Read ${entries.length} result${entries.length === 1 ? '' : 's'} from ${files.length} file${files.length === 1 ? '' : 's'}.`)
  if (inputs.rankBy) {
    if (best) core.info(`Best by ${describeRankBy(inputs.rankBy)}: ${logText(best.name)} (${logText(best.outputs?.[inputs.rankBy.name])}).`)
    else core.warning(`'rank-by: ${inputs.rankBy.name}': no result has a number for it from a task that succeeded, so there is no 'best'. Check that the jobs print 'skypilot-output ${inputs.rankBy.name}=<number>' and declare it in 'job-outputs'.`)
  }
}

import type { RankBy } from '../inputs.js'
import { statusIcon } from '../lifecycle.js'
import type { ResultEntry } from './entry.js'
import { describeRankBy, type Ranked } from './rank.js'

/**
 * Markdown for job outputs: one run's table, the leaderboard of several, and a Mermaid
 * `xychart-beta` of the ranked metric (GitHub renders Mermaid in summaries and comments).
 * Every value comes from a job's log or a file: it is text here, never markup.
 */

/**
 * Characters GitHub's markdown reads as markup inside a table cell: code, emphasis, links, the
 * cell's end, strikethrough, math (`$`) and emoji (`:name:`). Escaped with a backslash.
 */
const MARKDOWN_PUNCTUATION = /[\\`*_{}[\]|~$:]/g

/**
 * A value as the text of one markdown table cell: one line, no `|` that ends the cell, no HTML, no
 * link, emphasis or code span, no @mention or #reference that would notify someone from a
 * pull-request comment. Long values are cut (the full value is in the outputs).
 */
export function cellText(value: string | number | undefined | null, max = 120): string {
  if (value === undefined || value === null || value === '') return '–'
  let text = String(value).replace(/\r\n|[\r\n\u2028\u2029]/g, ' ').replace(/\p{Cc}/gu, '')
  if (text.length > max) text = `${text.slice(0, max - 1)}…`
  return text
    .replace(MARKDOWN_PUNCTUATION, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    // A zero-width space keeps @someone and #123 from notifying or linking.
    .replace(/[@#]/g, (c) => `${c}\u200b`)
}

/** Dollars as people read them; SkyPilot's figures are estimates, and say so. */
export function formatUsd(usd: number | undefined): string {
  if (usd === undefined || !Number.isFinite(usd) || usd < 0) return '–'
  if (usd > 0 && usd < 0.01) return '< $0.01'
  return `$${usd.toFixed(2)}`
}

export const COST_NOTE =
  "Costs are SkyPilot's estimates (`sky cost-report`: the launched resources' list price × the time the cluster was up, up to the end of the job), not a bill."

/** One run's job outputs, as a table. */
export function renderJobOutputs(outputs: Record<string, string>, declared: readonly string[] = []): string {
  const names = [...new Set([...declared, ...Object.keys(outputs)])]
  if (names.length === 0) return ''
  const rows = names.map((n) => `| ${cellText(n)} | ${n in outputs ? cellText(outputs[n], 200) : '– (not set by the job)'} |`)
  return ['#### Job outputs', '', '| Output | Value |', '|---|---|', ...rows, ''].join('\n')
}


function statusCell(status: string | undefined): string {
  if (!status) return '–'
  return `${statusIcon(status) || '❌'} ${cellText(status)}`
}

/** Outputs other than the ranked one, `name: value` one per line of the cell. */
function otherOutputs(entry: ResultEntry, except?: string, limit = 6): string {
  const pairs = Object.entries(entry.outputs ?? {}).filter(([n]) => n !== except)
  if (pairs.length === 0) return '–'
  const shown = pairs.slice(0, limit).map(([n, v]) => `${cellText(n)}: ${cellText(v, 80)}`)
  if (pairs.length > limit) shown.push(`(+${pairs.length - limit} more)`)
  return shown.join('<br>')
}

/**
 * The leaderboard: rank, task, the ranked metric, other outputs, status and cost. Entries that are
 * not ranked come last with the reason in the metric's cell.
 */
export function renderLeaderboard(ranked: readonly Ranked[], by: RankBy): string {
  const anyCost = ranked.some((r) => r.entry['cost-usd'] !== undefined)
  const head = ['Rank', 'Task', cellText(by.name), 'Other outputs', 'Status', ...(anyCost ? ['Cost (est.)'] : [])]
  const rows = ranked.map((r) => {
    const raw = r.entry.outputs?.[by.name]
    const metric = r.unranked ? `${raw === undefined ? '' : `${cellText(raw, 40)} `}(not ranked: ${cellText(r.unranked)})` : cellText(raw, 40)
    const cells = [r.rank === undefined ? '–' : r.rank === 1 ? '🥇 1' : String(r.rank), cellText(r.entry.name, 60), metric, otherOutputs(r.entry, by.name), statusCell(r.entry.status)]
    if (anyCost) cells.push(formatUsd(r.entry['cost-usd']))
    return `| ${cells.join(' | ')} |`
  })
  const out = [`#### Leaderboard: ${cellText(describeRankBy(by))}`, '', `| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows, '']
  if (anyCost) out.push(COST_NOTE, '')
  return out.join('\n')
}

/** Several tasks' outputs without `rank-by`: one row per task in the order given. */
export function renderResultsTable(entries: readonly ResultEntry[]): string {
  if (entries.length === 0) return ''
  const anyCost = entries.some((e) => e['cost-usd'] !== undefined)
  const head = ['Task', 'Outputs', 'Status', ...(anyCost ? ['Cost (est.)'] : [])]
  const rows = entries.map((e) => {
    const cells = [cellText(e.name, 60), otherOutputs(e), statusCell(e.status)]
    if (anyCost) cells.push(formatUsd(e['cost-usd']))
    return `| ${cells.join(' | ')} |`
  })
  const out = ['#### Results', '', `| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows, '']
  if (anyCost) out.push(COST_NOTE, '')
  return out.join('\n')
}

/** Most bars a chart shows: beyond this a bar chart is unreadable; the table has them all. */
export const CHART_MAX_BARS = 30

/**
 * A task name as a Mermaid string: inside `"..."` Mermaid has no escape for `"`, and `#...;` is
 * an entity, so only plain characters are kept (others become `_`). The rank in front keeps two
 * names that end up alike apart.
 */
function chartLabel(rank: number, name: string): string {
  const plain = name.replace(/[^A-Za-z0-9 ._:+/=()-]/g, '_').slice(0, 32)
  return `"${rank}: ${plain}"`
}

/** A number as Mermaid's grammar reads it: plain decimal, never exponent notation. */
function chartNumber(value: number): string {
  return value.toLocaleString('en-US', { useGrouping: false, maximumSignificantDigits: 8 })
}

/** A bar chart of the ranked metric per task, best first, in a ```mermaid block. */
export function renderChart(ranked: readonly Ranked[], by: RankBy): string {
  const bars = ranked.filter((r) => r.rank !== undefined && r.value !== undefined).slice(0, CHART_MAX_BARS)
  if (bars.length === 0) return ''
  const values = bars.map((r) => r.value!)
  const lines = [
    '```mermaid',
    'xychart-beta',
    `    title "${describeRankBy(by)}"`,
    `    x-axis [${bars.map((r) => chartLabel(r.rank!, r.entry.name)).join(', ')}]`,
    `    y-axis "${by.name}" ${chartNumber(Math.min(0, ...values))} --> ${chartNumber(Math.max(0, ...values) || 1)}`,
    `    bar [${values.map(chartNumber).join(', ')}]`,
    '```',
    ''
  ]
  const more = ranked.filter((r) => r.rank !== undefined).length - bars.length
  if (more > 0) lines.push(`The chart shows the best ${bars.length}; the table has all ${bars.length + more}.`, '')
  return lines.join('\n')
}

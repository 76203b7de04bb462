import type { RankBy } from '../inputs.js'
import type { ResultEntry } from './entry.js'

/**
 * `rank-by`: entries ordered by one job output, compared as numbers. An entry without a usable
 * number, or whose task did not succeed (a metric printed before a crash is not a result), is
 * not ranked: it comes after the ranked ones, in its original order, with the reason.
 */

export interface Ranked<T extends ResultEntry = ResultEntry> {
  entry: T
  /** 1 is best; equal values share a rank (1, 1, 3). */
  rank?: number
  /** The metric as a number, when it is one. */
  value?: number
  /** Why the entry is not ranked. */
  unranked?: string
}

/** Plain decimal or scientific notation, as Python and most loggers print a float. */
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/

/** The metric of one entry as a number, or why it is not one. */
export function metricOf(entry: ResultEntry, name: string): { value: number } | { reason: string } {
  const raw = entry.outputs?.[name]
  if (raw === undefined) return { reason: `no ${name} output` }
  const text = raw.trim()
  if (text === '') return { reason: `${name} is empty` }
  if (!NUMBER.test(text)) return { reason: `${name} is not a number` }
  const value = Number(text)
  if (!Number.isFinite(value)) return { reason: `${name} is not a finite number` }
  return { value }
}

export function rankEntries<T extends ResultEntry>(entries: readonly T[], by: RankBy): Ranked<T>[] {
  const ranked: Ranked<T>[] = []
  const unranked: Ranked<T>[] = []
  for (const entry of entries) {
    const metric = metricOf(entry, by.name)
    if (entry.status !== undefined && entry.status !== 'SUCCEEDED') {
      unranked.push({ entry, value: 'value' in metric ? metric.value : undefined, unranked: `did not succeed (${entry.status})` })
    } else if ('reason' in metric) {
      unranked.push({ entry, unranked: metric.reason })
    } else {
      ranked.push({ entry, value: metric.value })
    }
  }
  const sign = by.order === 'desc' ? -1 : 1
  // Array.prototype.sort is stable: equal values keep the order the tasks were given in.
  ranked.sort((a, b) => sign * (a.value! - b.value!))
  ranked.forEach((r, i) => {
    const previous = ranked[i - 1]
    r.rank = previous && previous.value === r.value ? previous.rank : i + 1
  })
  return [...ranked, ...unranked]
}

/** The best entry (the first ranked one), with its rank, as the `best` output holds it. */
export function bestOf<T extends ResultEntry>(ranked: readonly Ranked<T>[]): T | undefined {
  const first = ranked.find((r) => r.rank !== undefined)
  return first ? { ...first.entry, rank: first.rank } : undefined
}

/** The entries in ranked order, each with its `rank` (the `results` output with `rank-by`). */
export function rankedEntries<T extends ResultEntry>(ranked: readonly Ranked<T>[]): T[] {
  return ranked.map((r) => (r.rank === undefined ? r.entry : { ...r.entry, rank: r.rank }))
}

/** `val_loss (lowest first)`: how the order is said in tables and charts. */
export function describeRankBy(by: RankBy): string {
  return `${by.name} (${by.order === 'desc' ? 'highest' : 'lowest'} first)`
}

import type { Sky } from '../sky/client.js'
import type { TaskResult } from '../summary.js'
import { CLOCK_SKEW_MS, costReportArgs } from '../sky/args.js'

export { CLOCK_SKEW_MS, costReportArgs }

/**
 * What a run's clusters cost, from SkyPilot's own figure: `sky cost-report -o json`
 * (sky/client/cli/command.py cost_report over sky/core.py cost_report). Each record is one
 * cluster's history entry (a name reused across launches has one record per launch):
 *
 *   { name, launched_at, duration, num_nodes, resources: {infra, instance_type, use_spot, ...},
 *     cluster_hash, usage_intervals: [[start, end|null], ...], status: UP|STOPPED|INIT|TERMINATED,
 *     total_cost, cloud, region, cpus, memory, accelerators, resources_str, ... }
 *
 * `total_cost` is list price x nodes x the seconds in `usage_intervals` (an open interval counts
 * up to the moment of the report). It is always an estimate: SkyPilot says it may be off for spot
 * and autostop clusters, and it knows nothing of discounts. When the price lookup fails, SkyPilot
 * logs a warning and reports 0.0, so a zero for a cluster that was up is no figure at all.
 *
 * Nothing rather than a wrong number: a cluster missing from the report, used before this step
 * (its cost would include that), or with a cost that is not a finite number gets no figure, and a
 * total exists only when every cluster has one.
 */

export interface CostRecord {
  name: string
  launched_at?: number | null
  duration?: number | null
  num_nodes?: number | null
  resources?: { use_spot?: boolean; infra?: string; instance_type?: string } | null
  cluster_hash?: string | null
  usage_intervals?: [number | null, number | null][] | null
  status?: string | null
  total_cost?: number | null
  /** The cloud's name as SkyPilot shows it (`Slurm`, `Kubernetes`, `AWS`). */
  cloud?: string | null
}

export interface ClusterCost {
  cluster: string
  /** US dollars, SkyPilot's estimate. */
  usd: number
  /** The cluster was still up when the report was made: the cost so far. */
  upAtReport: boolean
  spot: boolean
}

/** One cluster's cost, or why there is none. */
export type CostLookup =
  | { cluster: string; cost: ClusterCost; reason?: undefined }
  /** `unpriced`: SkyPilot reports no price for the infra (on-prem, Kubernetes, Slurm): say so, never 0. */
  | { cluster: string; cost?: undefined; reason: string; unpriced?: { infra: string } }


/** The JSON list `sky cost-report -o json` prints (anything the client printed before it is skipped). */
export function parseCostReport(stdout: string): CostRecord[] {
  const start = stdout.search(/^\[/m)
  if (start < 0) throw new Error(`sky cost-report -o json printed no list: ${stdout.trim().slice(0, 200) || '(nothing)'}`)
  const data = JSON.parse(stdout.slice(start)) as unknown
  if (!Array.isArray(data)) throw new Error('sky cost-report -o json printed no list.')
  return data.filter((r): r is CostRecord => typeof r === 'object' && r !== null && typeof (r as CostRecord).name === 'string')
}

/**
 * The cost of each cluster this step launched, from the report's records. `sinceMs` is when the
 * step started: records of the name whose use ended before it are earlier launches, not this run.
 */
export function clusterCosts(records: readonly CostRecord[], clusters: readonly string[], sinceMs: number): Map<string, CostLookup> {
  const since = (sinceMs - CLOCK_SKEW_MS) / 1000
  const out = new Map<string, CostLookup>()
  for (const cluster of clusters) {
    const mine = records.filter((r) => r.name === cluster && intervals(r).some(([, end]) => end === null || end >= since))
    if (mine.length === 0) {
      out.set(cluster, { cluster, reason: `${cluster} is not in SkyPilot's cost report` })
      continue
    }
    let usd = 0
    let reason: string | undefined
    for (const r of mine) {
      const cost = r.total_cost
      if (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0) reason = `SkyPilot gives no usable cost for ${cluster}`
      else if (intervals(r).some(([start]) => start !== null && start < since)) reason = `${cluster} was up before this step: its cost would include that`
      else if (cost === 0 && ((r.duration ?? 0) > 0 || UNPRICED_INFRA.has(String(r.cloud ?? '').toLowerCase()))) reason = `SkyPilot gives no price for ${cluster} (0 for a cluster that was up: its price lookup failed, or the infra has no list price, e.g. Kubernetes)`
      else usd += cost
      if (reason) break
    }
    const infra = mine.find((r) => typeof r.cloud === 'string' && r.cloud)?.cloud
    if (reason && infra && UNPRICED_INFRA.has(infra.toLowerCase()) && mine.every((r) => r.total_cost === 0)) out.set(cluster, { cluster, reason: `not reported by SkyPilot for ${infra}`, unpriced: { infra } })
    else if (reason) out.set(cluster, { cluster, reason })
    else {
      out.set(cluster, {
        cluster,
        cost: { cluster, usd, upAtReport: mine.some((r) => r.status !== 'TERMINATED' && r.status !== null && r.status !== undefined), spot: mine.some((r) => r.resources?.use_spot === true) }
      })
    }
  }
  return out
}

/** Infra that SkyPilot has no list price for: its cost report always says 0 there. */
const UNPRICED_INFRA = new Set(['slurm', 'kubernetes', 'ssh', 'local'])

function intervals(r: CostRecord): [number | null, number | null][] {
  return Array.isArray(r.usage_intervals) ? r.usage_intervals.filter((i) => Array.isArray(i) && i.length === 2) : []
}

/** The run's total: only when every cluster has a figure (a partial sum would be a wrong number). */
export function totalCost(lookups: Iterable<CostLookup>): number | undefined {
  return sumUsd([...lookups].map((l) => l.cost?.usd))
}

/** A sum of dollar figures, only when there is at least one and none is missing. */
export function sumUsd(values: readonly (number | undefined)[]): number | undefined {
  if (values.length === 0 || values.some((v) => v === undefined)) return undefined
  return roundUsd(values.reduce<number>((a, v) => a + v!, 0))
}

/** To a hundredth of a cent: finer digits of an estimate mean nothing. */
export function roundUsd(usd: number): number {
  return Math.round(usd * 10_000) / 10_000
}

/** Where a task's cost goes: its figure, or why SkyPilot gives none. */
export type CostFields = Pick<TaskResult, 'cluster' | 'costUsd' | 'costNote' | 'infra'>

/**
 * A task's cost from what SkyPilot's report gave: the figure in dollars, or, where SkyPilot reports
 * no price for the infra, that reason for the summary (never 0); any other reason is only logged.
 */
export function recordCost(r: CostFields, found: { usd: number } | { reason: string; unpriced?: string }, log: (line: string) => void): void {
  if ('usd' in found) r.costUsd = roundUsd(found.usd)
  else if (found.unpriced) Object.assign(r, { costNote: found.reason, infra: found.unpriced })
  else log(`No cost figure for ${r.cluster}: ${found.reason}.`)
}

/** What makes one figure rougher than SkyPilot's usual estimate, for the summary. */
export function costCaveats(cost: ClusterCost): string[] {
  const notes: string[] = []
  if (cost.upAtReport) notes.push('up to the end of the job (the teardown adds a little)')
  if (cost.spot) notes.push('spot: priced at the spot list price, which moves')
  return notes
}

/**
 * Asks SkyPilot once for every cluster's cost. Never throws: a failed call leaves every cluster
 * without a figure, with the reason (the caller logs it; a missing cost fails nothing).
 */
export async function fetchClusterCosts(sky: Pick<Sky, 'run'>, clusters: readonly string[], sinceMs: number): Promise<Map<string, CostLookup>> {
  const none = (reason: string) => new Map(clusters.map((c) => [c, { cluster: c, reason } as CostLookup]))
  if (clusters.length === 0) return new Map()
  try {
    const result = await sky.run(costReportArgs(sinceMs), 2 * 60_000)
    if (result.code !== 0) return none(`sky cost-report failed (exit ${result.code})`)
    return clusterCosts(parseCostReport(result.stdout), clusters, sinceMs)
  } catch (error) {
    return none(`sky cost-report gave no usable answer: ${error instanceof Error ? error.message : String(error)}`)
  }
}

/**
 * A cluster's hourly price as SkyPilot's cost report gives it: the cost of its open usage interval
 * over that interval's length (the report prices the time up to the moment it is made). Used to turn
 * a cost cap into a deadline with one report. Undefined price, with the reason, where there is none.
 */
export function hourlyPrice(records: readonly CostRecord[], cluster: string): { usdPerHour: number; usd: number } | { reason: string; unpriced?: string } {
  const open = records.filter((r) => r.name === cluster && intervals(r).some(([, end]) => end === null))
  const r = open.at(-1)
  if (!r) return { reason: `${cluster} is not up in SkyPilot's cost report` }
  const infra = typeof r.cloud === 'string' ? r.cloud : undefined
  const seconds = typeof r.duration === 'number' ? r.duration : 0
  const usd = r.total_cost
  if (typeof usd !== 'number' || !Number.isFinite(usd) || usd < 0) return { reason: `SkyPilot gives no usable cost for ${cluster}` }
  if (usd === 0 && infra && UNPRICED_INFRA.has(infra.toLowerCase())) return { reason: `not reported by SkyPilot for ${infra}`, unpriced: infra }
  // Zero seconds cost nothing at any price: no figure to divide.
  if (seconds <= 0) return { reason: `${cluster} has been up for no measurable time yet` }
  if (usd === 0) return { reason: `SkyPilot gives no price for ${cluster} (its price lookup gave 0)` }
  return { usdPerHour: (usd / seconds) * 3600, usd }
}

/** Each cluster's hourly price (or why there is none), from one cost report. Never throws. */
export async function fetchHourlyPrices(sky: Pick<Sky, 'run'>, clusters: readonly string[]): Promise<Map<string, ReturnType<typeof hourlyPrice>>> {
  const none = (reason: string) => new Map(clusters.map((c) => [c, { reason }]))
  if (clusters.length === 0) return new Map()
  try {
    const result = await sky.run(costReportArgs(Date.now()), 2 * 60_000)
    if (result.code !== 0) return none(`sky cost-report failed (exit ${result.code})`)
    const records = parseCostReport(result.stdout)
    return new Map(clusters.map((c) => [c, hourlyPrice(records, c)]))
  } catch (error) {
    return none(`sky cost-report gave no usable answer: ${error instanceof Error ? error.message : String(error)}`)
  }
}

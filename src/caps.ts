import type { CapsStamp } from './task/stamp.js'

/**
 * Caps that stop spend: the longest a job may run (`max-duration`) and the most it may cost
 * (`max-cost-usd`, SkyPilot's estimate: the launched resources' hourly price times the time they
 * have been up). Parsed here, before any `sky` call; enforced by run/cap-guard.ts while the runner
 * watches, and written into the task SkyPilot runs (task/stamp.ts) so that a later
 * `mode: collect`, the janitor and the backend itself hold them after the runner has gone.
 */

export interface Caps {
  /** Milliseconds from the job's submission. */
  maxDurationMs?: number
  /** The same as the input said it (`1h30m`), for messages. */
  maxDurationText?: string
  maxCostUsd?: number
}

/** Longer than any hosted or self-hosted run should be left to itself without a look. */
export const MAX_DURATION_LIMIT_MS = 30 * 24 * 3600_000
/** A cap above this is a typo rather than a budget. */
export const MAX_COST_LIMIT_USD = 1_000_000

const UNITS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 }

/**
 * `45m`, `2h`, `1h30m`, `1d`, `90s`, or a bare number of minutes (`30`, `1.5`). Returns the
 * milliseconds, or a problem that names the input and gives valid values.
 */
export function parseDuration(text: string): { ms: number } | { problem: string } {
  const s = text.trim().toLowerCase()
  const bad = { problem: `'max-duration' must be a duration such as 45m, 2h, 1h30m, 1d or 90s (a bare number is minutes), got '${s.slice(0, 40)}'.` }
  let ms: number
  if (/^\d+(\.\d+)?$/.test(s)) ms = Number(s) * UNITS.m!
  else {
    const parts = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(s)
    if (!parts || s === '') return bad
    ms = (['d', 'h', 'm', 's'] as const).reduce((sum, unit, i) => sum + Number(parts[i + 1] ?? 0) * UNITS[unit]!, 0)
  }
  if (!Number.isFinite(ms)) return bad
  if (ms <= 0) return { problem: `'max-duration' must be longer than 0 (e.g. 45m or 2h), got '${s}'.` }
  if (ms < 1000) return { problem: `'max-duration' must be at least 1s (e.g. 90s or 45m), got '${s}'.` }
  if (ms > MAX_DURATION_LIMIT_MS) return { problem: `'max-duration' must be at most 30 days (30d or 720h), got '${s}'.` }
  return { ms: Math.round(ms) }
}

/** `25`, `12.50`: US dollars, more than 0, at most two decimals. */
export function parseCost(text: string): { usd: number } | { problem: string } {
  const s = text.trim()
  if (!/^\d+(\.\d{1,2})?$/.test(s)) {
    const why = /^\d+\.\d{3,}$/.test(s) ? 'at most two decimals (cents)' : 'a number of US dollars'
    return { problem: `'max-cost-usd' must be ${why}, e.g. 25 or 12.50, got '${s.slice(0, 40)}'.` }
  }
  const usd = Number(s)
  if (!(usd > 0)) return { problem: `'max-cost-usd' must be more than 0 (e.g. 25 or 12.50), got '${s}'.` }
  if (usd > MAX_COST_LIMIT_USD) return { problem: `'max-cost-usd' must be at most ${MAX_COST_LIMIT_USD.toLocaleString('en-US')} (e.g. 25 or 12.50), got '${s}'.` }
  return { usd }
}

/** A duration as the messages say it: `20s`, `5m 12s`, `1h 30m`, `2d 3h`. */
export function formatSpan(ms: number): string {
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${s % 60 ? ` ${s % 60}s` : ''}`
  const h = Math.floor(m / 60)
  if (h < 48) return `${h}h${m % 60 ? ` ${m % 60}m` : ''}`
  return `${Math.floor(h / 24)}d${h % 24 ? ` ${h % 24}h` : ''}`
}

/**
 * How long before the job's submission the backend's clock starts: a Slurm allocation (and a pod)
 * exists while SkyPilot sets up its runtime, before the job is queued on it (about 45 s on the test
 * cluster; longer with file mounts or a large workdir). The backend's limit is the cap plus this, so
 * that it never ends a job before the runner's own watch would. SKYPILOT_ACTION_BACKEND_ALLOWANCE_S
 * changes it (the real tier sets it to 0 to see Slurm end an allocation within a test's time).
 */
export function backendAllowanceS(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env.SKYPILOT_ACTION_BACKEND_ALLOWANCE_S)
  return Number.isFinite(s) && s >= 0 ? s : 600
}

/** What is written into the task for the caps (src/task/stamp.ts), or nothing without a cap. */
export function capsStamp(caps: Caps, mode: string, env: NodeJS.ProcessEnv = process.env): CapsStamp | undefined {
  if (caps.maxDurationMs === undefined && caps.maxCostUsd === undefined) return undefined
  if (mode !== 'launch' && mode !== 'exec' && mode !== 'managed') return undefined
  const durationS = caps.maxDurationMs !== undefined ? Math.ceil(caps.maxDurationMs / 1000) : undefined
  // exec runs on a cluster that exists: only the job's own record can carry the cap.
  const backend = durationS !== undefined && mode !== 'exec' ? durationS + backendAllowanceS(env) : undefined
  return {
    ...(durationS !== undefined ? { maxDurationS: durationS } : {}),
    ...(caps.maxCostUsd !== undefined ? { maxCostUsd: caps.maxCostUsd } : {}),
    ...(backend !== undefined ? { slurmTimeMinutes: Math.ceil(backend / 60), podDeadlineS: backend } : {})
  }
}

import { formatSpan, type Caps } from '../caps.js'
import { CAPS_METADATA_KEY } from '../task/stamp.js'
import { costCapReachedAt } from './cap-guard.js'

/**
 * A job's cap as SkyPilot keeps it with the job (src/task/stamp.ts wrote it into the task's
 * `_metadata`; `sky queue -o json` and `sky jobs queue -v -o json` show it as the record's
 * `metadata`), or as a later step's own input says it. Its deadline counts from SkyPilot's own
 * submission time of the job, so it is the same whichever step or workflow reads it.
 */
export interface RecordedCap {
  maxDurationS?: number
  maxCostUsd?: number
  /** Epoch ms the duration cap ends, when the job's submission time is known. */
  deadline?: number
  /** The cap as messages say it. */
  limit?: string
  from: 'input' | 'record'
}

export function recordedCap(metadata: unknown, submittedAt: number | null | undefined, input: Caps): RecordedCap | undefined {
  const stamped = metadata && typeof metadata === 'object' ? (metadata as Record<string, unknown>)[CAPS_METADATA_KEY] : undefined
  const rec = stamped && typeof stamped === 'object' ? (stamped as Record<string, unknown>) : {}
  const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined)
  const fromInput = input.maxDurationMs !== undefined || input.maxCostUsd !== undefined
  const maxDurationS = input.maxDurationMs !== undefined ? input.maxDurationMs / 1000 : num(rec.max_duration_s)
  const maxCostUsd = input.maxCostUsd ?? num(rec.max_cost_usd)
  if (maxDurationS === undefined && maxCostUsd === undefined) return undefined
  const deadline = maxDurationS !== undefined && typeof submittedAt === 'number' ? (submittedAt + maxDurationS) * 1000 : undefined
  const limit = maxDurationS !== undefined ? (input.maxDurationText ?? formatSpan(maxDurationS * 1000)) : undefined
  return { ...(maxDurationS !== undefined ? { maxDurationS } : {}), ...(maxCostUsd !== undefined ? { maxCostUsd } : {}), ...(deadline !== undefined ? { deadline } : {}), ...(limit ? { limit } : {}), from: fromInput ? 'input' : 'record' }
}

/**
 * The recorded cost cap as a deadline, from the price SkyPilot gives the job's cluster now (`usd`
 * run up so far, `usdPerHour` from here on), and the duration cap's deadline: whichever comes
 * first, with the cap that sets it, as messages name it.
 */
export function earliestDeadline(cap: RecordedCap, price: { usd: number; usdPerHour: number } | undefined, now = Date.now()): { at: number; which: 'max-duration' | 'max-cost-usd'; limit: string } | undefined {
  const out: { at: number; which: 'max-duration' | 'max-cost-usd'; limit: string }[] = []
  if (cap.deadline !== undefined) out.push({ at: cap.deadline, which: 'max-duration', limit: cap.limit! })
  const costAt = cap.maxCostUsd !== undefined && price ? costCapReachedAt(cap.maxCostUsd, price, now) : undefined
  if (costAt !== undefined) out.push({ at: costAt, which: 'max-cost-usd', limit: `$${cap.maxCostUsd!.toFixed(2)}` })
  return out.sort((a, b) => a.at - b.at)[0]
}

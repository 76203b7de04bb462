import * as core from '@actions/core'
import { UserError } from './errors.js'
import type { ApiServer } from './inputs.js'

/**
 * A service-account token's expiry, checked before any `sky` call: a token that has expired, or
 * that expires under a run, would otherwise fail the run late (a refused launch, or a post step
 * that can no longer tear its cluster down).
 *
 * The token is `sky_` and a JWT (base64url header.payload.signature). Its payload is read without
 * verifying it (the secret is the server's): the expiry only decides what to say, and the server
 * still judges the token. Nothing here ever puts the token, or any part of it, in a message.
 */

const DAY_MS = 24 * 60 * 60 * 1000
/** Warn this long before a token expires: time enough to rotate it before a run fails on it. */
export const EXPIRY_WARNING_MS = 7 * DAY_MS
/** The largest time a Date can hold: an `exp` past it is no date we can name. */
const MAX_DATE_MS = 8.64e15

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/

/**
 * When the token expires (epoch ms), from its `exp` claim (RFC 7519), or `e`, the short name
 * SkyPilot wrote alone before it wrote `exp` too (its server still checks `e` for such tokens).
 * Undefined when the token has no expiry, or is not a JWT: then nothing is known, nothing is said.
 */
export function tokenExpiry(token: string): number | undefined {
  if (!token.startsWith('sky_')) return undefined
  const parts = token.slice('sky_'.length).split('.')
  if (parts.length !== 3 || !parts.every((p) => BASE64URL.test(p))) return undefined
  const header = decodeJson(parts[0]!)
  const payload = decodeJson(parts[1]!)
  if (!header || !payload) return undefined
  const seconds = payload.exp ?? payload.e
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return undefined
  const ms = seconds * 1000
  return Math.abs(ms) <= MAX_DATE_MS ? ms : undefined
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** ISO 8601, UTC, to the second (a JWT's `exp` has no finer grain). */
export function isoUtc(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

const HOW_TO_RENEW =
  "Rotate it, or create a new one, in the API server's dashboard (Users → Service accounts) or through its REST API " +
  "(POST /users/service-account-tokens/rotate, or /users/service-account-tokens), then update the secret the 'service-account-token' input reads."

export interface TokenCheck {
  /** The token has expired: the run must not start. */
  expired?: string
  warnings: string[]
}

/**
 * What to say about a token's expiry at `nowMs`, for a run that may last up to `runMs` (undefined:
 * unknown). Expired: an error. Expiring before the run could end: a warning that the run may outlive
 * its credentials. Otherwise expiring within 7 days: a warning to renew it. One message at most.
 */
export function tokenWarnings(token: string, nowMs: number, runMs?: number): TokenCheck {
  const expiry = tokenExpiry(token)
  if (expiry === undefined) return { warnings: [] }
  const when = isoUtc(expiry)
  if (expiry <= nowMs) {
    return { expired: `The 'service-account-token' expired at ${when}: the API server refuses it. ${HOW_TO_RENEW}`, warnings: [] }
  }
  if (runMs !== undefined && expiry < nowMs + runMs) {
    return {
      warnings: [
        `The 'service-account-token' expires at ${when} (in ${span(expiry - nowMs)}), before this run could end (it may take up to ${span(runMs)}): the run may outlive its credentials, and following the job or tearing the cluster down would then fail. ${HOW_TO_RENEW}`
      ]
    }
  }
  if (expiry - nowMs < EXPIRY_WARNING_MS) {
    return { warnings: [`The 'service-account-token' expires at ${when} (in ${span(expiry - nowMs)}): runs after that will fail. ${HOW_TO_RENEW}`] }
  }
  return { warnings: [] }
}

/** A duration as people say it: "3 days", "5 hours", "12 minutes" (rounded down, at least 1 minute). */
function span(ms: number): string {
  const [n, unit] = ms >= 2 * DAY_MS ? [Math.floor(ms / DAY_MS), 'day'] : ms >= 2 * 3600_000 ? [Math.floor(ms / 3600_000), 'hour'] : [Math.max(1, Math.floor(ms / 60_000)), 'minute']
  return `${n} ${unit}${n === 1 ? '' : 's'}`
}

/**
 * The one place the token's expiry is checked: every mode that talks to the server calls it before
 * probing it (and so before any `sky` call). Throws a UserError for an expired token; warns otherwise.
 * `now` is the clock (injectable for tests); `runMs` how long the run may take, when known.
 */
export function checkTokenExpiry(server: ApiServer | undefined, now: () => number = Date.now, runMs?: number): void {
  if (!server?.token) return
  const check = tokenWarnings(server.token, now(), runMs)
  if (check.expired) throw new UserError(check.expired)
  for (const warning of check.warnings) core.warning(warning)
}

import { afterEach, describe, expect, it, vi } from 'vitest'
import { UserError } from '../../src/errors.js'
import { checkTokenExpiry, isoUtc, tokenExpiry, tokenWarnings } from '../../src/token.js'

/**
 * Tokens shaped as a SkyPilot server mints them (`sky_` + an HS256 JWT whose payload has i, t, u,
 * k, y and, with an expiry, both e and exp: seen on a real server), with a fake signature.
 */
const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
const HEADER = { alg: 'HS256', typ: 'JWT' }
function token(claims: Record<string, unknown>, header: unknown = HEADER): string {
  return `sky_${b64(header)}.${b64({ i: 'sky', t: 1_796_000_000, u: 'sa-0123456789abcdef', k: 'tok0123456789abc', y: 'sa', ...claims })}.fake-signature_Zx9`
}

const NOW = Date.parse('2026-12-04T12:00:00Z')
const DAY = 24 * 3600_000
const at = (ms: number) => ({ e: Math.floor(ms / 1000), exp: Math.floor(ms / 1000) })

afterEach(() => {
  vi.restoreAllMocks()
})

describe('tokenExpiry: the exp claim of the payload, unverified', () => {
  it('reads exp (seconds) as epoch ms', () => {
    expect(tokenExpiry(token(at(NOW + DAY)))).toBe(NOW + DAY)
  })

  it("reads e, SkyPilot's older short name, when exp is absent; exp wins when both are there", () => {
    expect(tokenExpiry(token({ e: 1_800_000_000 }))).toBe(1_800_000_000_000)
    expect(tokenExpiry(token({ e: 1, exp: 1_800_000_000 }))).toBe(1_800_000_000_000)
  })

  it.each([
    ['no expiry (a token minted with 0 days)', token({})],
    ['exp not a number', token({ exp: '1800000000' })],
    ['exp beyond any date', token({ exp: 1e300 })],
    ['not sky_', token(at(NOW)).slice(4)],
    ['two parts', 'sky_abc.def'],
    ['an opaque token', 'sky_0123456789abcdef_secret_token'],
    ['a payload that is not JSON', `sky_${b64(HEADER)}.${b64('not json')}.sig`],
    ['a payload that is a list', `sky_${b64(HEADER)}.${b64([1, 2])}.sig`],
    ['a header that is not JSON', `sky_${b64('{')}.${b64(at(NOW))}.sig`],
    ['characters outside base64url', `sky_${b64(HEADER)}.${b64(at(NOW))}+/.sig`]
  ])('%s: unknown', (_, t) => {
    expect(tokenExpiry(t)).toBeUndefined()
  })
})

describe('tokenWarnings: what to say, and never the token', () => {
  const expired = token(at(NOW - 3600_000))

  it('an expired token: an error with when it expired (ISO, UTC) and how to make a new one', () => {
    const check = tokenWarnings(expired, NOW)
    expect(check.warnings).toEqual([])
    expect(check.expired).toContain('expired at 2026-12-04T11:00:00Z')
    expect(check.expired).toMatch(/dashboard \(Users → Service accounts\)/)
    expect(check.expired).toMatch(/REST API/)
    expect(check.expired).toMatch(/update the secret the 'service-account-token' input reads/)
  })

  it('a token that expires at this very second has expired', () => {
    expect(tokenWarnings(token(at(NOW)), NOW).expired).toMatch(/expired at 2026-12-04T12:00:00Z/)
  })

  it('expiring within 7 days: a warning with the date', () => {
    const check = tokenWarnings(token(at(NOW + 3 * DAY)), NOW)
    expect(check.expired).toBeUndefined()
    expect(check.warnings).toHaveLength(1)
    expect(check.warnings[0]).toMatch(/expires at 2026-12-07T12:00:00Z \(in 3 days\)/)
    expect(tokenWarnings(token(at(NOW + 5 * 3600_000)), NOW).warnings[0]).toMatch(/\(in 5 hours\)/)
    expect(tokenWarnings(token(at(NOW + 60_000)), NOW).warnings[0]).toMatch(/\(in 1 minute\)/)
  })

  it('expiring in 7 days or later, no run length: nothing to say', () => {
    expect(tokenWarnings(token(at(NOW + 7 * DAY)), NOW)).toEqual({ warnings: [] })
    expect(tokenWarnings(token(at(NOW + 365 * DAY)), NOW)).toEqual({ warnings: [] })
  })

  it('expiring before the run could end: the run may outlive its credentials', () => {
    const check = tokenWarnings(token(at(NOW + 30 * DAY)), NOW, 31 * DAY)
    expect(check.expired).toBeUndefined()
    expect(check.warnings).toHaveLength(1)
    expect(check.warnings[0]).toMatch(/expires at 2027-01-03T12:00:00Z \(in 30 days\), before this run could end \(it may take up to 31 days\): the run may outlive its credentials/)
    // Within 7 days and before the run's end: the more telling warning only.
    const soon = tokenWarnings(token(at(NOW + 2 * 3600_000)), NOW, 6 * 3600_000)
    expect(soon.warnings).toHaveLength(1)
    expect(soon.warnings[0]).toMatch(/in 2 hours\), before this run could end \(it may take up to 6 hours\)/)
  })

  it('a run that ends before the token expires: no run warning (the 7-day one still applies)', () => {
    expect(tokenWarnings(token(at(NOW + 30 * DAY)), NOW, 29 * DAY)).toEqual({ warnings: [] })
    expect(tokenWarnings(token(at(NOW + 3 * DAY)), NOW, 3600_000).warnings[0]).toMatch(/runs after that will fail/)
  })

  it('no exp, or not a JWT: no error, no warning', () => {
    expect(tokenWarnings(token({}), NOW, 365 * DAY)).toEqual({ warnings: [] })
    expect(tokenWarnings('sky_0123456789abcdef_secret_token', NOW, 365 * DAY)).toEqual({ warnings: [] })
  })

  it('no message holds the token, nor any part of it', () => {
    const cases = [tokenWarnings(expired, NOW), tokenWarnings(token(at(NOW + DAY)), NOW), tokenWarnings(token(at(NOW + 9 * DAY)), NOW, 10 * DAY)]
    const messages = cases.flatMap((c) => [c.expired ?? '', ...c.warnings]).join('\n')
    expect(messages.split('\n').filter(Boolean)).toHaveLength(3)
    for (const t of [expired, token(at(NOW + DAY)), token(at(NOW + 9 * DAY))]) {
      for (const part of t.slice(4).split('.')) expect(messages).not.toContain(part)
      expect(messages).not.toContain(t.slice(0, 12))
    }
    expect(messages).not.toMatch(/sa-0123456789abcdef|tok0123456789abc|fake-signature/)
  })

  it('isoUtc: to the second, in UTC', () => {
    expect(isoUtc(Date.UTC(2027, 0, 2, 3, 4, 5))).toBe('2027-01-02T03:04:05Z')
  })
})

describe('checkTokenExpiry: the one check every mode that uses the server makes', () => {
  const server = (t?: string) => ({ endpoint: 'https://sky.example.com', token: t })
  const clock = () => NOW

  it('throws a UserError for an expired token', () => {
    expect(() => checkTokenExpiry(server(token(at(NOW - DAY))), clock)).toThrow(UserError)
    expect(() => checkTokenExpiry(server(token(at(NOW - DAY))), clock)).toThrow(/expired at 2026-12-03T12:00:00Z/)
  })

  it('warns (an annotation) for one that expires soon, with the date', () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
    checkTokenExpiry(server(token(at(NOW + 2 * DAY))), clock)
    const lines = out.mock.calls.map((c) => String(c[0]))
    expect(lines.filter((l) => l.startsWith('::warning::'))).toHaveLength(1)
    expect(lines.join('')).toContain('2026-12-06T12:00:00Z')
  })

  it('passes the run length on', () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
    checkTokenExpiry(server(token(at(NOW + 30 * DAY))), clock, 31 * DAY)
    expect(out.mock.calls.map((c) => String(c[0])).join('')).toMatch(/::warning::.*may outlive its credentials/)
  })

  it('says nothing without a server, without a token, or for a token of no known expiry', () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
    checkTokenExpiry(undefined, clock)
    checkTokenExpiry(server(), clock)
    checkTokenExpiry(server('sky_opaque'), clock)
    checkTokenExpiry(server(token({})), clock)
    expect(out).not.toHaveBeenCalled()
  })

  it('reads the real clock by default', () => {
    expect(() => checkTokenExpiry(server(token(at(Date.now() - 60_000))))).toThrow(/expired at/)
  })
})

// The client's side of the API server: which server, its health check, the auth check of the
// first real request, and what a dropped log stream ends in. As the real client does, URLs are
// printed as the endpoint was given, credentials included (sky/server/common.py get_server_url).
import { ctx, fail } from './context.mjs'
import { API_VERSION, DEFAULT_VERSION, LOCAL_SERVER_URL, minorOf, userName } from './common.mjs'
import { msg } from './wordings.mjs'

export function clientVersion() {
  return String(ctx.cfg.version ?? DEFAULT_VERSION)
}

export function endpoint() {
  return process.env.SKYPILOT_API_SERVER_ENDPOINT || null
}

/** The server URL as the real client prints it: the endpoint verbatim (minus a trailing slash). */
export function serverUrl() {
  const e = endpoint()
  return e ? e.replace(/\/+$/, '') : LOCAL_SERVER_URL
}

// server/common.py AVAILABLE_LOCAL_API_SERVER_URLS: only these count as the local server.
const LOCAL_URLS = ['0.0.0.0', 'localhost', '127.0.0.1'].map((h) => `http://${h}:46580`)

/** A dashboard link, which the real CLI prints only for a server that is not the local one. */
export function dashboardUrl(page) {
  return LOCAL_URLS.includes(serverUrl()) ? null : `${serverUrl()}/dashboard/${page}`
}

function authHeaders(u) {
  const headers = { 'X-SkyPilot-API-Version': String(API_VERSION), 'X-SkyPilot-Version': clientVersion() }
  const token = process.env.SKYPILOT_SERVICE_ACCOUNT_TOKEN
  if (token) headers.Authorization = `Bearer ${token}`
  else if (u.username) {
    const cred = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`
    headers.Authorization = `Basic ${Buffer.from(cred).toString('base64')}`
  }
  return headers
}

function bareBase(e) {
  const u = new URL(e)
  const headers = authHeaders(u)
  u.username = ''
  u.password = ''
  return { base: u.toString().replace(/\/$/, ''), headers }
}

/** GET /api/health as the real client does (server/common.py get_api_server_status). */
export async function probeHealth() {
  const e = endpoint()
  if (!e) {
    // The local server the real client would start: always there, same version unless
    // config.server.version says otherwise.
    const s = ctx.cfg.server ?? {}
    if (s.localUnreachable) return { kind: 'unreachable' }
    return {
      kind: 'ok',
      body: {
        status: 'healthy',
        api_version: String(API_VERSION),
        version: String(s.version ?? clientVersion()),
        commit: 'fake',
        user: null
      }
    }
  }
  let target
  try {
    target = bareBase(e)
  } catch {
    return { kind: 'unreachable' }
  }
  // get_api_server_status_response: 2.5 s per try, three tries on a timeout; a refused
  // connection is final at once.
  let res
  for (let attempt = 1; !res; attempt++) {
    try {
      res = await fetch(`${target.base}/api/health`, { headers: target.headers, signal: AbortSignal.timeout(2500) })
    } catch (e) {
      if (e?.name !== 'TimeoutError' || attempt >= 3) return { kind: 'unreachable' }
    }
  }
  let body = null
  try {
    body = await res.json()
  } catch {}
  if (res.status === 401) return { kind: 'auth' }
  if (res.status === 400 && body?.error === 'version_mismatch') return { kind: 'mismatch', message: body.message ?? '' }
  if (res.status === 200 && body?.status === 'needs_auth') return { kind: 'auth' }
  if (res.status !== 200 || !body || !body.version || !body.api_version || !body.commit) return { kind: 'unreachable' }
  return { kind: 'ok', body }
}

function versionProblem(serverVersion) {
  const c = minorOf(clientVersion())
  const s = minorOf(serverVersion)
  if (!c || !s) return null
  const gap = (s[0] - c[0]) * 1000 + (s[1] - c[1])
  if (gap > 1) return msg.clientTooOld({ clientVersion: clientVersion(), serverVersion, minVersion: `${s[0]}.${s[1] - 1}.0` })
  if (gap < -1) return msg.serverTooOld({ clientVersion: clientVersion(), serverVersion, minVersion: `${c[0]}.${c[1] - 1}.0` })
  return null
}

/** The check every server-bound command makes first (check_server_healthy_or_start). */
export async function ensureServer() {
  const h = await probeHealth()
  const url = serverUrl()
  if (h.kind === 'unreachable') throw fail(1, msg.connection(url))
  if (h.kind === 'auth') throw fail(1, msg.auth(url))
  if (h.kind === 'mismatch') throw fail(1, `sky.exceptions.APIVersionMismatchError: ${h.message}`)
  const problem = versionProblem(h.body.version)
  if (problem) throw fail(1, `sky.exceptions.APIVersionMismatchError: ${problem}`)
  return h.body
}

/**
 * The command's first real request. /api/health lets anyone in (a wrong password gets 200 and
 * `user: null`); the requests after it do not: a refused one ends the real CLI in an uncaught
 * HTTPError naming the request's URL. Only a 401 counts; a server that answers nothing else
 * (a health-only stand-in) is taken as accepting.
 */
export async function firstRequest(path) {
  const e = endpoint()
  if (!e) return
  let target
  try {
    target = bareBase(e)
  } catch {
    return
  }
  let status
  try {
    const res = await fetch(`${target.base}${path}`, { method: 'POST', headers: target.headers, signal: AbortSignal.timeout(10_000) })
    status = res.status
    await res.arrayBuffer().catch(() => {})
  } catch {
    return
  }
  if (status === 401) throw fail(1, msg.httpError(401, `${serverUrl()}${path}`))
}

/** What the client dies on when a log stream drops and the server stays gone. */
export function streamDroppedError(pathAndQuery) {
  let host = '127.0.0.1'
  let port = 46580
  try {
    const u = new URL(serverUrl())
    host = u.hostname
    port = Number(u.port || (u.protocol === 'https:' ? 443 : 80))
  } catch {}
  return fail(1, msg.streamDropped(host, port, pathAndQuery))
}

export function localUser() {
  return userName(ctx.cfg)
}

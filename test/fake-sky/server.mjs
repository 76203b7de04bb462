// A stand-in for a remote SkyPilot API server: GET /api/health as the real one answers it, and
// the real server's auth on every other path (the double's client sends its first request
// there, so a refused one fails as the real CLI does). Usable from tests or as a script:
//   node test/fake-sky/server.mjs --port 0 --version 0.14.1 --token sky_abc
//
// What the real server does (sky/server/server.py, held by test/real/contract.test.ts):
// - /api/health lets everyone in: no or wrong basic-auth credentials get 200 and `user: null`;
//   a `Bearer sky_...` token that is not valid gets 401; a valid one names its service account.
// - every other path needs the credentials: 401 without them.
// - behind an auth proxy (oauth2-proxy), an anonymous health check without a client's API-version
//   header gets only {"status": "healthy"}; one from a client gets `needs_auth`.
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import { API_VERSION, DEFAULT_VERSION, minorOf } from './lib/common.mjs'
import { msg } from './lib/wordings.mjs'

/**
 * @param {{version?: string, token?: string|null, port?: number, host?: string,
 *          basicAuth?: {user: string, pass: string}|null, user?: {name: string, id: string},
 *          apiVersion?: number, authProxy?: boolean}} [options]
 */
export function startFakeServer(options = {}) {
  const {
    version = DEFAULT_VERSION,
    token = null,
    port = 0,
    host = '127.0.0.1',
    basicAuth = null,
    user = { name: 'ci-bot', id: 'sa-fake' },
    apiVersion = API_VERSION,
    authProxy = false
  } = options
  const requests = []
  // Service-account tokens alone do not close the server: only basic auth or a proxy in front does.
  const authRequired = Boolean(basicAuth || authProxy)
  const server = http.createServer((req, res) => {
    const auth = req.headers.authorization ?? null
    requests.push({ method: req.method, url: req.url, authorization: auth, headers: { ...req.headers }, time: Date.now() })
    const send = (status, body, extra = {}) => {
      res.writeHead(status, {
        'content-type': 'application/json',
        'X-SkyPilot-API-Version': String(apiVersion),
        'X-SkyPilot-Version': version,
        ...extra
      })
      res.end(JSON.stringify(body))
    }
    // Who the credentials name: a user record, null (anonymous), or a refusal.
    let who = null
    if (auth?.startsWith('Bearer ') && auth.slice(7).startsWith('sky_')) {
      if (!token || auth.slice(7) !== token) return send(401, { detail: 'Invalid or expired service account token' })
      who = { id: user.id, name: user.name, password: null, created_at: null, user_type: null, preferred_workspace: null }
    } else if (auth?.startsWith('Basic ') && basicAuth) {
      const decoded = Buffer.from(auth.slice(6), 'base64').toString()
      const i = decoded.indexOf(':')
      if (decoded.slice(0, i) === basicAuth.user && decoded.slice(i + 1) === basicAuth.pass) {
        who = { id: 'fake-basic-user', name: basicAuth.user, password: '$apr1$fake$hash', created_at: 1700000000, user_type: 'basic', preferred_workspace: null }
      }
    }
    const path = req.url.split('?')[0]
    if (path !== '/api/health') {
      // A request that needs the caller to be known. A stand-in with no auth accepts everything.
      req.resume()
      if (authRequired && !who) return send(401, { detail: 'Authentication required' }, { 'WWW-Authenticate': 'Basic realm="SkyPilot"' })
      return send(200, {})
    }
    const client = req.headers['x-skypilot-api-version']
    if (authProxy && !who && client === undefined) return send(200, { status: 'healthy' })
    // The server side of the compatibility check (APIVersionMiddleware).
    const clientVersion = req.headers['x-skypilot-version']
    const c = minorOf(clientVersion)
    const s = minorOf(version)
    if (c && s && (s[0] - c[0]) * 1000 + (s[1] - c[1]) > 1) {
      return send(400, {
        error: 'version_mismatch',
        message: msg.clientTooOld({ clientVersion, serverVersion: version, minVersion: `${s[0]}.${s[1] - 1}.0` })
      })
    }
    send(200, {
      status: authProxy && !who ? 'needs_auth' : 'healthy',
      api_version: String(apiVersion),
      version,
      version_on_disk: version,
      commit: 'fake',
      basic_auth_enabled: Boolean(basicAuth),
      user: who,
      service_account_token_enabled: Boolean(token),
      ingress_basic_auth_enabled: false,
      latest_version: null,
      external_proxy_auth_enabled: authProxy,
      telemetry_enabled: false
    })
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      const addr = server.address()
      resolve({
        url: `http://${host}:${addr.port}`,
        port: addr.port,
        requests,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections?.()
            server.close(() => r())
          })
      })
    })
  })
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2)
  const get = (name) => {
    const i = args.indexOf(`--${name}`)
    return i === -1 ? undefined : args[i + 1]
  }
  const s = await startFakeServer({
    port: Number(get('port') ?? 0),
    version: get('version') ?? DEFAULT_VERSION,
    token: get('token') ?? null
  })
  process.stdout.write(`${s.url}\n`)
  const stop = () => s.close().then(() => process.exit(0))
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

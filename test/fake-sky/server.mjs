// A tiny stand-in for a remote SkyPilot API server: only what the client's
// health check (GET /api/health) needs. Usable from tests or as a script:
//   node test/fake-sky/server.mjs --port 0 --version 0.14.1 --token sky_abc
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import { API_VERSION, DEFAULT_VERSION, minorOf, msg } from './lib/common.mjs'

/**
 * @param {{version?: string, token?: string|null, port?: number, host?: string,
 *          basicAuth?: {user: string, pass: string}|null, user?: {name: string, id: string},
 *          apiVersion?: number}} [options]
 */
export function startFakeServer(options = {}) {
  const {
    version = DEFAULT_VERSION,
    token = null,
    port = 0,
    host = '127.0.0.1',
    basicAuth = null,
    user = { name: 'ci-bot', id: 'sa-fake' },
    apiVersion = API_VERSION
  } = options
  const requests = []
  const server = http.createServer((req, res) => {
    const auth = req.headers.authorization ?? null
    requests.push({ method: req.method, url: req.url, authorization: auth, headers: { ...req.headers }, time: Date.now() })
    const send = (status, body) => {
      res.writeHead(status, {
        'content-type': 'application/json',
        'X-SkyPilot-API-Version': String(apiVersion),
        'X-SkyPilot-Version': version
      })
      res.end(JSON.stringify(body))
    }
    if (!req.url.startsWith('/api/health')) return send(404, { detail: 'Not Found' })
    let authenticated = !token && !basicAuth
    if (auth?.startsWith('Bearer ')) {
      if (!token || auth.slice(7) !== token) return send(401, { detail: 'Invalid or expired service account token' })
      authenticated = true
    } else if (auth?.startsWith('Basic ')) {
      const [u, p] = Buffer.from(auth.slice(6), 'base64').toString().split(':')
      if (!basicAuth || u !== basicAuth.user || p !== basicAuth.pass) return send(401, { detail: 'Invalid credentials' })
      authenticated = true
    }
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
    const body = { status: 'healthy', api_version: String(apiVersion), version, commit: 'fake', basic_auth_enabled: Boolean(basicAuth) }
    if (authenticated) body.user = user
    send(200, body)
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

import { execFile, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The real SkyPilot for the real tier, from one of two places:
 * - `tool`: the shared real-sky tool (a chroot built offline; its `bin/sky`, `server`, and our batch
 *   checks run through `lib/chroot-python`), found at REAL_SKY_TOOL or next to the project;
 * - `pip`: a virtualenv where `pip install skypilot==<pinned>` put it (the project's GitHub CI, which
 *   reaches PyPI): REAL_SKY_VENV names it. Servers are then started here with SkyPilot's own module.
 * Everything the tests need goes through this one interface, so the tests never care which.
 */

const HERE = path.dirname(fileURLToPath(import.meta.url))
export const ROOT = path.resolve(HERE, '..', '..', '..')
const PY = path.join(HERE, '..', 'py')

export interface ServerOptions {
  port: number
  consolidation?: boolean
  /** USER:PASSWORD: basic auth, reached through an auth proxy on port+1 (the endpoint returned). */
  basicAuth?: string
  serviceAccounts?: boolean
  /** Keep the state of the last run on this port (its users, tokens, clusters, jobs): a restart. */
  keepState?: boolean
}

export interface CliItem {
  argv: string[]
  cwd: string
  env?: Record<string, string>
}
export interface CliVerdict {
  ok: boolean
  command?: string
  exit?: number
  error?: string
}
export interface YamlItem {
  file: string
  env?: [string, string][]
  secrets?: [string, string][]
}
export interface YamlVerdict {
  ok: boolean
  kind?: string
  error?: string
}

export interface RealSky {
  kind: 'tool' | 'pip'
  /** The `sky` executable, and the folder to put first on PATH so that the action finds it. */
  sky: string
  binDir: string
  /** Parses each command line with the real click CLI, in one Python process. */
  checkCli(items: CliItem[]): Promise<CliVerdict[]>
  /** Loads each task YAML with SkyPilot's own loader, in one Python process. */
  validate(items: YamlItem[]): Promise<YamlVerdict[]>
  /** Starts a real API server; resolves with the endpoint to use (the auth proxy with basic auth). */
  startServer(o: ServerOptions): Promise<string>
  stopServer(port: number): Promise<void>
  /** A service-account token from a server started with basicAuth and serviceAccounts. */
  token(port: number, name: string): Promise<string>
  /** The tool's own one-line commands, to cross-check the batch scripts (tool only). */
  toolCheckCli?(argv: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }>
  toolValidate?(file: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }>
}

export function run(command: string, args: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: o.cwd ?? ROOT, env: o.env ?? process.env, timeout: o.timeoutMs ?? 300_000, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : null) : 0
      resolve({ code, stdout, stderr })
    })
  })
}

/** Where the real-sky tool is: REAL_SKY_TOOL, else next to the project, else the workplace's shared folder. */
export function findTool(): string | undefined {
  const candidates = [process.env.REAL_SKY_TOOL, path.join(ROOT, '..', 'shared', 'tools', 'real-sky'), '/work/shared/tools/real-sky']
  return candidates.find((c): c is string => Boolean(c) && fs.existsSync(path.join(c!, 'bin', 'sky')))
}

let cached: RealSky | undefined

export function realSky(): RealSky {
  if (cached) return cached
  const venv = process.env.REAL_SKY_VENV
  if (venv) return (cached = pipSky(venv))
  const tool = findTool()
  if (!tool) throw new Error('No real SkyPilot: set REAL_SKY_TOOL to the real-sky folder (its setup must have run), or REAL_SKY_VENV to a virtualenv with skypilot installed.')
  return (cached = toolSky(tool))
}

/** Writes the batch to a file under /tmp (visible inside the chroot) and reads one JSON line per item. */
async function batch<T>(python: string[], script: string, items: unknown[], env: NodeJS.ProcessEnv): Promise<T[]> {
  if (items.length === 0) return []
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'real-batch-'))
  const file = path.join(dir, 'items.json')
  fs.writeFileSync(file, JSON.stringify(items))
  // The script must be visible inside the chroot too: /tmp is.
  const copy = path.join(dir, path.basename(script))
  fs.copyFileSync(script, copy)
  try {
    const [command, ...pre] = python
    // From the project root: real-sky makes the cwd's top-level folder (and /tmp) visible inside.
    const r = await run(command!, [...pre, copy, file], { cwd: ROOT, env, timeoutMs: 600_000 })
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('{'))
    if (lines.length !== items.length) throw new Error(`${path.basename(script)} answered ${lines.length} of ${items.length} items (exit ${r.code}): ${r.stderr.slice(-2000)}`)
    return lines.map((l) => JSON.parse(l) as T)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

function cliEnv(items: CliItem[]): NodeJS.ProcessEnv {
  // Bare `--secret NAME` is checked against the local environment: the chroot gets those names.
  const names = new Set(items.flatMap((i) => Object.keys(i.env ?? {})))
  return { ...process.env, REAL_SKY_PASS_ENV: [...names].join(' ') }
}

function toolSky(tool: string): RealSky {
  const python = [path.join(HERE, 'chroot-python')]
  const env = { ...process.env, REAL_SKY_TOOL: tool }
  const server = path.join(tool, 'server')
  return {
    kind: 'tool',
    sky: path.join(tool, 'bin', 'sky'),
    binDir: path.join(tool, 'bin'),
    checkCli: (items) => batch(python, path.join(PY, 'check_many.py'), items, { ...cliEnv(items), REAL_SKY_TOOL: tool }),
    validate: (items) => batch(python, path.join(PY, 'validate_many.py'), items, env),
    async startServer(o) {
      const args = ['start', '--port', String(o.port)]
      if (o.consolidation) args.push('--consolidation')
      if (o.basicAuth) args.push('--basic-auth', o.basicAuth)
      if (o.serviceAccounts) args.push('--service-accounts')
      if (o.keepState) args.push('--keep-state')
      const r = await run(server, args, { timeoutMs: 300_000 })
      if (r.code !== 0) throw new Error(`real-sky server ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.slice(-3000)}`)
      return r.stdout.trim().split('\n').at(-1)!
    },
    async stopServer(port) {
      await run(server, ['stop', '--port', String(port)], { timeoutMs: 120_000 })
    },
    async token(port, name) {
      const r = await run(server, ['token', name, '--port', String(port)])
      if (r.code !== 0) throw new Error(`real-sky server token failed: ${r.stderr}`)
      return r.stdout.trim()
    },
    toolCheckCli: (argv, cwd) => run(path.join(tool, 'check-cli'), argv, { cwd }),
    toolValidate: (file, cwd) => run(path.join(tool, 'validate-yaml'), [file], { cwd })
  }
}

/**
 * SkyPilot from pip: the same servers as real-sky's `server` makes, started here. A server's state
 * (its HOME) is a folder of its own; consolidation-mode controllers call the server at SkyPilot's
 * default port, so that server must listen on 46580; basic auth is skipped for loopback requests
 * without proxy headers, so an auth server is reached through a proxy on port+1 that adds
 * X-Forwarded-For, as an ingress would.
 */
function pipSky(venv: string): RealSky {
  const bin = path.join(venv, 'bin')
  const python = path.join(bin, 'python')
  const servers = new Map<number, { child: ChildProcess; proxy?: http.Server; home: string }>()
  const auths = new Map<number, string>()
  const stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'real-sky-pip-'))
  return {
    kind: 'pip',
    sky: path.join(bin, 'sky'),
    binDir: bin,
    checkCli: (items) => batch([python], path.join(PY, 'check_many.py'), items, cliEnv(items)),
    validate: (items) => batch([python], path.join(PY, 'validate_many.py'), items, process.env),
    async startServer(o) {
      if (o.consolidation && o.port !== 46580) throw new Error('a consolidation-mode server must listen on 46580 (its controllers call the default endpoint)')
      const home = path.join(stateRoot, `server-${o.port}`)
      fs.mkdirSync(path.join(home, '.sky'), { recursive: true })
      if (o.consolidation) fs.writeFileSync(path.join(home, '.sky', 'config.yaml'), 'jobs:\n  controller:\n    consolidation_mode: true\n')
      const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, SKYPILOT_DISABLE_USAGE_COLLECTION: '1' }
      for (const k of Object.keys(env)) if (k.startsWith('SKYPILOT_API_SERVER')) delete env[k]
      if (o.basicAuth) {
        const [user, password] = [o.basicAuth.slice(0, o.basicAuth.indexOf(':')), o.basicAuth.slice(o.basicAuth.indexOf(':') + 1)]
        const hash = (await run('openssl', ['passwd', '-apr1', password])).stdout.trim()
        env.ENABLE_BASIC_AUTH = 'true'
        env.SKYPILOT_INITIAL_BASIC_AUTH = `${user}:${hash}`
        auths.set(o.port, o.basicAuth)
      }
      if (o.serviceAccounts) env.ENABLE_SERVICE_ACCOUNTS = 'true'
      const log = fs.openSync(path.join(home, 'server.log'), 'a')
      const child = spawn(python, ['-m', 'sky.server.server', '--host', '127.0.0.1', '--port', String(o.port)], { env, detached: true, stdio: ['ignore', log, log] })
      child.unref()
      const direct = `http://127.0.0.1:${o.port}`
      await waitHealthy(direct, 180_000, () => fs.readFileSync(path.join(home, 'server.log'), 'utf8').slice(-3000))
      let proxy: http.Server | undefined
      if (o.basicAuth) proxy = await forwardingProxy(o.port + 1, o.port)
      servers.set(o.port, { child, proxy, home })
      return proxy ? `http://127.0.0.1:${o.port + 1}` : direct
    },
    async stopServer(port) {
      const s = servers.get(port)
      if (!s) return
      servers.delete(port)
      s.proxy?.close()
      try {
        process.kill(-s.child.pid!, 'SIGTERM')
      } catch {
        // gone already
      }
      await new Promise((r) => setTimeout(r, 2000))
      try {
        process.kill(-s.child.pid!, 'SIGKILL')
      } catch {
        // gone
      }
    },
    async token(port, name) {
      const auth = auths.get(port)
      if (!auth) throw new Error(`server ${port} has no basic auth`)
      const response = await fetch(`http://127.0.0.1:${port + 1}/users/service-account-tokens`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from(auth).toString('base64')}` },
        body: JSON.stringify({ token_name: name, expires_in_days: 0 })
      })
      const body = (await response.json()) as { token?: string }
      if (!body.token) throw new Error(`no token: HTTP ${response.status} ${JSON.stringify(body)}`)
      return body.token
    }
  }
}

async function waitHealthy(url: string, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(5000) })
      if (r.ok && ((await r.json()) as { status?: string }).status === 'healthy') return
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error(`the API server at ${url} did not become healthy: ${log()}`)
}

/** A loopback proxy that adds X-Forwarded-For, so that the server applies its auth. */
function forwardingProxy(port: number, target: number): Promise<http.Server> {
  const proxy = http.createServer((req, res) => {
    const upstream = http.request({ host: '127.0.0.1', port: target, path: req.url, method: req.method, headers: { ...req.headers, 'x-forwarded-for': '127.0.0.2' } }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers)
      up.pipe(res)
    })
    upstream.on('error', () => {
      res.writeHead(502)
      res.end()
    })
    req.pipe(upstream)
  })
  return new Promise((resolve) => proxy.listen(port, '127.0.0.1', () => resolve(proxy)))
}

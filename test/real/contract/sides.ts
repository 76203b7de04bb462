import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import type { Socket } from 'node:net'
import { createFakeSky, startFakeServer, type FakeServer, type FakeSky, type FakeSkyConfig } from '../../fake-sky/index.mjs'
import { sky } from '../lib/servers.js'

/**
 * The two sides of the contract: the real CLI against a real server, and the double against its
 * mirror (a fake server and a double configured as that real environment is: no cloud, a jobs
 * controller or consolidation mode). Every command runs in one folder holding the same task files.
 */

export interface Result {
  code: number | null
  stdout: string
  stderr: string
}

/** At most `n` real `sky` processes at once: each is seconds of Python start-up on 2 cores. */
export function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0
  const queue: (() => void)[] = []
  return async (fn) => {
    if (active >= n) await new Promise<void>((r) => queue.push(r))
    active++
    try {
      return await fn()
    } finally {
      active--
      queue.shift()?.()
    }
  }
}

export const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'contract-'))
export const TASK = 't.yaml'
export const PIPELINE = 'p.yaml'
fs.writeFileSync(path.join(workdir, TASK), 'name: t\nresources: {cpus: 2+}\nrun: echo hi\n')

export function writePipeline(name: string): void {
  fs.writeFileSync(path.join(workdir, PIPELINE), `name: ${name}\n---\nname: a\nrun: echo a\n---\nname: b\nrun: echo b\n`)
}

const slot = limiter(Number(process.env.CONTRACT_CONCURRENCY ?? 4))

/** The real CLI against `endpoint` (or the SKYPILOT_API_SERVER_ENDPOINT a call gives). */
export function realSide(endpoint: string, env: NodeJS.ProcessEnv = {}) {
  return (args: string[], extra: NodeJS.ProcessEnv = {}): Promise<Result> =>
    slot(() => sky(args, extra.SKYPILOT_API_SERVER_ENDPOINT ?? endpoint, { cwd: workdir, env: { ...env, ...extra } }))
}

export interface DoubleSide {
  fake: FakeSky
  server: FakeServer
  endpoint: string
  run(args: string[], extra?: NodeJS.ProcessEnv): Promise<Result>
}

/** A double and the fake server it talks to; `endpoint` may carry credentials. */
export async function doubleSide(config: FakeSkyConfig, server: Parameters<typeof startFakeServer>[0], endpointOf: (url: string) => string = (u) => u, env: NodeJS.ProcessEnv = {}): Promise<DoubleSide> {
  const s = await startFakeServer(server)
  const fake = createFakeSky({ config })
  const endpoint = endpointOf(s.url)
  return {
    fake,
    server: s,
    endpoint,
    run: async (args, extra = {}) => {
      const r = await fake.run(args, { cwd: workdir, env: { SKYPILOT_API_SERVER_ENDPOINT: endpoint, ...env, ...extra }, timeoutMs: 120_000 })
      return { code: r.code, stdout: r.stdout, stderr: r.stderr }
    }
  }
}

export function hostPort(url: string): string {
  const u = new URL(url)
  return `${u.hostname}:${u.port}`
}

/** A port nothing listens on: bound, then released. */
export async function closedPort(): Promise<number> {
  const s = http.createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as { port: number }).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

/**
 * A server that answers /api/health as the real one (its very body and version headers, copied),
 * accepts one POST /logs, streams `lines`, then vanishes (connection reset, port closed): what the
 * real client meets when its API server restarts under a log stream.
 */
export async function droppingServer(realEndpoint: string, lines: string): Promise<{ url: string; streamed: Promise<void>; close(): void }> {
  // The server sends its version headers only to a client that names its own API version.
  const probe = (await (await fetch(`${realEndpoint}/api/health`)).json()) as { api_version: string; version: string }
  const health = await fetch(`${realEndpoint}/api/health`, { headers: { 'X-SkyPilot-API-Version': probe.api_version, 'X-SkyPilot-Version': probe.version } })
  const body = await health.text()
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  for (const [k, v] of health.headers) if (k.startsWith('x-skypilot') && k !== 'x-skypilot-request-id') headers[k] = v
  const sockets = new Set<Socket>()
  let markStreamed!: () => void
  const streamed = new Promise<void>((r) => (markStreamed = r))
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/api/health')) {
      res.writeHead(200, headers)
      res.end(body)
      return
    }
    if (req.method === 'POST' && req.url?.startsWith('/logs')) {
      req.resume()
      res.writeHead(200, { 'content-type': 'text/plain', 'X-Skypilot-Request-ID': '00000000-0000-4000-8000-000000000000', ...headers })
      res.write(lines)
      // Let the client print what it got, then drop: the socket reset, the port closed.
      setTimeout(() => {
        server.close()
        for (const s of sockets) s.destroy()
        markStreamed()
      }, 1500)
      return
    }
    res.writeHead(404, headers)
    res.end('{"detail":"Not Found"}')
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  return {
    url: `http://127.0.0.1:${port}`,
    streamed,
    close: () => {
      server.close()
      for (const s of sockets) s.destroy()
    }
  }
}

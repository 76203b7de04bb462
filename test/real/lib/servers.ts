import { inject } from 'vitest'
import { realSky, run, type RealSky } from './real-sky.js'

/**
 * The real API servers of the real tier, started once for the whole run (global-setup.ts) and
 * shared by every test file: a plain one, one in consolidation mode (managed jobs run next to it and
 * get ids), and one with basic auth and service accounts behind an auth proxy.
 */

export interface Servers {
  plain: string
  consolidation: string
  /** The auth proxy: credentials are checked here. */
  auth: string
  /** The same auth server without the proxy: loopback requests skip basic auth. */
  authDirect: string
  authUser: string
  authPassword: string
  /** A service-account token of the auth server, and its account's name. */
  token: string
  tokenName: string
}

/**
 * The real jobs' servers, each with the Slurm cluster attached: the jobs server (consolidation mode,
 * auth proxy endpoint, a service-account token), and one a scenario restarts mid-job. Without an
 * endpoint, bin/sky's own local server is used (the cluster is in its HOME too).
 */
export interface JobsEnv {
  endpoint: string
  token: string
  restart: { endpoint: string; token: string; port: number }
}

declare module 'vitest' {
  export interface ProvidedContext {
    servers: Servers
    /** Where real jobs run (the Slurm cluster), or null when the real-sky-slurm tool is not here. */
    jobs: JobsEnv | null
  }
}

export function ports(kind: RealSky['kind']): { plain: number; consolidation: number; auth: number; jobs: number; restart: number } {
  const base = Number(process.env.REAL_TIER_PORT_BASE ?? 46710)
  // With pip, a consolidation-mode server must be on SkyPilot's default port (its controllers call
  // it there); the tool gives each server a network namespace of its own, so any port will do.
  return { plain: base, consolidation: kind === 'pip' ? 46580 : base + 10, auth: base + 20, jobs: base + 30, restart: base + 40 }
}

export function servers(): Servers {
  return inject('servers')
}

/** The real-jobs tier's servers (test/real/jobs-*.test.ts). */
export function jobsEnv(): JobsEnv | null {
  return inject('jobs')
}

/** `sky` against one server, as a user would run it (no credentials unless given). */
export function sky(args: string[], endpoint: string, o: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, ...o.env, SKYPILOT_API_SERVER_ENDPOINT: endpoint }
  return run(realSky().sky, args, { env, cwd: o.cwd, timeoutMs: o.timeoutMs ?? 300_000 })
}

/**
 * A `sky ... -o json` answer, parsed. A call that fails (a busy server on a loaded machine turns one
 * away: CI saw `ApiServerConnectionError` when the health check of `sky` itself timed out, and a
 * `jobs queue` that printed no JSON) is asked again, twice, each failure shown, once the server's
 * `/api/health` answers again; the third failure says what sky printed. `none` names an answer that
 * means "nothing" (e.g. `sky jobs queue` on a server without a jobs controller exits 1 saying so).
 */
export async function skyJson<T>(args: string[], endpoint: string, o: { env?: NodeJS.ProcessEnv; none?: { exit: number; says: string; is: T } } = {}): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const r = await sky(args, endpoint, o)
    if (o.none && r.code === o.none.exit && r.stderr.includes(o.none.says)) return o.none.is
    const start = r.stdout.search(/^[[{]/m)
    let why = r.code !== 0 ? `exit ${r.code}` : start < 0 ? 'no JSON on stdout' : undefined
    if (!why) {
      try {
        return JSON.parse(r.stdout.slice(start)) as T
      } catch (error) {
        why = `unparsable JSON (${(error as Error).message})`
      }
    }
    const said = `sky ${args.join(' ')} at ${endpoint}: ${why}: ${(r.stderr || r.stdout).slice(-1500)}`
    if (attempt === 3) throw new Error(said)
    console.warn(`${said}\n(asking again once ${endpoint}/api/health answers)`)
    await healthy(endpoint)
  }
}

/** Until the server's health endpoint answers (it needs no credentials), at most two minutes. */
async function healthy(endpoint: string): Promise<void> {
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline) {
    const ok = await fetch(`${endpoint}/api/health`, { signal: AbortSignal.timeout(10_000) }).then((r) => r.ok, () => false)
    if (ok) return
    await new Promise((r) => setTimeout(r, 1000))
  }
}

export interface Leftovers {
  clusters: string[]
  /** Managed jobs not in a final status. */
  jobs: string[]
  /** Requests of users (not SkyPilot's own daemons) still running: `id name cluster status`. */
  requests: string[]
}

const FINAL = new Set(['SUCCEEDED', 'FAILED', 'FAILED_SETUP', 'FAILED_PRECHECKS', 'FAILED_NO_RESOURCE', 'FAILED_CONTROLLER', 'CANCELLED'])

/** What is still running on a server: `sky status`, `sky jobs queue -a`, `sky api status`, at once. */
export async function leftovers(endpoint: string, env: NodeJS.ProcessEnv = {}): Promise<Leftovers> {
  const [status, jobs, requests] = await Promise.all([
    skyJson<{ name: string }[]>(['status', '-o', 'json'], endpoint, { env }),
    // No jobs controller at all (a server without consolidation mode): no managed job is running.
    skyJson<{ job_id: number; job_name: string; status: string }[]>(['jobs', 'queue', '-a', '-o', 'json'], endpoint, { env, none: { exit: 1, says: 'No in-progress managed jobs', is: [] } }),
    skyJson<{ request_id: string; name: string; status: string; user_name?: string; cluster_name?: string | null }[]>(['api', 'status', '-v', '-o', 'json'], endpoint, { env })
  ])
  return {
    clusters: status.map((c) => c.name),
    jobs: jobs
      .filter((j) => !FINAL.has(j.status))
      .map((j) => `${j.job_id} ${j.job_name} ${j.status}`),
    requests: requests
      .filter((r) => r.user_name !== 'skypilot-system' && (r.status === 'RUNNING' || r.status === 'PENDING'))
      .map((r) => `${r.request_id.slice(0, 8)} ${r.name} ${r.cluster_name ?? '-'} ${r.status}`)
  }
}

import type { TestProject } from 'vitest/node'
import path from 'node:path'
import { realSky, run } from './real-sky.js'
import { ports, type JobsEnv, type Servers } from './servers.js'
import { attachSlurm, findSlurmTool, InternetStandIn, startSlurm, stopSlurm } from './slurm.js'
import { plantGrpcStandIn } from './grpc-stand-in.js'

/**
 * Once per real-tier run (vitest.real.config.ts): the real SkyPilot is ready, three real API servers
 * are up, and they are stopped at the end. A fresh server answers its first requests slowly (a
 * consolidation-mode server's first managed-job request takes about a minute): the test files that
 * use it pay that, in parallel with the others.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const rs = await readyRealSky()
  const p = ports(rs.kind)
  const user = 'admin'
  const password = 'real-tier-secret'
  const stopAll = async () => {
    await Promise.all([rs.stopServer(p.plain), rs.stopServer(p.consolidation), rs.stopServer(p.auth)])
  }
  try {
    // Unique per run: a kept server (REAL_TIER_KEEP_SERVERS) refuses a second account of one name.
    const tokenName = `real-tier-${Date.now().toString(36)}`
    const [plain, consolidation, auth] = await Promise.all([
      rs.startServer({ port: p.plain }),
      rs.startServer({ port: p.consolidation, consolidation: true }),
      rs.startServer({ port: p.auth, basicAuth: `${user}:${password}`, serviceAccounts: true })
    ])
    const token = await rs.token(p.auth, tokenName)
    const servers: Servers = { plain, consolidation, auth, authDirect: `http://127.0.0.1:${p.auth}`, authUser: user, authPassword: password, token, tokenName }
    project.provide('servers', servers)
  } catch (error) {
    await stopAll()
    throw error
  }
  // While developing, REAL_TIER_KEEP_SERVERS=1 leaves them up: the next run finds them running with
  // the same options and takes them over in a second (real-sky's `server start` is idempotent).
  return process.env.REAL_TIER_KEEP_SERVERS ? async () => undefined : stopAll
}

/** The real SkyPilot, set up (real-sky's `setup` is idempotent: 0.1 s when built). */
export async function readyRealSky(): Promise<ReturnType<typeof realSky>> {
  const rs = realSky()
  if (rs.kind === 'tool') {
    const r = await run(path.join(path.dirname(rs.binDir), 'setup'), [], { timeoutMs: 900_000 })
    if (r.code !== 0) throw new Error(`real-sky setup failed (exit ${r.code}): ${r.stderr.slice(-3000)}`)
  }
  return rs
}

/**
 * Once per run of the real-jobs tier (vitest.real-jobs.config.ts), after the rest of the real tier
 * has stopped its servers: the Slurm cluster, then the servers its jobs run through. Without the
 * real-sky-slurm tool (a pip install of SkyPilot), there are no real jobs: the tier is skipped.
 */
export async function setupJobs(project: TestProject): Promise<() => Promise<void>> {
  const rs = await readyRealSky()
  const p = ports(rs.kind)
  if (rs.kind !== 'tool' || !findSlurmTool()) {
    project.provide('jobs', null)
    return async () => undefined
  }
  let localStarted = false
  const stopAll = async () => {
    await Promise.all([rs.stopServer(p.jobs), rs.stopServer(p.restart), ...(localStarted ? [rs.stopServer(46580)] : [])])
    await stopSlurm()
  }
  try {
    // The cluster first, alone: on a fresh chroot `slurm start` apt-installs packages into it
    // (Python ones among them, which can replace the interpreter's files) and adds a .pth file of
    // stubs that SkyPilot's Slurm cloud imports. A server whose Python starts meanwhile can die at
    // import (CI saw one exit before it became healthy) or come up without the Slurm cloud.
    await startSlurm()
    const tokenName = `real-tier-${Date.now().toString(36)}`
    project.provide('jobs', await startJobs(new InternetStandIn(), tokenName, () => (localStarted = true)))
  } catch (error) {
    await stopAll()
    throw error
  }
  return process.env.REAL_TIER_KEEP_SERVERS ? async () => undefined : stopAll
}

/**
 * What the real jobs run on (the Slurm cluster is up already): a jobs server (consolidation mode, so managed jobs
 * run their controllers next to it; basic auth and service accounts, reached with a token) with the
 * cluster attached and the internet stand-in its jobs controller needs; a second such server (no
 * consolidation) that a scenario restarts mid-job; and bin/sky's own local server (no endpoint),
 * started here once (about 35 s) rather than inside the first scenario that needs it.
 */
async function startJobs(standIn: InternetStandIn, tokenName: string, localStarted: () => void): Promise<JobsEnv> {
  const rs = realSky()
  const p = ports(rs.kind)
  const auth = { basicAuth: 'admin:real-tier-jobs', serviceAccounts: true }
  // The local server: started by the real client when none answers (as on a runner without an
  // endpoint). One this tier did not start is left as it is at the end.
  const local = (async () => {
    const status = await run(path.join(path.dirname(rs.binDir), 'server'), ['status', '--port', '46580'])
    if (status.code !== 0) localStarted()
    const env = { ...process.env }
    delete env.SKYPILOT_API_SERVER_ENDPOINT
    const r = await run(rs.sky, ['status', '-o', 'json'], { env, cwd: '/tmp', timeoutMs: 300_000 })
    if (r.code !== 0) throw new Error(`the local API server did not answer (exit ${r.code}): ${r.stderr.slice(-2000)}`)
  })()
  // Awaited last; a failure meanwhile is not an unhandled rejection.
  local.catch(() => undefined)
  // Both with the stand-in for grpcio (grpc-stand-in.ts), so their state is kept from before the start.
  const serverScript = path.join(path.dirname(rs.binDir), 'server')
  await Promise.all([plantGrpcStandIn(serverScript, p.jobs), plantGrpcStandIn(serverScript, p.restart)])
  const [jobsEndpoint, restartEndpoint] = await standIn.withStandInCa(() =>
    Promise.all([rs.startServer({ port: p.jobs, consolidation: true, keepState: true, ...auth }), rs.startServer({ port: p.restart, keepState: true, ...auth })])
  )
  await Promise.all([attachSlurm(p.jobs), attachSlurm(p.restart), standIn.standIn(p.jobs)])
  const [token, restartToken] = await Promise.all([rs.token(p.jobs, `${tokenName}-jobs`), rs.token(p.restart, `${tokenName}-restart`)])
  await local
  return { endpoint: jobsEndpoint, token, restart: { endpoint: restartEndpoint, token: restartToken, port: p.restart } }
}

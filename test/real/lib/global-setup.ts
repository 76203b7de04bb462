import type { TestProject } from 'vitest/node'
import path from 'node:path'
import { realSky, run } from './real-sky.js'
import { ports, type Servers } from './servers.js'

/**
 * Once per real-tier run: the real SkyPilot is ready (real-sky's `setup` is idempotent: 0.1 s when
 * built), three real API servers are up, and they are stopped at the end. A fresh server answers its
 * first requests slowly (a consolidation-mode server's first managed-job request takes about a
 * minute): the test files that use it pay that, in parallel with the others.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const rs = realSky()
  if (rs.kind === 'tool') {
    const r = await run(path.join(path.dirname(rs.binDir), 'setup'), [], { timeoutMs: 900_000 })
    if (r.code !== 0) throw new Error(`real-sky setup failed (exit ${r.code}): ${r.stderr.slice(-3000)}`)
  }
  const p = ports(rs.kind)
  const user = 'admin'
  const password = 'real-tier-secret'
  const stopAll = async () => {
    await Promise.all([rs.stopServer(p.plain), rs.stopServer(p.consolidation), rs.stopServer(p.auth)])
  }
  try {
    const [plain, consolidation, auth] = await Promise.all([
      rs.startServer({ port: p.plain }),
      rs.startServer({ port: p.consolidation, consolidation: true }),
      rs.startServer({ port: p.auth, basicAuth: `${user}:${password}`, serviceAccounts: true })
    ])
    // Unique per run: a kept server (REAL_TIER_KEEP_SERVERS) refuses a second account of one name.
    const tokenName = `real-tier-${Date.now().toString(36)}`
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

import { afterEach } from 'vitest'
import { createFakeSky, startFakeServer, type FakeServer, type FakeSky, type FakeSkyConfig } from '../fake-sky/index.mjs'
import type { StepOptions } from './runner.js'

/**
 * The test double of `sky` and the fake API server for scenario tests: created per test, cleaned
 * up after each (background job processes killed, ledger removed, server closed).
 */

const created: { skies: FakeSky[]; servers: FakeServer[] } = { skies: [], servers: [] }

afterEach(async () => {
  for (const s of created.skies.splice(0)) s.cleanup()
  for (const s of created.servers.splice(0)) await s.close()
})

export function fake(config: FakeSkyConfig = {}): FakeSky {
  const sky = createFakeSky({ config })
  created.skies.push(sky)
  return sky
}

export async function fakeServer(options: Parameters<typeof startFakeServer>[0]): Promise<FakeServer> {
  const server = await startFakeServer(options)
  created.servers.push(server)
  return server
}

/** Step options with the double's env (PATH, ledger home) under the test's own. */
export function withSky(s: FakeSky, opts: StepOptions): StepOptions {
  return { ...opts, env: { ...s.env, ...opts.env } }
}

/** The double's recorded calls of one command, e.g. 'launch' or 'jobs cancel'. */
export const callsOf = (s: FakeSky, command: string) => s.calls().filter((c) => c.argv.slice(0, command.split(' ').length).join(' ') === command)

/**
 * A job's log as the step shows it, without SkyPilot's own line prefixes (`(task, pid=N) `,
 * `(setup pid=N) `, coloured), which the real SkyPilot and the double put before each of its lines.
 */
export function withoutJobPrefixes(log: string): string {
  return log.replace(/^((?:::[^\n]*::)?(?:\[[^\]\n]*\] )?)\x1b\[36m\((?:setup pid=\d+|[\w.-]+, (?:rank=\d+, )?pid=\d+)(?:, ip=[\d.]+)?\)\x1b\[0m /gm, '$1')
}

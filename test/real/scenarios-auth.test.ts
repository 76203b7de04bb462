import { afterAll, describe, expect, it } from 'vitest'
import { annotations, everythingVisible } from '../helpers/runner.js'
import { errorText } from '../suites/common.js'
import { main, post, realRun, shown } from './lib/action.js'
import { leftovers, servers } from './lib/servers.js'

/**
 * The action against a real API server with basic auth and service accounts, reached through an
 * auth proxy as an ingress would: who gets in, and what a launch with no cloud says.
 */

const s = servers()
const TASK = 'name: rt-auth\nresources: {cpus: 1+}\nrun: echo hello\n'
const withPassword = (password: string) => s.auth.replace('http://', `http://${s.authUser}:${encodeURIComponent(password)}@`)

describe.concurrent('API server access, for real', () => {
  it('a right basic-auth password gets in; a launch with no cloud fails once, quoting SkyPilot, and the post step says nothing was created', async () => {
    const run = realRun()
    const inputs = { 'task-yaml': TASK, 'cluster-name': 'rt-auth-1', 'api-server-endpoint': withPassword(s.authPassword), 'retry-delay-seconds': '0' }
    const m = await main(run, inputs)
    expect(m.stdout).toContain(`signed in as ${s.authUser}`)
    expect(m.code).toBe(1)
    expect(m.outputs, shown(m)).toMatchObject({ status: 'LAUNCH_FAILED', 'exit-code': '1', 'skypilot-version': '1.0.0-dev0' })
    // SkyPilot's own words, and no retry of what cannot succeed (retries default to 2).
    expect(errorText(m)).toContain('SkyPilot said: NoCloudAccessError: Cloud access is not set up. Run: sky check')
    expect(run.calls().filter((c) => c.startsWith('launch '))).toHaveLength(1)
    const p = await post(run, inputs, m)
    expect(p.code).toBe(0)
    expect(p.summary).toMatch(/`rt-auth-1`: `sky down` found no such cluster/)
    expect(p.summary).not.toMatch(/torn down \(/)
    // The password never shows.
    expect(everythingVisible(m, p)).not.toContain(s.authPassword)
  })

  it('a wrong basic-auth password is refused before any sky call', async () => {
    const run = realRun()
    const m = await main(run, { 'task-yaml': TASK, 'cluster-name': 'rt-auth-2', 'api-server-endpoint': withPassword('not-the-password') })
    expect(m.code).toBe(1)
    expect(m.outputs.status).toBe('INVALID')
    expect(errorText(m)).toMatch(/did not accept the user and password in 'api-server-endpoint'/)
    expect(run.calls()).toEqual([])
    expect(everythingVisible(m)).not.toContain('not-the-password')
  })

  it('without credentials the proxy lets the probe through (/api/health needs none), and the launch is refused with 401, once, without leaving a teardown to fail', async () => {
    const run = realRun()
    const inputs = { 'task-yaml': TASK, 'cluster-name': 'rt-auth-3', 'api-server-endpoint': s.auth, 'retry-delay-seconds': '0' }
    const m = await main(run, inputs)
    expect(m.code).toBe(1)
    expect(m.outputs.status, shown(m)).toBe('LAUNCH_FAILED')
    expect(errorText(m)).toMatch(/SkyPilot said: HTTPError: 401 Client Error/)
    expect(errorText(m)).toMatch(/credentials/)
    expect(run.calls().filter((c) => c.startsWith('launch '))).toHaveLength(1)
    // Refused at the door: no cluster can exist, so the post step asks nothing and fails nothing.
    const p = await post(run, inputs, m)
    expect(p.code).toBe(0)
    expect(run.calls().filter((c) => c.startsWith('down ') || c.startsWith('status '))).toEqual([])
  })

  it('a valid service-account token gets in as its account; the launch fails on no cloud', async () => {
    const run = realRun()
    const inputs = { 'task-yaml': TASK, 'cluster-name': 'rt-auth-4', 'api-server-endpoint': s.auth, 'service-account-token': s.token, 'retry-delay-seconds': '0' }
    const m = await main(run, inputs)
    expect(m.stdout).toContain(`signed in as ${s.tokenName}`)
    expect(m.outputs.status, shown(m)).toBe('LAUNCH_FAILED')
    expect(errorText(m)).toContain('NoCloudAccessError')
    const p = await post(run, inputs, m)
    expect(p.code).toBe(0)
    expect(everythingVisible(m, p)).not.toContain(s.token)
  })

  it('an invalid service-account token is refused before any sky call', async () => {
    const run = realRun()
    const m = await main(run, { 'task-yaml': TASK, 'cluster-name': 'rt-auth-5', 'api-server-endpoint': s.auth, 'service-account-token': 'sky_not-a-real-token' })
    expect(m.code).toBe(1)
    expect(errorText(m)).toMatch(/refused the credentials \(HTTP 401\)/)
    expect(run.calls()).toEqual([])
    expect(annotations(m.stdout, 'error')).toHaveLength(1)
  })
})

afterAll(async () => {
  // Every scenario above ends with nothing of its own left on the server.
  const left = await leftovers(s.authDirect)
  const ours = (x: string) => x.includes('rt-auth')
  expect({ clusters: left.clusters.filter(ours), jobs: left.jobs.filter(ours), requests: left.requests.filter(ours) }).toEqual({ clusters: [], jobs: [], requests: [] })
})

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { errorText } from '../suites/common.js'
import { main, post, realRun, shown } from './lib/action.js'
import { leftovers, servers, sky, skyJson } from './lib/servers.js'

/**
 * Managed jobs on a real API server in consolidation mode (the jobs controller runs next to it).
 * With no cloud, a managed job ends FAILED_PRECHECKS: its id, its status and why are SkyPilot's.
 */

const s = servers()
const TASK = 'name: rt-managed\nresources: {cpus: 1+}\nrun: echo hello\n'
const on = { 'api-server-endpoint': s.consolidation, mode: 'managed' }

/** The managed jobs of this name, as the real queue lists them (all of them: -a). */
async function jobsNamed(name: string): Promise<{ job_id: number; status: string }[]> {
  return (await skyJson<{ job_id: number; job_name: string; status: string }[]>(['jobs', 'queue', '-a', '-o', 'json'], s.consolidation)).filter((j) => j.job_name === name)
}

beforeAll(async () => {
  // A fresh consolidation-mode server starts its jobs controller on the first request (about a
  // minute on 2 cores): pay it once here, not inside a scenario's timings.
  await sky(['jobs', 'queue', '-o', 'json'], s.consolidation)
})

// Concurrent: most of each scenario is the server's jobs controller taking the job to its end, time
// the scenarios can share (each finds its own job by a name of its own).
describe.concurrent('managed jobs, for real', () => {
  it('a managed job that fails its pre-checks: its real id, FAILED_PRECHECKS and why, exit code 100, nothing for the post step to do', async () => {
    const run = realRun()
    const inputs = { ...on, 'task-yaml': TASK, 'job-name': 'rt-managed-1' }
    const m = await main(run, inputs)
    const jobs = await jobsNamed('rt-managed-1')
    expect(jobs, shown(m)).toHaveLength(1)
    expect(m.outputs).toMatchObject({ status: 'FAILED_PRECHECKS', 'exit-code': '100', 'job-id': String(jobs[0]!.job_id) })
    expect(errorText(m)).toMatch(/ended FAILED_PRECHECKS: it failed SkyPilot's checks before anything was launched.*the task never ran\. SkyPilot said: \[sky\.exceptions\.NoCloudAccessError\] Cloud access is not set up/)
    expect(errorText(m)).not.toMatch(/setup or run command/)
    expect(m.summary).toContain('FAILED_PRECHECKS')
    // One launch, never repeated: a job that exists is not launched again.
    expect(run.calls().filter((c) => c.startsWith('jobs launch'))).toHaveLength(1)
    const p = await post(run, inputs, m)
    expect(p.code).toBe(0)
    expect(run.calls().filter((c) => c.startsWith('jobs cancel'))).toEqual([])
  })

  it('detach, then collect that job: SUBMITTED with its id, then FAILED_PRECHECKS', async () => {
    const run = realRun()
    const submitted = await main(run, { ...on, 'task-yaml': TASK, 'job-name': 'rt-managed-2', detach: 'true' })
    const jobs = await jobsNamed('rt-managed-2')
    expect(submitted.outputs, shown(submitted)).toMatchObject({ status: 'SUBMITTED', 'job-id': String(jobs[0]?.job_id) })
    expect(submitted.code).toBe(0)
    const collected = await main(run, { 'api-server-endpoint': s.consolidation, mode: 'collect', 'job-id': submitted.outputs['job-id']!, 'wait-minutes': '3' })
    expect(collected.outputs, shown(collected)).toMatchObject({ status: 'FAILED_PRECHECKS', 'exit-code': '100', 'job-id': submitted.outputs['job-id'] })
    expect(errorText(collected)).toMatch(/the task never ran\. SkyPilot said: \[sky\.exceptions\.NoCloudAccessError\]/)
  })

  it('collect of a managed job this server never had is NOT_FOUND', async () => {
    const m = await main(realRun(), { 'api-server-endpoint': s.consolidation, mode: 'collect', 'job-id': '987654', 'wait-minutes': '0' })
    expect(m.outputs, shown(m)).toMatchObject({ status: 'NOT_FOUND', 'exit-code': '102' })
    expect(errorText(m)).toMatch(/Managed job 987654 is not in this API server's jobs queue/)
  })

  it('SIGINT while the managed launch request runs: the request and the job are cancelled by what the server answers, and the post step verifies the job ended', async () => {
    const run = realRun()
    const inputs = { ...on, 'task-yaml': TASK, 'job-name': 'rt-managed-int' }
    const m = await main(run, inputs, { interrupt: { when: (out) => out.includes("Launching managed job 'rt-managed-int'"), signal: 'SIGINT' } })
    expect(m.stdout, shown(m)).toContain('Received SIGINT')
    expect(m.outputs).toMatchObject({ status: 'CANCELLED', 'exit-code': '103' })
    // The job is cancelled by name: its id is printed only once it ends.
    expect(m.stdout).toMatch(/Managed job 'rt-managed-int': /)
    expect(run.calls()).toContain('jobs cancel -y -n rt-managed-int')
    const p = await post(run, inputs, m)
    expect(p.code, shown(p)).toBe(0)
    const jobs = await jobsNamed('rt-managed-int')
    for (const j of jobs) expect(['CANCELLED', 'FAILED_PRECHECKS']).toContain(j.status)
    expect(p.summary).toMatch(/Managed job 'rt-managed-int'.*(ended (CANCELLED|FAILED_PRECHECKS)|never created)/)
    // The launch request sky's Ctrl-C hint named is not left running on the server.
    const hint = /sky api cancel ([0-9a-f]{8})/.exec(m.stdout.replace(/\x1b\[[0-9;]*m/g, ''))
    if (hint) {
      const record = await skyJson<{ status: string }[]>(['api', 'status', '-a', '-o', 'json', hint[1]!], s.consolidation)
      expect(record[0]?.status).toMatch(/SUCCEEDED|FAILED|CANCELLED/)
    }
  })
})

afterAll(async () => {
  const left = await leftovers(s.consolidation)
  const ours = (x: string) => x.includes('rt-managed')
  // A managed launch request names no cluster, so other test files' could be running now: each
  // scenario checked its own request above, where it knew the id.
  expect({ clusters: left.clusters.filter(ours), jobs: left.jobs.filter(ours) }).toEqual({ clusters: [], jobs: [] })
})

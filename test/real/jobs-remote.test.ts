import fs from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createFakeSky } from '../fake-sky/index.mjs'
import { jsonOf } from './contract/normalize.js'
import { errorText } from '../suites/common.js'
import { main, post, realRun, shown } from './lib/action.js'
import { expectNothingLeft, movesOf, named, RUN, waitFor } from './lib/jobs.js'
import { realSky } from './lib/real-sky.js'
import { jobsEnv, sky, skyJson } from './lib/servers.js'
import { allocationsOf, attachSlurm } from './lib/slurm.js'

/**
 * Real jobs on the real Slurm cluster through a real remote API server, reached with a
 * service-account token: cluster jobs (launch and teardown, detach then collect then down) and
 * managed jobs (to SUCCEEDED and FAILED with outputs, and cancelled while they run) on the jobs
 * server; and a job whose API server restarts under its log stream, on a server of its own.
 */

const jobs = jobsEnv()
const on = () => ({ infra: 'slurm', 'api-server-endpoint': jobs!.endpoint, 'service-account-token': jobs!.token, 'retry-delay-seconds': '0' })
const auth = () => ({ SKYPILOT_SERVICE_ACCOUNT_TOKEN: jobs!.token })
const SLOW = { timeout: 1_800_000 }
const COUNTING = (name: string, n: number) => `name: ${name}\nrun: |\n  for i in $(seq 1 ${n}); do echo "tick $i"; sleep 1; done\n`

describe.skipIf(!jobs)('real jobs on Slurm, through a remote API server with a service-account token', () => {
  describe.concurrent('', () => {
    it("detach with max-duration; a later collect finds the job past the cap recorded with it: cancels it, keeps its outputs, fails TIMED_OUT; Slurm's own time limit then ends the allocation; mode: down (missing-ok) removes the cluster or finds SkyPilot dropped it", SLOW, async () => {
      const cluster = named('r-detach')
      // The allocation's limit is max-duration plus an allowance for setting the allocation up: six
      // minutes here (the default is ten), room for this test's steps on a loaded machine before
      // Slurm ends the allocation.
      const run = realRun({ SKYPILOT_ACTION_BACKEND_ALLOWANCE_S: '360' })
      const task = 'name: rt-detached\nrun: |\n  echo "skypilot-output stage=warm-up"\n  for i in $(seq 1 600); do echo "tick $i"; sleep 1; done\n'
      const submitted = await main(run, { ...on(), 'cluster-name': cluster, detach: 'true', 'max-duration': '40s', 'task-yaml': task })
      expect(submitted.outputs, shown(submitted)).toMatchObject({ status: 'SUBMITTED', 'job-id': '1', 'cluster-name': cluster, 'dashboard-url': expect.stringContaining(`/dashboard/clusters/${cluster}`) })
      expect(run.calls().map((c) => c.split(' ')[0])).toEqual(['launch'])
      expect(movesOf(submitted)['rt-detached']!.at(-1)).toBe('submitted')
      // On Slurm the summary does not promise that the cluster tears itself down; it says how the cap holds.
      expect(submitted.summary).toMatch(/on Slurm, SkyPilot's idle autodown is not to count on/)
      expect(submitted.summary).toMatch(/\| Caps \| max-duration 40s; held by .*the backend's time limit/)
      // The allocation carries the limit: 40 s of cap + 6 minutes of allowance, in whole minutes.
      expect((await allocationsOf(cluster)).map((a) => a.timeLimit)).toEqual(['7:00'])
      const left = await post(run, on(), submitted)
      expect(left.code).toBe(0)
      expect(run.calls().filter((c) => c.startsWith('down'))).toEqual([])

      // A later step, without max-duration: the job's record says it.
      const collected = await main(run, { ...on(), mode: 'collect', 'job-id': '1', 'cluster-name': cluster, down: 'false', 'wait-minutes': '10', 'job-outputs': 'stage' })
      expect(collected.code, shown(collected)).toBe(1)
      expect(collected.outputs).toMatchObject({ status: 'TIMED_OUT', 'job-id': '1', stage: 'warm-up' })
      expect(errorText(collected)).toMatch(new RegExp(`Job 1 on ${cluster} is past its max-duration cap of 40s \\(recorded with the job\\), counted from its submission: .* ago\\. sky cancel: .*Cancelled job ID\\(s\\): 1\\. Cluster ${cluster} is left running \\(down is false\\)`))
      // The record (for the cap) is read while the log streams: those two start together.
      const collectCalls = run.calls().slice(1).map((c) => c.split(' ')[0]!)
      expect([...collectCalls.slice(0, 2).sort(), ...collectCalls.slice(2)]).toEqual(['logs', 'queue', 'cancel'])
      expect((await post(run, on(), collected)).code).toBe(0)

      // No runner watches now: Slurm itself ends the allocation at its limit.
      const waitStart = Date.now()
      await waitFor('Slurm to end the allocation at its time limit', async () => (await allocationsOf(cluster)).length === 0, { timeoutMs: 540_000, intervalMs: 5000 })
      console.log(`Slurm's time limit (7 min) ended the allocation ${((Date.now() - waitStart) / 1000).toFixed(0)} s after the collect ended`)

      // The allocation is gone; SkyPilot lists the cluster until it is torn down, or until its status
      // refresh (the server's own, every few minutes) sees the allocation gone and drops it: then
      // `sky down` finds no such cluster. missing-ok says that is fine; either answer is SkyPilot's.
      const down = await main(run, { 'api-server-endpoint': jobs!.endpoint, 'service-account-token': jobs!.token, mode: 'down', 'cluster-name': cluster, 'missing-ok': 'true' })
      expect(down.code, shown(down)).toBe(0)
      expect(down.outputs['cluster-name']).toBe(cluster)
      if (down.outputs.status === 'NOT_FOUND') expect(down.stdout).toContain(`Cluster ${cluster} does not exist (sky down found no such cluster).`)
      else expect(down.outputs.status).toBe('TORN_DOWN')
      await expectNothingLeft(cluster, jobs!.endpoint, auth())
    })

    it('managed job to SUCCEEDED: its real id, outputs from its log, recovery-count 0, nothing for the post step to do', SLOW, async () => {
      const name = named('m-ok')
      const run = realRun()
      const inputs = { ...on(), mode: 'managed', 'job-name': name, 'job-outputs': 'score', 'task-yaml': 'name: rt-managed\nrun: |\n  echo "managed job runs"\n  echo "skypilot-output score=97"\n' }
      const m = await main(run, inputs)
      expect(m.outputs, shown(m)).toMatchObject({ status: 'SUCCEEDED', 'exit-code': '0', score: '97', 'recovery-count': '0' })
      expect(m.outputs['job-id']).toMatch(/^\d+$/)
      expect(m.stdout).toMatch(new RegExp(`\\x1b\\[36m\\(${name}, pid=\\d+\\)\\x1b\\[0m managed job runs`))
      expect(run.calls().filter((c) => c.startsWith('jobs launch'))).toHaveLength(1)
      const p = await post(run, inputs, m)
      expect(p.code, shown(p)).toBe(0)
      expect(run.calls().filter((c) => c.startsWith('jobs cancel'))).toEqual([])
      await expectNothingLeft(name, jobs!.endpoint, auth())
    })

    it('managed job to FAILED: the outputs it set before failing, its last lines in the error, recovery-count 0', SLOW, async () => {
      const name = named('m-fail')
      const run = realRun()
      const inputs = { ...on(), mode: 'managed', 'job-name': name, 'job-outputs': 'stage', 'task-yaml': 'name: rt-managed-fail\nrun: |\n  echo "skypilot-output stage=preprocessed"\n  echo "managed job fails"\n  exit 3\n' }
      const m = await main(run, inputs)
      expect(m.code).toBe(1)
      expect(m.outputs, shown(m)).toMatchObject({ status: 'FAILED', 'exit-code': '100', stage: 'preprocessed', 'recovery-count': '0' })
      expect(errorText(m)).toMatch(/ended FAILED: the job's run command exited non-zero\..*Its last lines:[\s\S]*managed job fails/s)
      expect((await post(run, inputs, m)).code).toBe(0)
      // The contract of the test double on a real managed job: its jobs queue record (status,
      // recoveries, the failure reason's type, every field) against the double's of the same job.
      const twin = createFakeSky({ config: { version: '1.0.0-dev0', check: { enabled: ['Slurm'] }, managed: { consolidation: true } } })
      fs.writeFileSync(path.join(twin.home, 'fail.yaml'), 'name: rt-managed-fail\nrun: |\n  echo "skypilot-output stage=preprocessed"\n  echo "managed job fails"\n  exit 3\n')
      const doubleLaunch = await twin.run(['jobs', 'launch', '-y', '-n', name, '--infra', 'slurm', path.join(twin.home, 'fail.yaml')], { timeoutMs: 120_000 })
      expect(doubleLaunch.code).toBe(100)
      const record = (rows: Record<string, unknown>[]) => {
        const row = rows.find((r) => r.job_name === name)!
        return { status: row.status, recoveries: row.recovery_count, reason: typeof row.failure_reason, fields: Object.keys(row) }
      }
      const [realQueue, doubleQueue] = await Promise.all([
        skyJson<Record<string, unknown>[]>(['jobs', 'queue', '-a', '-v', '-o', 'json'], jobs!.endpoint, { env: auth() }),
        twin.run(['jobs', 'queue', '-a', '-v', '-o', 'json'])
      ])
      expect(record(jsonOf(doubleQueue.stdout) as Record<string, unknown>[])).toEqual(record(realQueue))
      twin.cleanup()
      await expectNothingLeft(name, jobs!.endpoint, auth())
    })

    it("a managed job whose run is cancelled while it RUNS: CANCELLED by name, the post step verifies it ended, its allocation is released", SLOW, async () => {
      const name = named('m-int')
      const run = realRun()
      // Five minutes of ticks: the cancel must reach the job before it ends by itself (on a loaded
      // machine two minutes were not enough: it ended SUCCEEDED under the cancel).
      const inputs = { ...on(), mode: 'managed', 'job-name': name, 'task-yaml': COUNTING('rt-managed-int', 300) }
      const m = await main(run, inputs, { interrupt: { when: (out) => out.includes('tick 3'), signal: 'SIGINT', then: [{ afterMs: 7500, signal: 'SIGTERM' }] } })
      expect(m.outputs, shown(m)).toMatchObject({ status: 'CANCELLED', 'exit-code': '103' })
      expect(run.calls()).toContain(`jobs cancel -y -n ${name}`)
      const p = await post(run, inputs, m)
      expect(p.code, shown(p)).toBe(0)
      expect(p.summary).toMatch(new RegExp(`Managed job '${name}' \\(\\d+\\) ended CANCELLED`))
      await expectNothingLeft(name, jobs!.endpoint, auth())
    })

    it('a managed job past its max-duration: cancelled by name at the cap, verified in the jobs queue, its allocation released; the cap is in its record and its allocation carries the time limit', SLOW, async () => {
      const name = named('m-cap')
      const run = realRun()
      // A managed job is submitted with its launch: its provisioning counts, minutes on a loaded machine.
      // The job runs four minutes once started: past the cap, and short enough that this test
      // cluster (which tracks a job's processes, not its allocation) releases the allocation soon
      // after the cancel.
      const inputs = { ...on(), mode: 'managed', 'job-name': name, 'max-duration': '3m', 'task-yaml': COUNTING('rt-managed-cap', 240) }
      const limits = waitFor('the managed job to get its allocation', async () => (await allocationsOf(name)).map((x) => x.timeLimit)[0], { timeoutMs: 600_000, intervalMs: 5000 })
      limits.catch(() => undefined)
      const m = await main(run, inputs)
      expect(m.code, shown(m)).toBe(1)
      expect(m.outputs, shown(m)).toMatchObject({ status: 'TIMED_OUT' })
      const record = (await skyJson<{ job_name: string; status: string; metadata: Record<string, unknown> }[]>(['jobs', 'queue', '-a', '-v', '-o', 'json'], jobs!.endpoint, { env: auth() })).find((j) => j.job_name === name)
      expect(errorText(m)).toMatch(/reached its max-duration cap of 3m \d+m( \d+s)? after it was submitted\. SkyPilot cancelled managed job \d+: the jobs queue shows it CANCELLED/)
      // 3 minutes of cap + the default 10 minutes of allowance.
      expect(await limits).toBe('13:00')
      expect(record).toMatchObject({ status: 'CANCELLED', metadata: { skypilot_action_caps: { max_duration_s: 180 } } })
      expect((await post(run, inputs, m)).code).toBe(0)
      await expectNothingLeft(name, jobs!.endpoint, auth())
    })

    it('the API server restarts under a running job: the stream is followed again once it is back, the job is not launched twice, and it ends SUCCEEDED; kept, a later mode: down tears it down (TORN_DOWN as SkyPilot confirms it)', SLOW, async () => {
      const cluster = named('r-restart')
      const restart = jobs!.restart
      const run = realRun()
      const inputs = { infra: 'slurm', 'api-server-endpoint': restart.endpoint, 'service-account-token': restart.token, 'cluster-name': cluster, down: 'false', 'task-yaml': COUNTING('rt-restart', 40) }
      const rs = realSky()
      let restarted: Promise<void> | undefined
      const m = await main(run, inputs, {
        onStdout: (chunk) => {
          if (!restarted && chunk.includes('tick 5')) {
            restarted = (async () => {
              await rs.stopServer(restart.port)
              await rs.startServer({ port: restart.port, basicAuth: 'admin:real-tier-jobs', serviceAccounts: true, keepState: true })
              await attachSlurm(restart.port)
            })()
          }
        }
      })
      await restarted
      expect(m.outputs, shown(m)).toMatchObject({ status: 'SUCCEEDED', 'exit-code': '0', 'job-id': '1' })
      expect(m.stdout).toMatch(/the log stream ended \(sky exit 1: .*\) after job 1 was submitted\. The job is not launched again: following it again/)
      expect(m.stdout).toContain('tick 40')
      expect(run.calls().filter((c) => c.startsWith('launch'))).toHaveLength(1)
      expect(run.calls().filter((c) => c.startsWith('logs'))).not.toHaveLength(0)
      const p = await post(run, inputs, m)
      expect(p.code, shown(p)).toBe(0)
      // Kept as asked (down: false); a later mode: down removes the live cluster, TORN_DOWN once
      // sky status no longer lists it.
      expect(run.calls().filter((c) => c.startsWith('down'))).toEqual([])
      const down = await main(run, { 'api-server-endpoint': restart.endpoint, 'service-account-token': restart.token, mode: 'down', 'cluster-name': cluster })
      expect(down.outputs, shown(down)).toMatchObject({ status: 'TORN_DOWN', 'cluster-name': cluster })
      expect(down.code).toBe(0)
      expect(run.calls().slice(-2).map((c) => c.split(' ')[0])).toEqual(['down', 'status'])
      await expectNothingLeft(cluster, restart.endpoint, { SKYPILOT_SERVICE_ACCOUNT_TOKEN: restart.token })
    })
  })
})

afterAll(async () => {
  if (!jobs) return
  // What a failed scenario left is named, and removed so that the next run starts clean.
  const left: string[] = []
  for (const [endpoint, token] of [[jobs.endpoint, jobs.token], [jobs.restart.endpoint, jobs.restart.token]] as const) {
    const names = (await skyJson<{ name: string }[]>(['status', '-o', 'json'], endpoint, { env: { SKYPILOT_SERVICE_ACCOUNT_TOKEN: token } })).map((c) => c.name).filter((n) => n.startsWith(RUN))
    if (names.length > 0) await sky(['down', '-y', ...names], endpoint, { env: { SKYPILOT_SERVICE_ACCOUNT_TOKEN: token } })
    left.push(...names)
  }
  await waitFor('no managed job of this run in progress', async () => {
    const open = (await skyJson<{ job_name: string; status: string }[]>(['jobs', 'queue', '-a', '-o', 'json'], jobs.endpoint, { env: auth() })).filter((j) => j.job_name.startsWith(RUN) && !['SUCCEEDED', 'FAILED', 'CANCELLED', 'FAILED_SETUP', 'FAILED_PRECHECKS', 'FAILED_NO_RESOURCE', 'FAILED_CONTROLLER'].includes(j.status))
    for (const j of open) await sky(['jobs', 'cancel', '-y', '-n', j.job_name], jobs.endpoint, { env: auth() })
    return open.length === 0
  }, { timeoutMs: 120_000, intervalMs: 10_000 })
  expect(left, 'clusters left by this file').toEqual([])
})

import { afterAll, describe, expect, it } from 'vitest'
import { errorText } from '../suites/common.js'
import { main, post, realRun, shown } from './lib/action.js'
import { expectNothingLeft, movesOf, named, RUN, waitFor } from './lib/jobs.js'
import { realSky } from './lib/real-sky.js'
import { servers, sky } from './lib/servers.js'
import { attachSlurm } from './lib/slurm.js'

/**
 * Real jobs on the real Slurm cluster through a real remote API server, reached with a
 * service-account token: cluster jobs (launch and teardown, detach then collect then down) and
 * managed jobs (to SUCCEEDED and FAILED with outputs, and cancelled while they run) on the jobs
 * server; and a job whose API server restarts under its log stream, on a server of its own.
 */

const jobs = servers().jobs
const on = () => ({ infra: 'slurm', 'api-server-endpoint': jobs!.endpoint, 'service-account-token': jobs!.token, 'retry-delay-seconds': '0' })
const auth = () => ({ SKYPILOT_SERVICE_ACCOUNT_TOKEN: jobs!.token })
const SLOW = { timeout: 1_200_000 }
const COUNTING = (name: string, n: number) => `name: ${name}\nrun: |\n  for i in $(seq 1 ${n}); do echo "tick $i"; sleep 1; done\n`

describe.skipIf(!jobs)('real jobs on Slurm, through a remote API server with a service-account token', () => {
  describe.concurrent('', () => {
    it('launch: SUCCEEDED with its outputs and dashboard link, the post step tears it down, verified; one sky call in main (Slurm has no price to ask for), two in post', SLOW, async () => {
      const cluster = named('r-launch')
      const run = realRun()
      const inputs = { ...on(), 'cluster-name': cluster, 'job-outputs': 'loss', 'task-yaml': 'name: rt-remote\nrun: |\n  echo "remote job"\n  echo "skypilot-output loss=0.125"\n' }
      const m = await main(run, inputs)
      expect(m.outputs, shown(m)).toMatchObject({ status: 'SUCCEEDED', 'exit-code': '0', 'job-id': '1', loss: '0.125', 'dashboard-url': expect.stringContaining(`/dashboard/clusters/${cluster}`) })
      expect(run.calls().map((c) => c.split(' ')[0])).toEqual(['launch'])
      expect(m.summary).toContain('Cost: not reported by SkyPilot for Slurm.')
      const p = await post(run, inputs, m)
      expect(p.code, shown(p)).toBe(0)
      expect(p.stdout).toContain(`Cluster ${cluster} torn down (sky status no longer lists it).`)
      expect(run.calls().slice(1).map((c) => c.split(' ')[0])).toEqual(['down', 'status'])
      await expectNothingLeft(cluster, jobs!.endpoint, auth())
    })

    it('detach, then collect in a later step (final status and outputs), then mode: down (TORN_DOWN as SkyPilot confirms it)', SLOW, async () => {
      const cluster = named('r-detach')
      const run = realRun()
      const submitted = await main(run, { ...on(), 'cluster-name': cluster, detach: 'true', 'task-yaml': 'name: rt-detached\nrun: |\n  sleep 5\n  echo "skypilot-output result=done-detached"\n' })
      expect(submitted.outputs, shown(submitted)).toMatchObject({ status: 'SUBMITTED', 'job-id': '1', 'cluster-name': cluster })
      expect(movesOf(submitted)['rt-detached']!.at(-1)).toBe('submitted')
      // On Slurm the summary does not promise that the cluster tears itself down.
      expect(submitted.summary).toMatch(/on Slurm, SkyPilot's idle autodown is not to count on/)
      const left = await post(run, on(), submitted)
      expect(left.code).toBe(0)
      expect(run.calls().filter((c) => c.startsWith('down'))).toEqual([])

      const collected = await main(run, { ...on(), mode: 'collect', 'job-id': '1', 'cluster-name': cluster, down: 'false', 'wait-minutes': '5', 'job-outputs': 'result' })
      expect(collected.outputs, shown(collected)).toMatchObject({ status: 'SUCCEEDED', 'exit-code': '0', result: 'done-detached' })
      expect((await post(run, on(), collected)).code).toBe(0)

      const down = await main(run, { 'api-server-endpoint': jobs!.endpoint, 'service-account-token': jobs!.token, mode: 'down', 'cluster-name': cluster })
      expect(down.outputs, shown(down)).toMatchObject({ status: 'TORN_DOWN', 'cluster-name': cluster })
      expect(down.code).toBe(0)
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
      await expectNothingLeft(name, jobs!.endpoint, auth())
    })

    it("a managed job whose run is cancelled while it RUNS: CANCELLED by name, the post step verifies it ended, its allocation is released", SLOW, async () => {
      const name = named('m-int')
      const run = realRun()
      const inputs = { ...on(), mode: 'managed', 'job-name': name, 'task-yaml': COUNTING('rt-managed-int', 120) }
      const m = await main(run, inputs, { interrupt: { when: (out) => out.includes('tick 3'), signal: 'SIGINT', then: [{ afterMs: 7500, signal: 'SIGTERM' }] } })
      expect(m.outputs, shown(m)).toMatchObject({ status: 'CANCELLED', 'exit-code': '103' })
      expect(run.calls()).toContain(`jobs cancel -y -n ${name}`)
      const p = await post(run, inputs, m)
      expect(p.code, shown(p)).toBe(0)
      expect(p.summary).toMatch(new RegExp(`Managed job '${name}' \\(\\d+\\) ended CANCELLED`))
      await expectNothingLeft(name, jobs!.endpoint, auth())
    })

    it('the API server restarts under a running job: the stream is followed again once it is back, the job is not launched twice, and it ends SUCCEEDED', SLOW, async () => {
      const cluster = named('r-restart')
      const restart = jobs!.restart
      const run = realRun()
      const inputs = { infra: 'slurm', 'api-server-endpoint': restart.endpoint, 'service-account-token': restart.token, 'cluster-name': cluster, 'task-yaml': COUNTING('rt-restart', 40) }
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
      await expectNothingLeft(cluster, restart.endpoint, { SKYPILOT_SERVICE_ACCOUNT_TOKEN: restart.token })
    })
  })
})

afterAll(async () => {
  if (!jobs) return
  // What a failed scenario left is named, and removed so that the next run starts clean.
  const left: string[] = []
  for (const [endpoint, token] of [[jobs.endpoint, jobs.token], [jobs.restart.endpoint, jobs.restart.token]] as const) {
    const r = await sky(['status', '-o', 'json'], endpoint, { env: { SKYPILOT_SERVICE_ACCOUNT_TOKEN: token } })
    const names = (JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as { name: string }[]).map((c) => c.name).filter((n) => n.startsWith(RUN))
    if (names.length > 0) await sky(['down', '-y', ...names], endpoint, { env: { SKYPILOT_SERVICE_ACCOUNT_TOKEN: token } })
    left.push(...names)
  }
  await waitFor('no managed job of this run in progress', async () => {
    const r = await sky(['jobs', 'queue', '-a', '-o', 'json'], jobs.endpoint, { env: auth() })
    const open = (JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as { job_name: string; status: string }[]).filter((j) => j.job_name.startsWith(RUN) && !['SUCCEEDED', 'FAILED', 'CANCELLED', 'FAILED_SETUP', 'FAILED_PRECHECKS', 'FAILED_NO_RESOURCE', 'FAILED_CONTROLLER'].includes(j.status))
    for (const j of open) await sky(['jobs', 'cancel', '-y', '-n', j.job_name], jobs.endpoint, { env: auth() })
    return open.length === 0
  }, { timeoutMs: 120_000, intervalMs: 10_000 })
  expect(left, 'clusters left by this file').toEqual([])
})

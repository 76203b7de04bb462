import { describe, expect, it } from 'vitest'
import type { FakeCall, FakeSky } from '../fake-sky/index.mjs'
import { callsOf, fake, fakeServer, withSky, withoutJobPrefixes } from '../helpers/fakes.js'
import { annotations, runMain, runMainThenPost, runPost, type StepOptions } from '../helpers/runner.js'

/**
 * Long runs and many runs: managed jobs, detach then collect, fan-out, exec on a reused cluster.
 * The action's bundles run as the runner runs them, against the test double of `sky`.
 */

const CLUSTER = 'gha-1234567890-1-train'
const HELLO = 'name: hello\nsetup: echo "setting up"\nrun: |\n  echo "hello from the job"\n'
const running = (status: string) => !['SUCCEEDED', 'FAILED', 'FAILED_SETUP', 'CANCELLED', 'FAILED_NO_RESOURCE'].includes(status)

/** Nothing left behind: no cluster, no cluster job or managed job still running. */
function expectNothingLeft(s: FakeSky): void {
  const l = s.ledger()
  expect(l.clusters).toEqual([])
  expect(l.jobs.filter((j) => running(j.status))).toEqual([])
  expect(l.managedJobs.filter((j) => running(j.status))).toEqual([])
}

/** Highest number of calls running at once, from their start/end timestamps. */
function maxConcurrent(calls: FakeCall[]): number {
  const edges = calls.flatMap((c) => [
    { t: c.start, d: 1 },
    { t: c.end, d: -1 }
  ])
  // An end at the same millisecond as a start comes first: they did not overlap.
  edges.sort((a, b) => a.t - b.t || a.d - b.d)
  let now = 0
  let max = 0
  for (const e of edges) max = Math.max(max, (now += e.d))
  return max
}

describe('managed jobs', () => {
  it('succeeds: jobs launch -y -n NAME, job id, status and recovery count 0', async () => {
    const s = fake()
    const { main, post } = await runMainThenPost(withSky(s, { inputs: { mode: 'managed', 'task-yaml': HELLO } }))
    expect(main.code).toBe(0)
    expect(main.stdout).toContain('hello from the job')
    expect(main.outputs).toMatchObject({ status: 'SUCCEEDED', 'job-id': '1', 'recovery-count': '0', 'exit-code': '0' })
    const launch = callsOf(s, 'jobs launch')
    expect(launch).toHaveLength(1)
    expect(launch[0]!.argv.slice(0, 5)).toEqual(['jobs', 'launch', '-y', '-n', CLUSTER])
    expect(launch[0]!.argv).not.toContain('--down')
    expect(post.code).toBe(0)
    expect(callsOf(s, 'jobs cancel')).toHaveLength(0)
    expect(s.ledger().managedJobs.map((j) => j.status)).toEqual(['SUCCEEDED'])
    expectNothingLeft(s)
  })

  it('a failing setup ends FAILED_SETUP and fails the step with a message', async () => {
    const s = fake()
    const { main, post } = await runMainThenPost(withSky(s, { inputs: { mode: 'managed', 'job-name': 'setup-breaks', 'task-yaml': 'setup: |\n  echo "setup breaks"\n  exit 4\nrun: echo "never runs"\n' } }))
    expect(main.code).toBe(1)
    expect(main.outputs).toMatchObject({ status: 'FAILED_SETUP', 'exit-code': '100' })
    expect(main.stdout).not.toContain('never runs')
    expect(callsOf(s, 'jobs launch')[0]!.argv.slice(0, 5)).toEqual(['jobs', 'launch', '-y', '-n', 'setup-breaks'])
    expect(callsOf(s, 'jobs launch')).toHaveLength(1) // a job that ran is not retried by default
    expect(annotations(main.stdout, 'error').join('\n')).toMatch(/Managed job 1 \(setup-breaks\) ended FAILED_SETUP: the job's setup command exited non-zero/)
    expect(main.summary).toContain('FAILED_SETUP')
    expect(post.code).toBe(0)
    expect(s.ledger().managedJobs.map((j) => j.status)).toEqual(['FAILED_SETUP'])
    expectNothingLeft(s)
  })

  it('preempted once, recovered: SUCCEEDED with recovery-count 1, and the summary says so', async () => {
    const s = fake({ managed: { preemptTimes: 1, preemptAfterMs: 150 } })
    const { main, post } = await runMainThenPost(withSky(s, { inputs: { mode: 'managed', 'task-yaml': 'run: |\n  echo "epoch start"\n  sleep 0.4\n  echo "epoch done"\n' } }))
    expect(main.code).toBe(0)
    expect(main.outputs).toMatchObject({ status: 'SUCCEEDED', 'recovery-count': '1' })
    expect(main.stdout).toContain('epoch done')
    expect(main.summary).toMatch(/SUCCEEDED \(recovered 1×\)/)
    expect(post.code).toBe(0)
    expect(s.ledger().managedJobs).toMatchObject([{ status: 'SUCCEEDED', recovery_count: 1 }])
    expectNothingLeft(s)
  })

  it('SIGINT while the managed job runs: main stops in the cancel window; post cancels it and verifies CANCELLED', async () => {
    const s = fake()
    const inputs = { mode: 'managed', 'task-yaml': 'run: |\n  echo "managed job started"\n  sleep 60\n' }
    let signalled = 0
    const main = await runMain(withSky(s, { inputs, interrupt: { when: (out) => out.includes('managed job started') && (signalled ||= Date.now()) > 0, signal: 'SIGINT' } }))
    expect(main.code).toBe(1)
    expect(Date.now() - signalled).toBeLessThan(7500)
    expect(main.outputs.status).toBe('CANCELLED')
    expect(main.stdout).toMatch(/Received SIGINT/)
    // Main's own cancel may have got there already; either way the post step cancels and checks.
    const mainEnded = Date.now()
    const post = await runPost(withSky(s, { inputs, runnerTemp: main.runnerTemp, state: main.state }))
    expect(post.code).toBe(0)
    const postCalls = s.calls().filter((c) => c.start >= mainEnded).map((c) => c.argv.join(' '))
    // By name: a followed managed job's id is printed only once it ends.
    expect(postCalls).toContain('jobs cancel -y -n gha-1234567890-1-train')
    expect(postCalls).toContain('jobs queue -a -v -o json')
    expect(post.summary).toMatch(/Managed job 'gha-1234567890-1-train' \(1\) ended CANCELLED/)
    expect(s.ledger().managedJobs.map((j) => j.status)).toEqual(['CANCELLED'])
    expectNothingLeft(s)
  })
})

describe('detach, then collect', () => {
  const TOKEN = 'sky_detach_collect_token'
  async function withServer(s: FakeSky, inputs: Record<string, string>): Promise<StepOptions> {
    const server = await fakeServer({ version: '0.14.1', token: TOKEN })
    return withSky(s, { inputs: { 'api-server-endpoint': server.url, 'service-account-token': TOKEN, ...inputs } })
  }
  /** A detached launch of `run`; returns the job id after checking that nothing was torn down. */
  async function detachedLaunch(s: FakeSky, run: string): Promise<string> {
    const { main, post } = await runMainThenPost(await withServer(s, { 'task-yaml': `run: |\n${run.replace(/^/gm, '  ')}\n`, detach: 'true' }))
    expect(main.code).toBe(0)
    // Returned once submitted: the job's log was not followed.
    expect(main.stdout).not.toMatch(/Job started\. Streaming logs|Job finished/)
    expect(main.outputs).toMatchObject({ status: 'SUBMITTED', 'job-id': '1', 'cluster-name': CLUSTER })
    expect(callsOf(s, 'launch')[0]!.argv).toContain('-d')
    expect(post.code).toBe(0)
    expect(callsOf(s, 'down')).toHaveLength(0)
    expect(s.ledger().clusters.map((c) => c.name)).toEqual([CLUSTER])
    return main.outputs['job-id']!
  }
  const collectInputs = (jobId: string, waitMinutes: string, cluster?: string) => ({ mode: 'collect', 'job-id': jobId, 'wait-minutes': waitMinutes, ...(cluster ? { 'cluster-name': cluster } : {}) })

  it('detach without an API server is refused, saying why, before any sky call', async () => {
    const s = fake()
    const main = await runMain(withSky(s, { inputs: { 'task-yaml': HELLO, detach: 'true' } }))
    expect(main.code).toBe(1)
    expect(annotations(main.stdout, 'error').join('\n')).toMatch(/'detach: true' needs a remote API server.*dies with it/)
    expect(s.calls()).toEqual([])
  })

  it('a finished job: collect reports SUCCEEDED and its post step tears the cluster down', async () => {
    const s = fake()
    const jobId = await detachedLaunch(s, 'echo "detached job ran"')
    await s.waitFor((l) => l.jobs.some((j) => j.status === 'SUCCEEDED'))
    const { main, post } = await runMainThenPost(await withServer(s, collectInputs(jobId, '5', CLUSTER)))
    expect(main.code).toBe(0)
    expect(main.outputs).toMatchObject({ status: 'SUCCEEDED', 'job-id': jobId, 'cluster-name': CLUSTER, 'exit-code': '0' })
    expect(main.stdout).toContain('detached job ran')
    expect(main.summary).toContain('SkyPilot collect: SUCCEEDED')
    expect(post.code).toBe(0)
    expect(callsOf(s, 'down').map((c) => c.argv)).toEqual([['down', '-y', CLUSTER]])
    expectNothingLeft(s)
  })

  it('a job still running after wait-minutes: the step succeeds with RUNNING and the cluster stays', async () => {
    const s = fake()
    const jobId = await detachedLaunch(s, 'echo "long job started"\nsleep 60')
    await s.waitFor((l) => l.jobs.some((j) => j.status === 'RUNNING'))
    // 0.02 minutes = 1.2 s: a fraction of a minute keeps the test short.
    const { main, post } = await runMainThenPost(await withServer(s, collectInputs(jobId, '0.02', CLUSTER)))
    expect(main.code).toBe(0)
    expect(main.outputs).toMatchObject({ status: 'RUNNING', 'job-id': jobId })
    expect(main.stdout).toMatch(/still running after 0\.02 minutes; collect it again later/)
    expect(post.code).toBe(0)
    expect(callsOf(s, 'down')).toHaveLength(0)
    // Kept on purpose: the job runs on and a later collect picks it up.
    expect(s.ledger().clusters.map((c) => c.name)).toEqual([CLUSTER])
    expect(s.ledger().jobs.map((j) => j.status)).toEqual(['RUNNING'])
  })

  it('a failed job: collect reports FAILED, fails the step, and the post step tears down', async () => {
    const s = fake()
    const jobId = await detachedLaunch(s, 'echo "about to fail"\nexit 3')
    await s.waitFor((l) => l.jobs.some((j) => j.status === 'FAILED'))
    const { main, post } = await runMainThenPost(await withServer(s, collectInputs(jobId, '5', CLUSTER)))
    expect(main.code).toBe(1)
    expect(main.outputs).toMatchObject({ status: 'FAILED', 'exit-code': '100' })
    expect(annotations(main.stdout, 'error').join('\n')).toMatch(/ended FAILED: the job's run command exited non-zero/)
    expect(post.code).toBe(0)
    expectNothingLeft(s)
  })

  it("the job's allocation ends outside SkyPilot while collect follows it: UNKNOWN (not a failed launch), status asked once, the cluster kept and said so", async () => {
    const s = fake()
    const jobId = await detachedLaunch(s, 'echo "long job started"\nsleep 60')
    await s.waitFor((l) => l.jobs.some((j) => j.status === 'RUNNING'))
    // Ended once collect follows the job (its first line relayed), however loaded the machine.
    let relayed = ''
    const opts = await withServer(s, collectInputs(jobId, '5', CLUSTER))
    const main = await runMain({
      ...opts,
      onStdout: (chunk) => {
        if (relayed.includes('long job started')) return
        relayed += chunk
        if (relayed.includes('long job started')) s.endAllocation(CLUSTER)
      }
    })
    const post = await runPost({ ...opts, runnerTemp: main.runnerTemp, state: main.state })
    // sky logs ends 143 (its tail killed with the allocation): not the job's status. SkyPilot is asked.
    expect(main.code).toBe(1)
    expect(main.outputs).toMatchObject({ status: 'UNKNOWN', 'job-id': jobId })
    expect(callsOf(s, 'logs').filter((c) => c.argv.includes('--status'))).toHaveLength(1)
    const error = annotations(main.stdout, 'error').join('\n')
    expect(error).toMatch(/SkyPilot did not say how it ended \(.*CommandError.*; sky logs exited 143 \(the job's log ended by signal 15\): the job's driver was killed.*\)\. Check it with: sky logs --status gha-1234567890-1-train 1\./)
    // Its fate unknown, the cluster is not torn down under it; the message says so and how to end it.
    expect(error).toMatch(/Cluster gha-1234567890-1-train is kept, as its job may still be running: collect it again, or remove it with mode: down\./)
    expect(post.code).toBe(0)
    expect(callsOf(s, 'down')).toHaveLength(0)
    const down = await runMain(await withServer(s, { mode: 'down', 'cluster-name': CLUSTER }))
    expect(down.outputs.status, down.stdout).toBe('TORN_DOWN')
    expectNothingLeft(s)
  })

  it('a cluster that tore itself down before the collect: NOT_FOUND, saying so (not a capacity error)', async () => {
    const s = fake()
    const jobId = await detachedLaunch(s, 'echo "done early"')
    await s.waitFor((l) => l.jobs.some((j) => j.status === 'SUCCEEDED'))
    await s.run(['down', '-y', CLUSTER]) // what --down -i N does once the cluster has idled
    const { main, post } = await runMainThenPost(await withServer(s, collectInputs(jobId, '5', CLUSTER)))
    expect(main.code).toBe(1)
    expect(main.outputs.status).toBe('NOT_FOUND')
    const error = annotations(main.stdout, 'error').join('\n')
    expect(error).toMatch(/Cluster gha-1234567890-1-train no longer exists.*idle-minutes-to-autostop/)
    expect(error).not.toMatch(/capacity/)
    expect(post.code).toBe(0)
    expectNothingLeft(s)
  })

  it('a detached managed job, collected by job id alone', async () => {
    const s = fake()
    const { main, post } = await runMainThenPost(await withServer(s, { mode: 'managed', detach: 'true', 'task-yaml': 'run: |\n  echo "managed detached"\n  sleep 0.3\n' }))
    expect(main.code).toBe(0)
    expect(main.stdout).not.toContain('managed detached') // submitted, not followed
    expect(main.outputs).toMatchObject({ status: 'SUBMITTED', 'job-id': '1' })
    expect(callsOf(s, 'jobs launch')[0]!.argv).toContain('-d')
    expect(post.code).toBe(0)
    expect(callsOf(s, 'jobs cancel')).toHaveLength(0) // detached on purpose: post leaves it running
    const collected = await runMainThenPost(await withServer(s, collectInputs('1', '5')))
    expect(collected.main.code).toBe(0)
    expect(collected.main.outputs).toMatchObject({ status: 'SUCCEEDED', 'job-id': '1', 'recovery-count': '0' })
    expect(collected.main.outputs['cluster-name']).toBeUndefined()
    expect(collected.main.stdout).toContain('managed detached')
    // The whole log (sky shows only its last 1000 lines otherwise).
    expect(callsOf(s, 'jobs logs').map((c) => c.argv)).toEqual([['jobs', 'logs', '--tail', '0', '1']])
    expect(collected.post.code).toBe(0)
    expect(s.ledger().managedJobs.map((j) => j.status)).toEqual(['SUCCEEDED'])
    expectNothingLeft(s)
  })
})

describe('fan-out', () => {
  /** `count` tasks, each with its own env overrides; `tweak` changes a task by its 1-based index. */
  function taskList(count: number, run = 'echo "task $IDX lr $LR"\nsleep 0.4', tweak: (i: number) => object = () => ({})): string {
    return JSON.stringify(
      Array.from({ length: count }, (_, k) => {
        const i = k + 1
        return { name: `t${i}`, 'task-yaml': `envs:\n  IDX: null\n  LR: '0.1'\nrun: |\n${run.replace(/^/gm, '  ')}\n`, envs: { IDX: String(i), LR: `0.0${i}` }, ...tweak(i) }
      })
    )
  }
  const clusterOf = (i: number) => `${CLUSTER}-t${i}`

  it('20 tasks, max-parallel 4: never more than 4 launches at once, results and summary per task, one teardown call', async () => {
    const s = fake()
    const { main, post } = await runMainThenPost(withSky(s, { inputs: { tasks: taskList(20), 'max-parallel': '4' }, timeoutMs: 60_000 }))
    expect(main.code).toBe(0)
    const launches = callsOf(s, 'launch')
    expect(launches).toHaveLength(20)
    expect(maxConcurrent(launches)).toBe(4)
    // Each task got its own overrides.
    for (let i = 1; i <= 20; i++) {
      const argv = launches.find((c) => c.argv.includes(clusterOf(i)))!.argv
      expect(argv).toEqual(expect.arrayContaining(['--env', `IDX=${i}`, '--env', `LR=0.0${i}`]))
      expect(withoutJobPrefixes(main.stdout)).toMatch(new RegExp(`\\[t${i} *\\] task ${i} lr 0\\.0${i}`))
    }
    expect(main.outputs.status).toBe('SUCCEEDED')
    const results = JSON.parse(main.outputs.results!) as { name: string; 'cluster-name': string; status: string; 'job-id': string }[]
    expect(results.map((r) => r.name)).toEqual(Array.from({ length: 20 }, (_, k) => `t${k + 1}`))
    expect(results.every((r, k) => r.status === 'SUCCEEDED' && r['cluster-name'] === clusterOf(k + 1) && r['job-id'] === '1')).toBe(true)
    expect(main.summary).toContain('20 of 20 succeeded')
    for (let i = 1; i <= 20; i++) expect(main.summary.split('\n').filter((l) => l.startsWith(`| t${i} |`))).toHaveLength(1)
    expect(post.code).toBe(0)
    const downs = callsOf(s, 'down')
    expect(downs).toHaveLength(1)
    expect(downs[0]!.argv).toEqual(['down', '-y', ...Array.from({ length: 20 }, (_, k) => clusterOf(k + 1))])
    expectNothingLeft(s)
  }, 60_000)

  it('one task fails, fail-fast false: the others finish, the step fails and the results say which', { timeout: 60_000 }, async () => {
    const s = fake({ clusters: { '*-t3': { fail: true } } })
    const { main, post } = await runMainThenPost(withSky(s, { inputs: { tasks: taskList(6), 'max-parallel': '3', retries: '0', 'fail-fast': 'false' } }))
    expect(main.code).toBe(1)
    const results = JSON.parse(main.outputs.results!) as { name: string; status: string }[]
    expect(results.map((r) => `${r.name}:${r.status}`)).toEqual(['t1:SUCCEEDED', 't2:SUCCEEDED', 't3:LAUNCH_FAILED', 't4:SUCCEEDED', 't5:SUCCEEDED', 't6:SUCCEEDED'])
    expect(main.outputs.status).toBe('FAILED')
    expect(annotations(main.stdout, 'error').join('\n')).toMatch(/1 of 6 tasks did not succeed: t3 \(LAUNCH_FAILED\)/)
    expect(main.summary).toContain('5 of 6 succeeded')
    expect(post.code).toBe(0)
    expectNothingLeft(s)
  })

  it('one task fails, fail-fast true: running and provisioning siblings are stopped, the rest SKIPPED, the step fails', async () => {
    // t1 runs its job, t3 is still provisioning when t2 fails.
    const s = fake({ clusters: { '*-t3': { provisionMs: 30_000 } } })
    const tasks = taskList(8, 'echo "task $IDX running"\nsleep 30', (i) => (i === 2 ? { 'task-yaml': 'run: |\n  sleep 1\n  echo "t2 fails"\n  exit 1\n' } : {}))
    const { main, post } = await runMainThenPost(withSky(s, { inputs: { tasks, 'max-parallel': '3', 'fail-fast': 'true' } }))
    expect(main.code).toBe(1)
    // The siblings' jobs sleep 30 s: they were stopped, not waited for (none ended by itself).
    expect(s.ledger().jobs.map((j) => j.status)).not.toContain('SUCCEEDED')
    const results = JSON.parse(main.outputs.results!) as { name: string; status: string }[]
    expect(results.map((r) => `${r.name}:${r.status}`)).toEqual(['t1:CANCELLED', 't2:FAILED', 't3:CANCELLED', ...[4, 5, 6, 7, 8].map((i) => `t${i}:SKIPPED`)])
    expect(callsOf(s, 'launch')).toHaveLength(3)
    expect(main.stdout).toMatch(/\[t1 *\] Task t1 was cancelled \(fail-fast: another task failed\)/)
    expect(annotations(main.stdout, 'error').join('\n')).toMatch(/t2 \(FAILED\)/)
    // t3's launch request would go on provisioning on the server: main cancels it.
    expect(callsOf(s, 'api cancel')).toHaveLength(1)
    expect(s.ledger().requests.filter((r) => r.status === 'RUNNING')).toEqual([])
    expect(post.code).toBe(0)
    expectNothingLeft(s)
  })

  it('SIGINT mid-way: main stops promptly, provisioning requests are cancelled, post tears down every cluster', async () => {
    // t4 is still provisioning when the run is cancelled; t1-t3 are running their jobs.
    const s = fake({ clusters: { '*-t4': { provisionMs: 30_000 } } })
    const tasks = taskList(12, 'echo "task $IDX running"\nsleep 60')
    let signalled = 0
    const interrupt = { when: (out: string) => [1, 2, 3].every((i) => out.includes(`task ${i} running`)) && (signalled ||= Date.now()) > 0, signal: 'SIGINT' as const }
    const main = await runMain(withSky(s, { inputs: { tasks, 'max-parallel': '4' }, interrupt }))
    expect(main.code).toBe(1)
    expect(Date.now() - signalled).toBeLessThan(7500)
    expect(main.outputs.status).toBe('CANCELLED')
    const results = JSON.parse(main.outputs.results!) as { name: string; status: string }[]
    expect(results.slice(0, 4).map((r) => r.status)).toEqual(['CANCELLED', 'CANCELLED', 'CANCELLED', 'CANCELLED'])
    expect(results.slice(4).every((r) => r.status === 'SKIPPED')).toBe(true)
    expect(callsOf(s, 'launch')).toHaveLength(4)
    // Ctrl-C leaves the provisioning request running on the server: main cancels it.
    expect(callsOf(s, 'api cancel')).toHaveLength(1)
    expect(s.ledger().requests.filter((r) => r.status === 'RUNNING')).toEqual([])
    expect(s.ledger().clusters.map((c) => c.name).sort()).toEqual([1, 2, 3, 4].map(clusterOf).sort())
    const post = await runPost(withSky(s, { inputs: { tasks }, runnerTemp: main.runnerTemp, state: main.state }))
    expect(post.code).toBe(0)
    // Only the four tasks that were launched: the eight never started (their records say planned)
    // cost no sky call.
    expect(callsOf(s, 'down')[0]!.argv).toEqual(['down', '-y', ...[1, 2, 3, 4].map(clusterOf)])
    expectNothingLeft(s)
  })
})

describe('exec on a reused cluster', () => {
  const SETUP = 'setup: echo "SETUP RAN"\n'

  // Six steps against the double: more than the default 30 s on a loaded 2-core machine.
  it('launch with down: false, exec twice (no setup), the last exec with down: true tears it down', { timeout: 120_000 }, async () => {
    const s = fake()
    const cluster = 'reused-1'
    const first = await runMainThenPost(withSky(s, { inputs: { 'cluster-name': cluster, down: 'false', 'task-yaml': `${SETUP}run: echo "first job"\n` } }))
    expect(first.main.code).toBe(0)
    expect(first.main.stdout).toContain('SETUP RAN')
    expect(first.post.code).toBe(0)
    expect(s.ledger().clusters.map((c) => c.name)).toEqual([cluster])

    const second = await runMainThenPost(withSky(s, { inputs: { mode: 'exec', 'cluster-name': cluster, envs: 'STEP=2', 'task-yaml': `${SETUP}run: echo "second job, step $STEP"\n` } }))
    expect(second.main.code).toBe(0)
    expect(second.main.stdout).toContain('second job, step 2')
    expect(second.main.stdout).not.toContain('SETUP RAN')
    expect(second.main.outputs).toMatchObject({ status: 'SUCCEEDED', 'job-id': '2', 'cluster-name': cluster })
    const exec = callsOf(s, 'exec')
    expect(exec).toHaveLength(1)
    expect(exec[0]!.argv.slice(-2, -1)).toEqual([cluster])
    expect(exec[0]!.argv.at(-1)).toMatch(/\.ya?ml$/)
    for (const flag of ['-y', '--yes', '--down', '-i', '-c']) expect(exec[0]!.argv).not.toContain(flag)
    expect(second.post.code).toBe(0)
    expect(callsOf(s, 'down')).toHaveLength(0)
    expect(second.main.summary).toMatch(/left running.*sky down -y reused-1/)
    expect(s.ledger().clusters.map((c) => c.name)).toEqual([cluster])

    const last = await runMainThenPost(withSky(s, { inputs: { mode: 'exec', 'cluster-name': cluster, down: 'true', 'task-yaml': `${SETUP}run: echo "last job"\n` } }))
    expect(last.main.code).toBe(0)
    expect(last.main.stdout).toContain('last job')
    expect(last.main.stdout).not.toContain('SETUP RAN')
    expect(last.main.outputs['job-id']).toBe('3')
    expect(last.post.code).toBe(0)
    expect(callsOf(s, 'down').map((c) => c.argv)).toEqual([['down', '-y', cluster]])
    expectNothingLeft(s)
  })

  it('exec on a missing cluster fails with a message naming it, without retrying', async () => {
    const s = fake()
    const { main, post } = await runMainThenPost(withSky(s, { inputs: { mode: 'exec', 'cluster-name': 'no-such-cluster', 'task-yaml': 'run: echo hi\n', 'retry-delay-seconds': '0' } }))
    expect(main.code).toBe(1)
    expect(annotations(main.stdout, 'error').join('\n')).toMatch(/no-such-cluster.*does not exist/)
    expect(callsOf(s, 'exec').length).toBeLessThanOrEqual(1)
    expect(post.code).toBe(0)
    expectNothingLeft(s)
  })
})

// The contract of the test double of `sky` (test/fake-sky): what the rest of
// the suite may rely on when it puts the fake first on PATH.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createFakeSky, startFakeServer, type FakeSky, type FakeSkyConfig } from '../fake-sky/index.mjs'
import { updateLedger } from '../fake-sky/lib/ledger.mjs'
import { withoutJobPrefixes } from '../helpers/fakes.js'

const fakes: FakeSky[] = []
function fake(config: FakeSkyConfig = {}): FakeSky {
  const f = createFakeSky({ config })
  fakes.push(f)
  return f
}
afterEach(() => {
  for (const f of fakes.splice(0)) f.cleanup()
})

/** The JSON a command printed, after the lines the real CLI prints before it (e.g. `Cluster(s) not found`). */
function json(stdout: string): unknown {
  return JSON.parse(stdout.slice(stdout.search(/^[[{]/m)))
}

const YELLOW = (s: string) => `\x1b[33m${s}\x1b[0m`
const BOLD = (s: string) => `\x1b[1m${s}\x1b[0m`

function task(f: FakeSky, name: string, body: string): string {
  const file = path.join(f.home, name)
  fs.writeFileSync(file, body)
  return file
}

const HELLO = 'name: hello\nenvs:\n  GREETING: hi\nsetup: echo setup-ran\nrun: |\n  echo "$GREETING from rank $SKYPILOT_NODE_RANK of $SKYPILOT_NUM_NODES"\n'

describe('fake sky: CLI surface', () => {
  it('prints its version', async () => {
    const f = fake({ version: '0.13.2' })
    const r = await f.run(['--version'])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('skypilot, version 0.13.2\n')
    expect(f.calls()).toEqual([expect.objectContaining({ argv: ['--version'], exit: 0 })])
  })

  it('rejects an unknown flag and a missing value with click usage errors (exit 2)', async () => {
    const f = fake()
    const a = await f.run(['launch', '--no-such-flag', 'x.yaml'])
    expect(a.code).toBe(2)
    expect(a.stderr).toContain('Usage: sky launch [OPTIONS] [ENTRYPOINT]...')
    expect(a.stderr).toContain('Error: No such option: --no-such-flag')
    const b = await f.run(['status', '-o'])
    expect(b.code).toBe(2)
    expect(b.stderr).toContain("Error: Option '-o' requires an argument.")
    const c = await f.run(['exec', 'c', 'x.yaml', '--down'])
    expect(c.code).toBe(2)
    const d = await f.run(['status', '--output=xml'])
    expect(d.stderr).toContain("'xml' is not one of 'table', 'json'.")
  })

  it('requires FAKE_SKY_HOME', async () => {
    const f = fake()
    const r = await f.run(['status'], { env: { FAKE_SKY_HOME: '' } })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('FAKE_SKY_HOME')
  })
})

describe('fake sky: launch', () => {
  it('streams the run output, prints the job id, and records the cluster UP and the job SUCCEEDED', async () => {
    const f = fake()
    const file = task(f, 'hello.yaml', HELLO)
    const r = await f.run(['launch', '-y', '-c', 'c-ok', file])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('Job submitted, ID: 1')
    expect(r.stdout).toContain('setup-ran')
    expect(r.stdout).toContain('hi from rank 0 of 1')
    const l = f.ledger()
    expect(l.clusters).toEqual([expect.objectContaining({ name: 'c-ok', status: 'UP', autostop: -1, to_down: false })])
    expect(l.jobs).toEqual([expect.objectContaining({ cluster: 'c-ok', job_id: 1, status: 'SUCCEEDED' })])
    const second = await f.run(['exec', 'c-ok', file])
    expect(second.code).toBe(0)
    expect(second.stdout).toContain('Job submitted, ID: 2')
    expect(second.stdout).not.toContain('setup-ran')
  })

  it('passes --env and --secret (bare keys read the caller env) and keeps the caller env out of the job', async () => {
    const f = fake()
    const file = task(f, 'env.yaml', 'envs:\n  A: from-yaml\n  B: null\nsecrets:\n  TOKEN: null\nrun: echo "A=$A B=$B T=$TOKEN LEAK=${LEAK:-none}"\n')
    const r = await f.run(['launch', '-y', '-c', 'c-env', '--env', 'B', '--env=A=over', '--secret', 'TOKEN', file], {
      env: { B: 'bee', TOKEN: 's3cret', LEAK: 'leaked' }
    })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('A=over B=bee T=s3cret LEAK=none')
    expect(JSON.stringify(f.calls())).not.toContain('s3cret')
  })

  it('exits 100 with FAILED when run exits non-zero; --down tears the cluster down', async () => {
    const f = fake()
    const file = task(f, 'fail.yaml', 'run: exit 3\n')
    const r = await f.run(['launch', '-y', '--down', '-c', 'c-fail', file])
    expect(r.code).toBe(100)
    const l = f.ledger()
    expect(l.jobs[0]?.status).toBe('FAILED')
    expect(l.clusters).toEqual([])
  })

  it('exits 100 with FAILED_SETUP when setup fails, and keeps the cluster even with --down', async () => {
    const f = fake()
    const file = task(f, 'setup.yaml', 'setup: exit 1\nrun: echo never\n')
    const r = await f.run(['launch', '-y', '--down', '-c', 'c-setup', file])
    expect(r.code).toBe(100)
    expect(r.stdout).not.toContain('never')
    const l = f.ledger()
    expect(l.jobs[0]?.status).toBe('FAILED_SETUP')
    expect(l.clusters.map((c) => c.name)).toEqual(['c-setup'])
  })

  it('keeps the cluster with autostop and to_down for --down -i N', async () => {
    const f = fake()
    const file = task(f, 'ok.yaml', 'run: echo ok\n')
    const r = await f.run(['launch', '-y', '--down', '-i', '5', '-c', 'c-idle', file])
    expect(r.code).toBe(0)
    expect(f.ledger().clusters).toEqual([expect.objectContaining({ name: 'c-idle', autostop: 5, to_down: true })])
  })

  it('fails before any request on a null env, a bad name, invalid YAML, or a missing -y', async () => {
    const f = fake()
    const nullEnv = task(f, 'null.yaml', 'envs:\n  NEEDED: null\nrun: echo $NEEDED\n')
    const a = await f.run(['launch', '-y', '-c', 'c-null', nullEnv])
    expect(a.code).toBe(1)
    expect(a.stderr).toContain("ValueError: Environment variable 'NEEDED' is None.")
    const b = await f.run(['launch', '-y', '-c', '9bad_', nullEnv, '--env', 'NEEDED=1'])
    expect(b.code).toBe(1)
    expect(b.stderr).toContain('InvalidClusterNameError')
    const bad = task(f, 'bad.yaml', 'run: [unclosed\n')
    const c = await f.run(['launch', '-y', '-c', 'c-bad', bad])
    expect(c.code).toBe(1)
    const d = await f.run(['launch', '-c', 'c-noyes', nullEnv, '--env', 'NEEDED=1'])
    expect(d.code).toBe(1)
    expect(d.stderr).toContain('Aborted!')
    expect(f.ledger().clusters).toEqual([])
    expect(f.ledger().requests).toEqual([])
  })

  it('fails the first launch with failTimes, leaving INIT with leaveInit, then succeeds', async () => {
    const f = fake({ launch: { failTimes: 1, leaveInit: true } })
    const file = task(f, 'ok.yaml', 'run: echo second-time-lucky\n')
    const first = await f.run(['launch', '-y', '-c', 'c-flaky', file])
    expect(first.code).toBe(1)
    expect(first.stderr).toContain('sky.exceptions.ResourcesUnavailableError')
    expect(f.ledger().clusters).toEqual([expect.objectContaining({ name: 'c-flaky', status: 'INIT' })])
    expect(f.ledger().jobs).toEqual([])
    const second = await f.run(['launch', '-y', '-c', 'c-flaky', file])
    expect(second.code).toBe(0)
    expect(second.stdout).toContain('second-time-lucky')
    expect(f.ledger().clusters[0]?.status).toBe('UP')
  })

  it('no cloud enabled: the launch names its task and cluster, then fails with NoCloudAccessError (exit 1) and leaves nothing', async () => {
    const f = fake({ check: { enabled: [] } })
    const file = task(f, 'ok.yaml', 'run: echo ok\n')
    const r = await f.run(['launch', '-y', '-c', 'c-nocloud', file])
    expect(r).toMatchObject({
      code: 1,
      stdout: `YAML to run: ${file}\nRunning on cluster: c-nocloud\n`,
      stderr: 'sky.exceptions.NoCloudAccessError: Cloud access is not set up. Run: \x1b[1msky check\x1b[0m\n'
    })
    expect(f.ledger().clusters).toEqual([])
  })

  it('applies per-cluster overrides by glob', async () => {
    const f = fake({ clusters: { 'fan-2*': { failTimes: 5 } } })
    const file = task(f, 'ok.yaml', 'run: echo ok\n')
    const [a, b] = await Promise.all([
      f.run(['launch', '-y', '-d', '-c', 'fan-1', file]),
      f.run(['launch', '-y', '-d', '-c', 'fan-2', file])
    ])
    expect(a.code).toBe(0)
    expect(b.code).toBe(1)
    expect(f.ledger().clusters.map((c) => c.name)).toEqual(['fan-1'])
  })
})

describe('fake sky: down, status, logs', () => {
  it('sky down removes; a missing cluster is not an error; status -o json is [] afterwards', async () => {
    const f = fake()
    const file = task(f, 'ok.yaml', 'run: echo ok\n')
    expect((await f.run(['launch', '-y', '-c', 'c-down', file])).code).toBe(0)
    const d = await f.run(['down', '-y', 'c-*'])
    expect(d.code).toBe(0)
    expect(d.stdout).toContain('Terminating cluster c-down...done.')
    const missing = await f.run(['down', '-y', 'c-down'])
    expect(missing.code).toBe(0)
    expect(missing.stdout).toBe(`Cluster(s) not found: ${BOLD('c-down')}.\nCluster(s) not found (tip: see \`sky status\`).\n`)
    const s = await f.run(['status', 'c-down', '-o', 'json'])
    expect(s.code).toBe(0)
    expect(s.stdout).toBe(`Cluster(s) not found: ${BOLD('c-down')}.\n[]\n`)
  })

  it("cost-report prices the usage interval, which opens when provisioning starts, as its launched_at says (the cluster's own launched_at is when it was UP), as in SkyPilot", async () => {
    const f = fake({ check: { enabled: ['AWS'] }, prices: { AWS: 3600 }, launch: { provisionMs: 2000 } })
    const file = task(f, 'ok.yaml', 'run: echo ok\n')
    expect((await f.run(['launch', '-y', '-c', 'c-cost', file])).code).toBe(0)
    const [r] = json((await f.run(['cost-report', '-o', 'json', '--days', '1'])).stdout) as { launched_at: number; duration: number; usage_intervals: [number, number | null][]; total_cost: number }[]
    expect(r!.usage_intervals[0]![1]).toBeNull()
    // The history's launched_at is the interval's start; the cluster's own (sky status) is when it was UP.
    expect(r!.launched_at).toBe(r!.usage_intervals[0]![0])
    const [st] = json((await f.run(['status', '-o', 'json', 'c-cost'])).stdout) as { launched_at: number }[]
    expect(r!.usage_intervals[0]![0]).toBeLessThan(st!.launched_at)
    expect(r!.duration).toBeGreaterThanOrEqual(2)
    // $3600 an hour: a dollar a second of the interval.
    expect(r!.total_cost).toBe(r!.duration)
  })

  it('down.ignore: exits 0 as if terminated but the cluster remains', async () => {
    const f = fake({ down: { ignore: true } })
    const file = task(f, 'ok.yaml', 'run: echo ok\n')
    await f.run(['launch', '-y', '-c', 'c-sticky', file])
    const d = await f.run(['down', '-y', 'c-sticky'])
    expect(d.code).toBe(0)
    expect(d.stdout).toContain('...done.')
    expect(f.ledger().clusters.map((c) => c.name)).toEqual(['c-sticky'])
    const s = await f.run(['status', 'c-sticky', '-o', 'json'])
    expect(JSON.parse(s.stdout)).toEqual([expect.objectContaining({ name: 'c-sticky', status: 'UP' })])
  })

  it('answers logs --status and queue -o json; down cancels a running job', async () => {
    const f = fake()
    const file = task(f, 'long.yaml', 'run: echo started; sleep 30\n')
    const r = await f.run(['launch', '-y', '-d', '-c', 'c-long', file])
    expect(r.code).toBe(0)
    await f.waitFor((l) => l.jobs[0]?.status === 'RUNNING')
    const running = await f.run(['logs', 'c-long', '1', '--status'])
    // [live, on a real cluster] what it does first, in yellow, then the status.
    expect([running.code, running.stdout]).toEqual([101, '\x1b[33mGetting job status...\x1b[0m\nJob 1: RUNNING\n'])
    const unknown = await f.run(['logs', 'c-long', '7', '--status'])
    expect([unknown.code, unknown.stdout]).toEqual([102, '\x1b[33mGetting job status...\x1b[0m\nJob 7: None\nJob 7 not found\n'])
    const queue = await f.run(['queue', 'c-long', '-o', 'json'])
    expect(queue.stdout.split('\n')[0]).toBe('Fetching job queue for: c-long')
    const q = json(queue.stdout) as Record<string, unknown[]>
    expect(q['c-long']).toEqual([expect.objectContaining({ job_id: 1, job_name: '-', status: 'RUNNING' })])
    const tail = f.spawn(['logs', 'c-long', '1'])
    let streamed = ''
    tail.stdout.setEncoding('utf8').on('data', (d: string) => (streamed += d))
    const tailCode = new Promise((r) => tail.on('close', r))
    await f.waitFor(() => streamed.includes('started'))
    await f.run(['down', '-y', 'c-long'])
    expect(await tailCode).toBe(103)
    expect(f.ledger().jobs[0]?.status).toBe('CANCELLED')
  })
})

describe('fake sky: log streams', () => {
  it('sky logs shows the last 1000 lines unless --tail 0 or --no-follow, the hint on stderr, the final status at the end', async () => {
    const f = fake()
    expect((await f.run(['launch', '-y', '-c', 'c-tail', 'seq 1 1005'])).code).toBe(0)
    const numbers = (x: { stdout: string }) => withoutJobPrefixes(x.stdout).split('\n').filter((l) => /^\d+$/.test(l))
    const tailed = await f.run(['logs', 'c-tail', '1'])
    expect(tailed.stdout.split('\n')[0]).toBe(YELLOW("Tailing logs of job 1 on cluster 'c-tail'..."))
    expect([numbers(tailed)[0], numbers(tailed).length]).toEqual(['6', 1000])
    expect(tailed.stderr).toBe('Showing the last 1000 lines (default). Pass --tail 0 to print the entire log.\n')
    expect(tailed.stdout).toContain('\x1b[0m\x1b[32m✓ Job finished (status: SUCCEEDED).\x1b[0m\x1b[0m\n')
    expect(numbers(await f.run(['logs', '--tail', '0', 'c-tail', '1']))).toHaveLength(1005)
    expect(numbers(await f.run(['logs', '--no-follow', 'c-tail', '1']))).toHaveLength(1005)
    const missing = await f.run(['logs', 'nosuch', '1'])
    expect([missing.code, missing.stderr.split('\n')[1]]).toEqual([1, `sky.exceptions.ClusterDoesNotExist: ${YELLOW("Cluster 'nosuch' does not exist.")}`])
  })

  it('a stream that drops after the job was submitted: the client exits 1 on a ConnectionError, the job goes on', async () => {
    const f = fake({ launch: { dropStreamAfterMs: 400 } })
    const r = await f.run(['launch', '-y', '-c', 'c-drop', 'echo before; sleep 30'])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('Job submitted, ID: 1')
    expect(r.stdout).toContain('before')
    expect(r.stderr.trimEnd().split('\n').at(-1)).toMatch(
      /^requests\.exceptions\.ConnectionError: HTTPConnectionPool\(host='127\.0\.0\.1', port=46580\): Max retries exceeded with url: \/logs \(Caused by NewConnectionError/
    )
    expect(f.ledger().jobs[0]?.status).toBe('RUNNING')
  })
})

describe('fake sky: interrupts and requests', () => {
  it('SIGINT while the launch request streams prints the real hint and leaves everything running', async () => {
    const f = fake({ launch: { provisionMs: 1500 } })
    const file = task(f, 'ok.yaml', 'run: echo finished-anyway\n')
    const child = f.spawn(['launch', '-y', '-c', 'c-int', file])
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    await f.waitFor(() => stdout.includes('Launching on'))
    child.kill('SIGINT')
    const code = await new Promise((r) => child.on('close', r))
    expect(code).toBe(1)
    const [request] = f.ledger().requests
    expect(request?.cluster_name).toBe('c-int')
    // The client's logger: dim/bold codes kept, the newlines inside the message made \r\n.
    const rid = request!.request_id.slice(0, 8)
    expect(stdout).toContain(
      `\x1b[0m⚙︎ Request will continue running asynchronously.\r\n\x1b[2m├── \x1b[0m\x1b[2mView logs: \x1b[1msky api logs ${rid}\x1b[0m\r\n` +
        `\x1b[2m├── \x1b[0m\x1b[2mOr, visit: http://127.0.0.1:46580/api/stream?request_id=${rid}\r\n\x1b[2m└── \x1b[0m\x1b[2mTo cancel the request, run: \x1b[1msky api cancel ${rid}\x1b[0m\r\n`
    )
    expect(stderr).toContain('Aborted!')
    // The server side goes on: the cluster comes up and the job runs to the end.
    await f.waitFor((l) => l.jobs[0]?.status === 'SUCCEEDED')
    expect(f.ledger().clusters[0]?.status).toBe('UP')
  })

  it('--async prints the request id; sky api cancel stops a hanging provision', async () => {
    const f = fake({ launch: { hang: true } })
    const file = task(f, 'ok.yaml', 'run: echo never\n')
    const r = await f.run(['launch', '-y', '--async', '-c', 'c-hang', file])
    expect(r.code).toBe(0)
    const id = /Submitted sky\.launch request: ([0-9a-f-]{36})/.exec(r.stdout)?.[1]
    expect(id).toBeDefined()
    expect(f.ledger().clusters[0]).toMatchObject({ name: 'c-hang', status: 'INIT' })
    const c = await f.run(['api', 'cancel', id!.slice(0, 8)])
    expect(c.code).toBe(0)
    expect(c.stdout).toBe(`Cancelling 1 request: '${id!.slice(0, 8)}'...\nCancelled 1 request: ${id}\n`)
    const again = await f.run(['api', 'cancel', id!.slice(0, 8)])
    expect(again.stdout).toBe(`Cancelling 1 request: '${id!.slice(0, 8)}'...\nNo requests need to be cancelled.\n`)
    const l = f.ledger()
    expect(l.requests[0]?.status).toBe('CANCELLED')
    expect(l.clusters[0]?.status).toBe('INIT') // what was provisioned stays: tear it down
    expect((await f.run(['down', '-y', 'c-hang'])).code).toBe(0)
    expect(f.ledger().clusters).toEqual([])
  })
})

describe('fake sky: managed jobs', () => {
  it("with a jobs controller: `Job submitted, ID` is the controller's own job id, `Managed Job ID` comes after the job when following", async () => {
    // The job starts 1.5 s after it is submitted: the launch's follow is on by then, every time
    // (a job that ended before the follow began is the consolidation-mode test's case).
    const f = fake({ managed: { provisionMs: 1500 } })
    const file = task(f, 'mj.yaml', 'name: mj\nrun: echo managed-out\n')
    // No managed job yet, no controller: the queue is an error, as on a real server.
    const before = await f.run(['jobs', 'queue', '-o', 'json'])
    expect([before.code, before.stderr]).toEqual([1, 'sky.exceptions.ClusterNotUpError: No in-progress managed jobs.\n'])
    const first = await f.run(['jobs', 'launch', '-y', '-n', 'mj', file])
    expect(first.code).toBe(0)
    // The controller had run 10 cluster jobs before (controllerJobsBefore's default): its job id
    // is not the managed job's.
    expect(first.stdout).toContain(`${YELLOW("Launching managed job 'mj' from jobs controller...")}\n\x1b[0m⚙︎ Job submitted, ID: 11\n`)
    expect(first.stdout.indexOf('managed-out')).toBeLessThan(first.stdout.indexOf('Managed job finished: 1 (status: SUCCEEDED).'))
    expect(first.stdout.indexOf('Managed job finished')).toBeLessThan(first.stdout.indexOf('📋 Useful Commands\nManaged Job ID: 1\n'))
    expect((await f.run(['jobs', 'launch', '-y', '-d', '-n', 'x', file])).code).toBe(0)
    const detached = await f.run(['jobs', 'launch', '-y', '-d', '-n', 'mj2', file])
    expect(detached.stdout).toMatch(/Job submitted, ID: 13\n\n📋 Useful Commands\nManaged Job ID: 3\n/)
    const q = json((await f.run(['jobs', 'queue', '-o', 'json'])).stdout) as Record<string, unknown>[]
    expect(q.map((j) => j.job_id)).toEqual([3, 2, 1])
    expect(q[2]).toMatchObject({ job_id: 1, job_name: 'mj', status: 'SUCCEEDED', recovery_count: 0, failure_reason: null, user_name: null })
    expect(f.ledger().clusters).toEqual([])
    expect((await f.run(['jobs', 'launch', '-y', '--down', file])).code).toBe(2)
  })

  it('consolidation mode without a cloud: no `Job submitted` line, FAILED_PRECHECKS and why (only with -v), exit 100', async () => {
    // The pre-checks fail 0.8 s after submission: the launch's follow sees the job end.
    const f = fake({ check: { enabled: [] }, managed: { consolidation: true, provisionMs: 800 } })
    const file = task(f, 'mj.yaml', 'run: echo never\n')
    const r = await f.run(['jobs', 'launch', '-y', '-n', 'pre', file])
    expect(r.code).toBe(100)
    expect(r.stdout).not.toContain('Job submitted')
    expect(r.stdout).toContain(`\x1b[0m\x1b[32m✓ Managed job finished: 1 (status: FAILED_PRECHECKS).\x1b[0m\x1b[0m\n\n\n📋 Useful Commands\nManaged Job ID: 1\n`)
    // Failed at once (before the follow starts): why, in the job's own words, then the hints.
    f.writeConfig({ managed: { provisionMs: 0 } })
    const quick = await f.run(['jobs', 'launch', '-y', '-n', 'pre2', file])
    expect(quick.stdout).toContain(
      `\x1b[33mJob 2 is already in terminal state FAILED_PRECHECKS. For more details, run: sky jobs logs --controller 2\x1b[0m\nFailure reason: [sky.exceptions.NoCloudAccessError] Cloud access is not set up. Run: \x1b[1msky check\x1b[0m\n\n📋 Useful Commands\nManaged Job ID: 2\n`
    )
    const plain = json((await f.run(['jobs', 'queue', '-o', 'json'])).stdout) as Record<string, unknown>[]
    expect(plain[1]).toMatchObject({ job_id: 1, status: 'FAILED_PRECHECKS', failure_reason: null })
    const verbose = json((await f.run(['jobs', 'queue', '-v', '-o', 'json'])).stdout) as Record<string, unknown>[]
    expect(verbose[1]?.failure_reason).toBe('[sky.exceptions.NoCloudAccessError] Cloud access is not set up. Run: \x1b[1msky check\x1b[0m')
    const logs = await f.run(['jobs', 'logs', '1'])
    expect([logs.code, logs.stderr]).toEqual([100, 'Showing the last 1000 lines (default). Pass --tail 0 to print the entire log.\n'])
    expect(logs.stdout).toContain('Failure reason: [sky.exceptions.NoCloudAccessError]')
    expect((await f.run(['jobs', 'logs', '--no-follow', '1'])).code).toBe(0)
    const unknown = await f.run(['jobs', 'logs', '9'])
    expect([unknown.code, unknown.stdout]).toEqual([102, 'Job 9 not found.\n'])
  })

  it('no cloud and no jobs controller: the launch fails bringing the controller up (exit 1)', async () => {
    const f = fake({ check: { enabled: [] } })
    const file = task(f, 'mj.yaml', 'run: echo never\n')
    const r = await f.run(['jobs', 'launch', '-y', '-n', 'nc', file])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/Ensuring the jobs controller sky-jobs-controller-[0-9a-f]{8} is up before continuing job launch/)
    expect(r.stderr).toBe('sky.exceptions.NoCloudAccessError: Cloud access is not set up. Run: \x1b[1msky check\x1b[0m\n')
    expect(f.ledger().managedJobs).toEqual([])
  })

  it('a pipeline: one queue row per task; a failed task cancels the rest, and the job ends CANCELLED (exit 103)', async () => {
    const f = fake({ managed: { controller: 'up' } })
    const file = task(f, 'p.yaml', 'name: pipe\n---\nname: a\nrun: exit 1\n---\nname: b\nrun: echo b\n')
    const r = await f.run(['jobs', 'launch', '-y', file])
    expect(r.code).toBe(103)
    const q = json((await f.run(['jobs', 'queue', '-o', 'json'])).stdout) as Record<string, unknown>[]
    expect(q.map((j) => [j.job_id, j.task_id, j.job_name, j.task_name, j.status])).toEqual([
      [1, 0, 'pipe', 'a', 'FAILED'],
      [1, 1, 'pipe', 'b', 'CANCELLED']
    ])
  })

  it('jobs queue shows the 50 newest jobs unless -a or --limit', async () => {
    const f = fake({ managed: { controller: 'up' } })
    updateLedger(f.home, (l: { managedJobs: unknown[] }) => {
      for (let id = 1; id <= 52; id++) l.managedJobs.push({ job_id: id, task_id: 0, job_name: `j${id}`, status: 'SUCCEEDED', submitted_at: id, end_at: id, log: '' })
    })
    const ids = async (...args: string[]) => (json((await f.run(['jobs', 'queue', '-o', 'json', ...args])).stdout) as { job_id: number }[]).map((j) => j.job_id)
    const shown = await ids()
    expect([shown.length, shown[0], shown.at(-1)]).toEqual([50, 52, 3])
    expect(await ids('-a')).toHaveLength(52)
    expect(await ids('-l', '2')).toEqual([52, 51])
  })

  it('jobs cancel: a running job is scheduled to be cancelled (by id or name); finished and unknown ones are skipped', async () => {
    const f = fake({ managed: { controller: 'up' } })
    const file = task(f, 'mj.yaml', 'run: sleep 30\n')
    expect((await f.run(['jobs', 'launch', '-y', '-d', '-n', 'long', file])).code).toBe(0)
    await f.waitFor((l) => l.managedJobs[0]?.status === 'RUNNING')
    const byName = await f.run(['jobs', 'cancel', '-y', '-n', 'long'])
    expect(byName.stdout).toBe("'long' Job with ID 1 is scheduled to be cancelled.\n")
    const again = await f.run(['jobs', 'cancel', '-y', '1', '7'])
    expect(again.stdout).toBe('Job 1 is already in terminal state CANCELLED. Skipped.\nJob 7 not found. Skipped.\nNo job to cancel.\n')
    expect((await f.run(['jobs', 'cancel', '-y', '-n', 'long'])).stdout).toBe("No running job found with name 'long'.\n")
    const none = await f.run(['jobs', 'cancel', '-y'])
    expect([none.code, none.stderr]).toEqual([2, expect.stringContaining("Error: Can only specify one of JOB_IDS, --name, --pool, or --all/--all-users. Provided ''.")])
  })

  it('recovers from a preemption (recovery_count 1) and completes', async () => {
    const f = fake({ managed: { preemptTimes: 1, preemptAfterMs: 200 } })
    const file = task(f, 'mj.yaml', 'run: |\n  echo attempt\n  sleep 1\n  echo done-run\n')
    const r = await f.run(['jobs', 'launch', '-y', '-n', 'spot', file])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('RECOVERING')
    expect(r.stdout.match(/attempt/g)?.length).toBe(2)
    expect(f.ledger().managedJobs[0]).toMatchObject({ status: 'SUCCEEDED', recovery_count: 1 })
  })

  it('cancels a managed job: the follower exits 103', async () => {
    const f = fake()
    const file = task(f, 'mj.yaml', 'run: sleep 30\n')
    const follower = f.run(['jobs', 'launch', '-y', '-n', 'long', file])
    await f.waitFor((l) => l.managedJobs[0]?.status === 'RUNNING')
    const c = await f.run(['jobs', 'cancel', '-y', '1'])
    expect(c.code).toBe(0)
    expect((await follower).code).toBe(103)
    expect(f.ledger().managedJobs[0]?.status).toBe('CANCELLED')
  })
})

describe('fake sky: API server', () => {
  it('checks health with the token; wrong token, unreachable, and version skew exit 1', async () => {
    const server = await startFakeServer({ version: '0.14.1', token: 'sky_good' })
    const f = fake()
    try {
      const ok = await f.run(['api', 'info', '-o', 'json'], {
        env: { SKYPILOT_API_SERVER_ENDPOINT: server.url, SKYPILOT_SERVICE_ACCOUNT_TOKEN: 'sky_good' }
      })
      expect(ok.code).toBe(0)
      expect(JSON.parse(ok.stdout)).toMatchObject({ server: { url: server.url, status: 'healthy', version: '0.14.1' }, user: 'ci-bot' })
      expect(server.requests.at(-1)?.authorization).toBe('Bearer sky_good')

      const bad = await f.run(['status', '-o', 'json'], {
        env: { SKYPILOT_API_SERVER_ENDPOINT: server.url, SKYPILOT_SERVICE_ACCOUNT_TOKEN: 'sky_wrong' }
      })
      expect(bad.code).toBe(1)
      expect(bad.stderr).toContain('ApiServerAuthenticationError')

      const old = await f.run(['status'], {
        env: { SKYPILOT_API_SERVER_ENDPOINT: server.url, SKYPILOT_SERVICE_ACCOUNT_TOKEN: 'sky_good' }
      })
      expect(old.code).toBe(0)
      f.writeConfig({ version: '0.12.0' })
      const skew = await f.run(['status'], {
        env: { SKYPILOT_API_SERVER_ENDPOINT: server.url, SKYPILOT_SERVICE_ACCOUNT_TOKEN: 'sky_good' }
      })
      expect(skew.code).toBe(1)
      expect(skew.stderr).toContain('APIVersionMismatchError: Your SkyPilot client version is too old')
    } finally {
      await server.close()
    }
    const down = await f.run(['status'], { env: { SKYPILOT_API_SERVER_ENDPOINT: 'http://user:hunter2@127.0.0.1:9' } })
    expect(down.code).toBe(1)
    // As the real client: the endpoint as given, credentials included (the action must mask it).
    expect(down.stderr).toContain('Could not connect to SkyPilot API server at http://user:hunter2@127.0.0.1:9. ')
    const info = await f.run(['api', 'info', '-o', 'json'], { env: { SKYPILOT_API_SERVER_ENDPOINT: 'http://127.0.0.1:9' } })
    expect(info.code).toBe(0)
  })

  it('basic auth: a wrong password passes /api/health (user null) and is refused at the first request; an invalid token is refused at once', async () => {
    const server = await startFakeServer({ version: '0.14.1', token: 'sky_good', basicAuth: { user: 'ci', pass: 'pw' } })
    const f = fake()
    try {
      const health = await fetch(`${server.url}/api/health`, { headers: { Authorization: `Basic ${Buffer.from('ci:wrong').toString('base64')}` } })
      expect([health.status, ((await health.json()) as { user: unknown }).user]).toEqual([200, null])
      const bad = await fetch(`${server.url}/api/health`, { headers: { Authorization: 'Bearer sky_bad' } })
      expect([bad.status, await bad.json()]).toEqual([401, { detail: 'Invalid or expired service account token' }])
      const wrong = await f.run(['status', '-o', 'json'], { env: { SKYPILOT_API_SERVER_ENDPOINT: server.url.replace('://', '://ci:wrong@') } })
      expect(wrong.code).toBe(1)
      expect(wrong.stderr.trimEnd().split('\n').at(-1)).toBe(`requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: ${server.url.replace('://', '://ci:wrong@')}/jobs/queue/v2`)
      const right = await f.run(['status', '-o', 'json'], { env: { SKYPILOT_API_SERVER_ENDPOINT: server.url.replace('://', '://ci:pw@') } })
      expect([right.code, right.stdout]).toEqual([0, '[]\n'])
      const token = await f.run(['status', '-o', 'json'], { env: { SKYPILOT_API_SERVER_ENDPOINT: server.url, SKYPILOT_SERVICE_ACCOUNT_TOKEN: 'sky_bad' } })
      expect([token.code, token.stderr]).toEqual([1, `sky.exceptions.ApiServerAuthenticationError: Authentication required for SkyPilot API server at ${server.url}. Please run:\n  sky api login -e ${server.url}\n`])
    } finally {
      await server.close()
    }
    const proxy = await startFakeServer({ authProxy: true })
    try {
      // Behind an auth proxy an anonymous probe (no client API version) learns only that it is up.
      expect(await (await fetch(`${proxy.url}/api/health`)).json()).toEqual({ status: 'healthy' })
    } finally {
      await proxy.close()
    }
  })

  it('sky api status lists SkyPilot\'s own daemons (user skypilot-system) beside the user\'s running requests', async () => {
    const f = fake({ managed: { consolidation: true } })
    const rows = json((await f.run(['api', 'status', '-o', 'json'])).stdout) as Record<string, unknown>[]
    expect(rows.every((r) => r.user_name === 'skypilot-system' && r.status === 'RUNNING')).toBe(true)
    expect(rows.map((r) => r.name)).toContain('sky.managed-job-status-refresh')
  })

  it('sky check reports the configured clouds and exits 0 with none', async () => {
    const f = fake({ check: { enabled: ['AWS'] } })
    const r = await f.run(['check', '-o', 'json'])
    expect(JSON.parse(r.stdout)).toEqual({ default: { AWS: ['compute', 'storage'] } })
    f.writeConfig({ check: { enabled: [] } })
    const none = await f.run(['check', '-o', 'json'])
    expect(none.code).toBe(0)
    expect(JSON.parse(none.stdout)).toEqual({ default: {} })
  })
})

describe('fake sky: concurrency', () => {
  it('keeps the ledger consistent under 20 concurrent launches', async () => {
    const f = fake()
    const file = task(f, 'ok.yaml', 'run: echo "$SKYPILOT_TASK_ID"\n')
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => f.run(['launch', '-y', '-c', `fan-${i}`, file]))
    )
    expect(results.map((r) => r.code)).toEqual(Array(20).fill(0))
    const l = f.ledger()
    expect(l.clusters.map((c) => c.name).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `fan-${i}`).sort())
    expect(l.jobs.filter((j) => j.status === 'SUCCEEDED')).toHaveLength(20)
    expect(l.requests).toHaveLength(20)
    expect(f.calls()).toHaveLength(20)
  }, 30_000)
})

describe('fake sky: real-job faults seen on a real Slurm cluster', () => {
  it("an allocation ended outside SkyPilot: the tail exits 143 without a final status; logs --status and queue fail with the runtime's CommandError; the cluster stays UP until torn down", async () => {
    const f = fake({ launch: { allocationEndsAfterMs: 500 } })
    const r = await f.run(['launch', '-y', '-c', 'c-gone', 'echo started; sleep 30'])
    expect(r.code).toBe(143)
    expect(r.stdout).not.toContain('Job finished')
    expect(r.stdout).toMatch(/\x1b\[36m\(sky-cmd, pid=\d+\)\x1b\[0m started/)
    const st = await f.run(['logs', '--status', 'c-gone', '1'])
    expect(st.code).toBe(1)
    expect(st.stderr).toMatch(/sky\.exceptions\.CommandError: .*failed with return code 1\./)
    const q = await f.run(['queue', '-o', 'json', 'c-gone'])
    expect([q.code, q.stdout.trim().split('\n').at(-1)]).toEqual([0, '{}'])
    expect(f.ledger().clusters[0]?.status).toBe('UP')
    expect((await f.run(['down', '-y', 'c-gone'])).code).toBe(0)
    expect(f.ledger().clusters).toEqual([])
  })

  it("a managed job's record that lags its end: the follow ends `Managed job finished: N (status: RUNNING)`, exit 101, and the queue says SUCCEEDED later", async () => {
    const f = fake({ managed: { consolidation: true, recordLagMs: 1500 } })
    const r = await f.run(['jobs', 'launch', '-y', '-n', 'lag', 'echo hi'])
    expect(r.code).toBe(101)
    expect(r.stdout).toContain('Managed job finished: 1 (status: RUNNING).')
    await f.waitFor((l) => l.managedJobs[0]?.status === 'SUCCEEDED')
  })
})

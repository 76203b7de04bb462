// The contract of the test double of `sky` (test/fake-sky): what the rest of
// the suite may rely on when it puts the fake first on PATH.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createFakeSky, startFakeServer, type FakeSky, type FakeSkyConfig } from '../fake-sky/index.mjs'

const fakes: FakeSky[] = []
function fake(config: FakeSkyConfig = {}): FakeSky {
  const f = createFakeSky({ config })
  fakes.push(f)
  return f
}
afterEach(() => {
  for (const f of fakes.splice(0)) f.cleanup()
})

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
    expect(missing.stdout).toContain('Cluster(s) not found (tip: see `sky status`).')
    const s = await f.run(['status', 'c-down', '-o', 'json'])
    expect(s.code).toBe(0)
    expect(JSON.parse(s.stdout)).toEqual([])
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
    expect((await f.run(['logs', 'c-long', '1', '--status'])).code).toBe(101)
    expect((await f.run(['logs', 'c-long', '7', '--status'])).code).toBe(102)
    const q = JSON.parse((await f.run(['queue', 'c-long', '-o', 'json'])).stdout)
    expect(q['c-long']).toEqual([expect.objectContaining({ job_id: 1, status: 'RUNNING' })])
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
    expect(stdout).toContain('Request will continue running asynchronously.')
    expect(stdout).toContain(`sky api cancel ${request?.request_id.slice(0, 8)}`)
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
    const l = f.ledger()
    expect(l.requests[0]?.status).toBe('CANCELLED')
    expect(l.clusters[0]?.status).toBe('INIT') // what was provisioned stays: tear it down
    expect((await f.run(['down', '-y', 'c-hang'])).code).toBe(0)
    expect(f.ledger().clusters).toEqual([])
  })
})

describe('fake sky: managed jobs', () => {
  it('runs a managed job to success and never shows its cluster', async () => {
    const f = fake()
    const file = task(f, 'mj.yaml', 'name: mj\nrun: echo managed-out\n')
    const r = await f.run(['jobs', 'launch', '-y', '-n', 'mj', file])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('Managed Job ID: 1')
    expect(r.stdout).toContain('managed-out')
    const q = JSON.parse((await f.run(['jobs', 'queue', '-o', 'json'])).stdout)
    expect(q).toEqual([expect.objectContaining({ job_id: 1, job_name: 'mj', status: 'SUCCEEDED', recovery_count: 0 })])
    expect(f.ledger().clusters).toEqual([])
    expect((await f.run(['jobs', 'launch', '-y', '--down', file])).code).toBe(2)
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
    expect(down.stderr).toContain('Could not connect to SkyPilot API server at http://127.0.0.1:9')
    expect(down.stderr).not.toContain('hunter2')
    const info = await f.run(['api', 'info', '-o', 'json'], { env: { SKYPILOT_API_SERVER_ENDPOINT: 'http://127.0.0.1:9' } })
    expect(info.code).toBe(0)
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

import fs from 'node:fs'
import os from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFakeSky, type FakeSky } from '../fake-sky/index.mjs'
import { updateLedger } from '../fake-sky/lib/ledger.mjs'
import { withoutJobPrefixes } from '../helpers/fakes.js'
import { servers } from './lib/servers.js'
import { realFacts, type Facts } from './contract/facts.js'
import { endings, followEnding, jsonOf, jsonType, lastLine, normalize, requestSubst, shape, type Subst } from './contract/normalize.js'
import { PIPELINE, TASK, closedPort, doubleSide, droppingServer, hostPort, realSide, workdir, writePipeline, type DoubleSide, type Result } from './contract/sides.js'

/**
 * The contract of the test double (test/fake-sky): the same commands, run by the real CLI against
 * the real servers and by the double against its mirror of them (no cloud; a server with no jobs
 * controller, one in consolidation mode, one with basic auth and service accounts), give what the
 * action reads identically: exit codes, the text lines it scans (byte for byte, colour codes
 * included, after normalize.ts replaced addresses, ids and versions), JSON fields and their types.
 * What no cloud-less server can show is held against the real code instead (facts.py), read at
 * test time. Run: REAL_TIER_PORT_BASE=46910 npx vitest run --config vitest.real.config.ts test/real/contract.test.ts
 */

const s = servers()
const run = `ct${Date.now().toString(36).slice(-5)}`
const names = { c1: `${run}-c1`, c3: `${run}-c3`, m0: `${run}-m0`, m1: `${run}-m1`, m2: `${run}-m2`, pipe: `${run}-p` }
const REAL_USER = os.userInfo().username
const withCredentials = (url: string, user: string, password: string) => url.replace('://', `://${encodeURIComponent(user)}:${encodeURIComponent(password)}@`)

type Side = (args: string[], extra?: NodeJS.ProcessEnv) => Promise<Result>
interface Pair {
  real: Side
  double: DoubleSide
  realHost: string
}
interface Both {
  real: Result
  double: Result
}

let facts: Facts
let version: string
let plain: Pair
let cons: Pair
let auth: Pair
const doubles: DoubleSide[] = []
const fakes: FakeSky[] = []

/** Runs one command on both sides at once; `args` may differ per side (ids). */
async function both(p: Pair, args: string[] | ((side: 'real' | 'double') => string[]), extra: NodeJS.ProcessEnv = {}): Promise<Both> {
  const argv = typeof args === 'function' ? args : () => args
  const [real, double] = await Promise.all([p.real(argv('real'), extra), p.double.run(argv('double'), extra)])
  return { real, double }
}

interface Expect {
  real?: Subst
  double?: Subst
  /** 'exact' (default), 'last-line' (a traceback: only its last line is the CLI's own). */
  stderr?: 'exact' | 'last-line'
  /** A last rewrite of both sides' stdout (e.g. followEnding). */
  canon?: (text: string) => string
}

function same(p: Pair, r: Both, o: Expect = {}): void {
  const norm = (side: 'real' | 'double', text: string) => {
    const sub = { ...(o[side] ?? {}) }
    sub.hostPorts = [...(sub.hostPorts ?? []), side === 'real' ? p.realHost : hostPort(p.double.endpoint)]
    sub.literal = { ...(sub.literal ?? {}), [version]: '<VERSION>' }
    return normalize(text, sub)
  }
  const view = (side: 'real' | 'double') => {
    const x = r[side]
    const err = o.stderr === 'last-line' ? lastLine(x.stderr) : x.stderr
    const stdout = norm(side, x.stdout)
    return { exit: x.code, stdout: o.canon ? o.canon(stdout) : stdout, stderr: norm(side, err) }
  }
  // As text, so that a failure shows the lines that differ.
  const text = (side: 'real' | 'double') => JSON.stringify(view(side), null, 1).replace(/\\n/g, '\\n\n')
  expect(text('double')).toBe(text('real'))
}

beforeAll(async () => {
  const real = realSide(s.plain)
  const [health, f] = await Promise.all([fetch(`${s.plain}/api/health`).then((r) => r.json() as Promise<{ version: string }>), realFacts()])
  facts = f
  // The server's version is the client's here (one build): the double is configured with it.
  version = health.version
  // The mirrors: the real environment as the double's configuration.
  const base = { version, userName: REAL_USER, check: { enabled: [] as string[] } }
  const [p, c, a] = await Promise.all([
    doubleSide(base, { version }),
    doubleSide({ ...base, managed: { consolidation: true } }, { version }),
    doubleSide(base, { version, basicAuth: { user: s.authUser, pass: s.authPassword }, token: 'sky_contract-token', user: { name: s.tokenName, id: 'sa-contract' } })
  ])
  doubles.push(p, c, a)
  plain = { real, double: p, realHost: hostPort(s.plain) }
  cons = { real: realSide(s.consolidation), double: c, realHost: hostPort(s.consolidation) }
  auth = { real: realSide(s.auth), double: a, realHost: hostPort(s.auth) }
})

afterAll(async () => {
  for (const d of doubles) {
    d.fake.cleanup()
    await d.server.close()
  }
  for (const f of fakes) f.cleanup()
  fs.rmSync(workdir, { recursive: true, force: true })
})

describe.concurrent('the double answers as the real CLI does', () => {
  it('sky --version', async () => {
    same(plain, await both(plain, ['--version']))
  })

  it('no cloud: sky launch names its task and cluster, then fails with NoCloudAccessError (exit 1)', async () => {
    const r = await both(plain, ['launch', '-y', '-c', names.c1, TASK])
    same(plain, r)
    expect(r.real.code).toBe(1)
  })

  it('sky status -o json of a missing cluster: the not-found line, then [] (exit 0)', async () => {
    same(plain, await both(plain, ['status', `${run}-nosuch`, '-o', 'json']))
  })

  it('cluster commands on a missing cluster: down (exit 0), queue -o json ({} exit 0), logs / logs --status (exit 1), cancel (usage error, exit 2)', async () => {
    const nosuch = `${run}-gone`
    const cases = [
      ['down', '-y', nosuch],
      ['queue', nosuch, '-o', 'json'],
      ['logs', nosuch, '1'],
      ['logs', '--status', nosuch, '1'],
      ['cancel', '-y', nosuch, '1']
    ]
    const results = await Promise.all(cases.map((c) => both(plain, c)))
    for (const r of results) same(plain, r)
    expect(results.map((r) => r.real.code)).toEqual([0, 0, 1, 1, 2])
  })

  it('no jobs controller (a server without consolidation mode, no managed job yet): queue, cancel, logs exit 1 with ClusterNotUpError; a launch fails bringing the controller up without a cloud', async () => {
    const cases = [
      ['jobs', 'queue', '-o', 'json'],
      ['jobs', 'cancel', '-y', '1'],
      ['jobs', 'logs', '1'],
      ['jobs', 'launch', '-y', '-n', names.m0, TASK]
    ]
    const results = await Promise.all(cases.map((c) => both(plain, c)))
    for (const r of results) same(plain, r)
    expect(results.map((r) => r.real.code)).toEqual([1, 1, 1, 1])
  })

  it('an unreachable server: sky api info -o json prints text, exit 0; sky status fails with ApiServerConnectionError naming the endpoint as given, credentials included', async () => {
    const gone = `http://u:p@127.0.0.1:${await closedPort()}`
    const pair = { ...plain, double: { ...plain.double, endpoint: gone }, realHost: hostPort(gone) }
    for (const args of [['api', 'info', '-o', 'json'], ['status', '-o', 'json']]) {
      const r = { real: await plain.real(args, { SKYPILOT_API_SERVER_ENDPOINT: gone }), double: await plain.double.run(args, { SKYPILOT_API_SERVER_ENDPOINT: gone }) }
      same(pair, r)
    }
  })

  it("sky api status -o json: SkyPilot's own daemons as user skypilot-system, every row with the real fields and types", async () => {
    const r = await both(plain, ['api', 'status', '-o', 'json'])
    const rows = (x: Result) => jsonOf(x.stdout) as Record<string, unknown>[]
    const daemons = (x: Result) =>
      rows(x)
        .filter((d) => d.user_name === 'skypilot-system')
        .map((d) => `${d.request_id} ${d.name} ${d.status}`)
        .sort()
    expect(daemons(r.double)).toEqual(daemons(r.real))
    expect(daemons(r.real).length).toBeGreaterThan(0)
    const shapes = (x: Result) => [...new Set(rows(x).map((d) => JSON.stringify(shape(d))))]
    expect(shapes(r.double)).toEqual(shapes(r.real))
  })
})

describe.concurrent('API server access', () => {
  /** /api/health as any client sees it: status code, fields and their types, who it names. */
  async function health(url: string, headers: Record<string, string>) {
    const res = await fetch(`${url}/api/health`, { headers })
    const body = (await res.json()) as Record<string, unknown>
    const user = body.user as Record<string, unknown> | null | undefined
    return { status: res.status, fields: shape(body), user: user ? Object.keys(user) : user, name: user?.name ?? null, healthy: body.status }
  }
  const basic = (u: string, p: string) => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` })

  it('/api/health: 200 and user null without or with wrong credentials, the user with right ones or a valid token, 401 for an invalid token', async () => {
    const fake = auth.double.server.url
    const cases: [string, Record<string, string>, Record<string, string>][] = [
      ['anonymous', {}, {}],
      ['wrong password', basic(s.authUser, 'wrong'), basic(s.authUser, 'wrong')],
      ['right password', basic(s.authUser, s.authPassword), basic(s.authUser, s.authPassword)],
      ['valid token', { Authorization: `Bearer ${s.token}` }, { Authorization: 'Bearer sky_contract-token' }],
      ['invalid token', { Authorization: 'Bearer sky_invalid' }, { Authorization: 'Bearer sky_invalid' }]
    ]
    for (const [what, realHeaders, fakeHeaders] of cases) {
      const [r, d] = await Promise.all([health(s.auth, realHeaders), health(fake, fakeHeaders)])
      expect(d, what).toEqual(r)
    }
    const [r, d] = await Promise.all([health(s.plain, {}), health(plain.double.server.url, {})])
    expect(d, 'a server without auth').toEqual(r)
  })

  it('wrong basic-auth credentials: the health check passes, the first request is refused (HTTPError 401, exit 1); an invalid token: ApiServerAuthenticationError; a valid token: api info -o json, its fields, naming its account', async () => {
    const realWrong = withCredentials(s.auth, s.authUser, 'wrong')
    const dblWrong = withCredentials(auth.double.server.url, s.authUser, 'wrong')
    const wrong = {
      real: await auth.real(['status', '-o', 'json'], { SKYPILOT_API_SERVER_ENDPOINT: realWrong }),
      double: await auth.double.run(['status', '-o', 'json'], { SKYPILOT_API_SERVER_ENDPOINT: dblWrong })
    }
    same(auth, wrong, { stderr: 'last-line' })
    const badToken = await both(auth, ['status', '-o', 'json'], { SKYPILOT_SERVICE_ACCOUNT_TOKEN: 'sky_invalid' })
    same(auth, badToken)
    const info = {
      real: await auth.real(['api', 'info', '-o', 'json'], { SKYPILOT_SERVICE_ACCOUNT_TOKEN: s.token }),
      double: await auth.double.run(['api', 'info', '-o', 'json'], { SKYPILOT_SERVICE_ACCOUNT_TOKEN: 'sky_contract-token' })
    }
    const view = (x: Result) => {
      const j = jsonOf(x.stdout) as { client: Record<string, unknown>; server: Record<string, unknown>; user: unknown }
      return { code: x.code, client: shape(j.client), server: shape(j.server), status: j.server.status, user: j.user }
    }
    expect(view(info.double)).toEqual(view(info.real))
  })

  it('sky launch --async: the request id, the hints printing the endpoint as given, password included; sky api logs of it: its error (exit 1); sky api cancel of it, finished: nothing to cancel (exit 0)', async () => {
    const r = {
      real: await auth.real(['launch', '--async', '-y', '-c', names.c3, TASK], { SKYPILOT_API_SERVER_ENDPOINT: withCredentials(s.auth, s.authUser, s.authPassword) }),
      double: await auth.double.run(['launch', '--async', '-y', '-c', names.c3, TASK], { SKYPILOT_API_SERVER_ENDPOINT: withCredentials(auth.double.server.url, s.authUser, s.authPassword) })
    }
    const ids = { real: requestSubst(/request: ([0-9a-f-]{36})/.exec(r.real.stdout)?.[1]), double: requestSubst(/request: ([0-9a-f-]{36})/.exec(r.double.stdout)?.[1]) }
    const sub = { real: { literal: ids.real }, double: { literal: ids.double } }
    same(auth, r, sub)
    expect(r.real.stdout).toContain(`${s.authPassword}@`)
    // `api logs` streams the request to its end (its error, exit 1); then it is finished on both
    // sides, and `api cancel` has nothing to cancel (exit 0).
    const rid = (side: 'real' | 'double') => Object.keys(ids[side]).find((k) => k.length === 8)!
    const endpoint = { real: withCredentials(s.auth, s.authUser, s.authPassword), double: withCredentials(auth.double.server.url, s.authUser, s.authPassword) }
    for (const command of ['logs', 'cancel']) {
      const x = {
        real: await auth.real(['api', command, rid('real')], { SKYPILOT_API_SERVER_ENDPOINT: endpoint.real }),
        double: await auth.double.run(['api', command, rid('double')], { SKYPILOT_API_SERVER_ENDPOINT: endpoint.double })
      }
      same(auth, x, sub)
    }
  })
})

describe.concurrent('managed jobs in consolidation mode (no cloud: FAILED_PRECHECKS)', () => {
  const ID = /Managed Job ID: (\d+)/
  let launched: Promise<{ follow: Both; detached: Both; pipeline: Both; waits: Both[]; ids: { real: Record<string, string>; double: Record<string, string> }; idOf(side: 'real' | 'double', which: 'm1' | 'm2' | 'pipe'): string }> | undefined
  /** Three launches at once (following, -d, a -d pipeline), then both sides wait for all to end. */
  function launches() {
    launched ??= (async () => {
      writePipeline(names.pipe)
      const [follow, detached, pipeline] = await Promise.all([
        both(cons, ['jobs', 'launch', '-y', '-n', names.m1, TASK]),
        both(cons, ['jobs', 'launch', '-d', '-y', '-n', names.m2, TASK]),
        both(cons, ['jobs', 'launch', '-d', '-y', PIPELINE])
      ])
      const id = (x: Result) => ID.exec(x.stdout)?.[1] ?? 'none'
      const ids = {
        real: { [id(follow.real)]: '<M1>', [id(detached.real)]: '<M2>', [id(pipeline.real)]: '<P>' },
        double: { [id(follow.double)]: '<M1>', [id(detached.double)]: '<M2>', [id(pipeline.double)]: '<P>' }
      }
      const sideIds = { real: [id(follow.real), id(detached.real), id(pipeline.real)], double: [id(follow.double), id(detached.double), id(pipeline.double)] }
      const idOf = (side: 'real' | 'double', which: 'm1' | 'm2' | 'pipe') => sideIds[side][['m1', 'm2', 'pipe'].indexOf(which)]!
      // Following a detached job's logs waits for its end (its text depends on when it started).
      const waits = await Promise.all([both(cons, (side) => ['jobs', 'logs', idOf(side, 'm2')]), both(cons, (side) => ['jobs', 'logs', idOf(side, 'pipe')])])
      expect(waits.map((w) => [w.real.code, w.double.code])).toEqual([
        [100, 100],
        [103, 103]
      ])
      return { follow, detached, pipeline, waits, ids, idOf }
    })()
    return launched
  }

  it('following: no `Job submitted` line; how the job ended, then `Managed Job ID: N` in the hints; exit 100', async () => {
    const l = await launches()
    // How the follow ends depends on when the job failed (see followEnding): one token for both.
    same(cons, l.follow, { real: { jobIds: l.ids.real }, double: { jobIds: l.ids.double }, canon: followEnding })
    expect(l.follow.real.code).toBe(100)
    expect(normalize(l.follow.real.stdout, { jobIds: l.ids.real }).indexOf('Managed Job ID: <M1>')).toBeGreaterThan(followEnding(l.follow.real.stdout).indexOf('ENDED'))
  })

  it('the two ways a followed job ends print the same bytes as the real ones', async () => {
    const l = await launches()
    // A double whose job fails its pre-checks 1.5 s after submission: its follow sees it happen.
    const slow = await doubleSide({ version, userName: REAL_USER, check: { enabled: [] }, managed: { consolidation: true, provisionMs: 1500 } }, { version })
    doubles.push(slow)
    const streamed = await slow.run(['jobs', 'launch', '-y', '-n', names.m1, TASK])
    const doubleFinished = endings(normalize(streamed.stdout, { jobIds: { [ID.exec(streamed.stdout)?.[1] ?? 'none']: '<M1>' } })).finished
    expect(doubleFinished).toBeDefined()
    const realTexts = [l.follow.real.stdout, ...l.waits.map((w) => w.real.stdout)].map((t) => normalize(t, { jobIds: l.ids.real }))
    const realFinished = realTexts.map((t) => endings(t).finished).find(Boolean)
    // Seen whenever the real job outlived the start of its follow (a loaded machine may not give one).
    if (realFinished) expect(doubleFinished!.replace(/<\w+>/, '<ID>')).toBe(realFinished.replace(/<\w+>/, '<ID>'))
    const realTerminal = realTexts.map((t) => endings(t).terminal).find(Boolean)
    const doubleTerminal = endings(normalize(l.follow.double.stdout, { jobIds: l.ids.double })).terminal
    if (realTerminal && doubleTerminal) expect(doubleTerminal.replace(/<\w+>/g, '<ID>')).toBe(realTerminal.replace(/<\w+>/g, '<ID>'))
    expect(realFinished ?? realTerminal).toBeDefined()
  })

  it('-d: `Managed Job ID` right away, exit 0; a pipeline the same', async () => {
    const l = await launches()
    same(cons, l.detached, { real: { jobIds: l.ids.real }, double: { jobIds: l.ids.double } })
    same(cons, l.pipeline, { real: { jobIds: l.ids.real }, double: { jobIds: l.ids.double } })
  })

  it('sky jobs queue -o json: newest first, one row per task of a pipeline, the real fields and types; failure_reason only with -v', async () => {
    const l = await launches()
    const [plainQ, verboseQ] = await Promise.all([both(cons, ['jobs', 'queue', '-o', 'json']), both(cons, ['jobs', 'queue', '-v', '-o', 'json'])])
    const mine = (x: Result, side: 'real' | 'double') => {
      const ids = new Set(Object.keys(l.ids[side]).map(Number))
      return (jsonOf(x.stdout) as Record<string, unknown>[]).filter((row) => ids.has(row.job_id as number))
    }
    const view = (x: Result, side: 'real' | 'double') =>
      mine(x, side).map((row) => ({
        fields: shape(row),
        job: l.ids[side][String(row.job_id)],
        task_id: row.task_id,
        job_name: row.job_name,
        task_name: row.task_name,
        status: row.status,
        recovery_count: row.recovery_count,
        failure_reason: row.failure_reason,
        details: row.details
      }))
    // Ids were taken in whatever order the concurrent launches reached each server: compare job by
    // job, and the order on each side by its own ids.
    const byJob = (rows: ReturnType<typeof view>) => [...rows].sort((a, b) => `${a.job}/${a.task_id}`.localeCompare(`${b.job}/${b.task_id}`))
    const order = (x: Result, side: 'real' | 'double') => mine(x, side).map((row): [number, number] => [row.job_id as number, row.task_id as number])
    const newestFirst = (pairs: [number, number][]) => [...pairs].sort((a, b) => b[0] - a[0] || a[1] - b[1])
    for (const q of [plainQ, verboseQ]) {
      expect(q.double.code).toBe(q.real.code)
      expect(byJob(view(q.double, 'double'))).toEqual(byJob(view(q.real, 'real')))
      for (const side of ['real', 'double'] as const) expect(order(q[side], side)).toEqual(newestFirst(order(q[side], side)))
    }
    expect(byJob(view(plainQ.real, 'real')).map((r) => `${r.job}/${r.task_id}`)).toEqual(['<M1>/0', '<M2>/0', '<P>/0', '<P>/1'])
    expect(view(verboseQ.real, 'real').find((r) => r.job === '<M1>')!.failure_reason).toMatch(/NoCloudAccessError/)
  })

  it('sky jobs cancel of a finished job by id and by name, and of an unknown id: what they say, exit 0', async () => {
    const l = await launches()
    const sub = { real: { jobIds: l.ids.real }, double: { jobIds: l.ids.double } }
    const results = await Promise.all([
      both(cons, (side) => ['jobs', 'cancel', '-y', l.idOf(side, 'm1')]),
      both(cons, ['jobs', 'cancel', '-y', '-n', names.m1]),
      both(cons, ['jobs', 'cancel', '-y', '987654321'])
    ])
    for (const r of results) same(cons, r, sub)
  })

  it('sky jobs logs: a finished job (its failure reason, exit 100; 0 with --no-follow), a pipeline (the tasks hint, CANCELLED, 103), an unknown id (102)', async () => {
    const l = await launches()
    const sub = { real: { jobIds: l.ids.real }, double: { jobIds: l.ids.double } }
    const results = await Promise.all([
      both(cons, (side) => ['jobs', 'logs', l.idOf(side, 'm1')]),
      both(cons, (side) => ['jobs', 'logs', '--no-follow', l.idOf(side, 'm1')]),
      both(cons, (side) => ['jobs', 'logs', l.idOf(side, 'pipe')]),
      both(cons, ['jobs', 'logs', '987654321'])
    ])
    for (const r of results) same(cons, r, sub)
    expect(results.map((r) => r.real.code)).toEqual([100, 0, 103, 102])
  })
})

describe.concurrent('what no cloud-less server shows, held against the real code', () => {
  it("the double's grammar is the real CLI's: every command, option and argument, required or not", () => {
    const view = (g: Record<string, unknown[]>) =>
      Object.fromEntries(
        Object.entries(g).map(([cmd, entries]) => [
          cmd,
          (entries as Record<string, unknown>[])
            .map((e) => ('arg' in e ? `arg ${e.arg} ${e.nargs}${e.required ? ' required' : ''}` : `opt ${[...(e.opts as string[]), ...((e.secondary as string[]) ?? [])].join(' ')}`))
            .sort()
        ])
      )
    const grammar = JSON.parse(fs.readFileSync(new URL('../fake-sky/grammar.json', import.meta.url), 'utf8')) as Record<string, unknown[]>
    expect(view(grammar)).toEqual(view(facts.grammar))
  })

  it('sky status -o json and sky queue -o json of a real cluster: the fields of the real records, of the types their models allow', async () => {
    const f = createFakeSky({ config: { version, userName: REAL_USER } })
    fakes.push(f)
    const env = { cwd: workdir }
    expect((await f.run(['launch', '-y', '-d', '-c', 'shape', TASK], env)).code).toBe(0)
    const status = jsonOf((await f.run(['status', '-o', 'json'], env)).stdout) as Record<string, unknown>[]
    const queue = jsonOf((await f.run(['queue', 'shape', '-o', 'json'], env)).stdout) as Record<string, Record<string, unknown>[]>
    const check = (record: Record<string, unknown>, fields: Record<string, string[]>) => {
      expect(Object.keys(record)).toEqual(Object.keys(fields))
      for (const [k, v] of Object.entries(record)) expect(fields[k], `${k}: ${JSON.stringify(v)}`).toContain(jsonType(v))
    }
    check(status[0]!, facts.status_fields)
    check(queue.shape![0]!, facts.cluster_job_fields)
  })

  it(`sky jobs queue lists the newest ${'N'} jobs (N the real CLI's own default), -a all of them, --limit counts jobs not task rows`, async () => {
    const f = createFakeSky({ config: { version, managed: { consolidation: true } } })
    fakes.push(f)
    const n = facts.num_managed_jobs_to_show
    // Recorded jobs (n + 2, the last a two-task pipeline) rather than n + 2 launches.
    updateLedger(f.home, (l: { managedJobs: unknown[] }) => {
      for (let id = 1; id <= n + 2; id++) {
        const tasks = id === n + 2 ? 2 : 1
        for (let t = 0; t < tasks; t++) l.managedJobs.push({ job_id: id, task_id: t, job_name: `j${id}`, task_name: `j${id}-${t}`, status: 'SUCCEEDED', submitted_at: id, end_at: id + 1, recovery_count: 0, job_duration: 1, failure_reason: null, log: '' })
      }
    })
    const ids = async (...args: string[]) => (jsonOf((await f.run(['jobs', 'queue', '-o', 'json', ...args], { cwd: workdir })).stdout) as { job_id: number }[]).map((r) => r.job_id)
    const shown = await ids()
    expect(new Set(shown).size).toBe(n)
    expect(shown.slice(0, 3)).toEqual([n + 2, n + 2, n + 1])
    expect(new Set(await ids('-a')).size).toBe(n + 2)
    expect(await ids('--limit', '1')).toEqual([n + 2, n + 2])
  })

  it(`sky logs shows the last lines (the real CLI's default count) unless --tail 0 or --no-follow, with the hint on stderr`, async () => {
    const f = createFakeSky({ config: { version } })
    fakes.push(f)
    const count = facts.default_tail_lines + 5
    expect((await f.run(['launch', '-y', '-c', 'tail', `seq 1 ${count}`], { cwd: workdir })).code).toBe(0)
    // The job's own lines, behind SkyPilot's prefix (`(sky-cmd, pid=N) `, coloured).
    const lines = (x: { stdout: string }) => withoutJobPrefixes(x.stdout).split('\n').filter((line) => /^\d+$/.test(line))
    const tailed = await f.run(['logs', 'tail', '1'], { cwd: workdir })
    expect(lines(tailed)[0]).toBe(String(count - facts.default_tail_lines + 1))
    expect(tailed.stderr).toContain(`Showing the last ${facts.default_tail_lines} lines (default).`)
    expect(lines(await f.run(['logs', '--tail', '0', 'tail', '1'], { cwd: workdir }))).toHaveLength(count)
    const snapshot = await f.run(['logs', '--no-follow', 'tail', '1'], { cwd: workdir })
    expect(lines(snapshot)).toHaveLength(count)
    expect(snapshot.stderr).toBe('')
  })

  it('sky api cancel of a request still running: `Cancelled 1 request: ID`, the wording of the real command', async () => {
    expect(facts.cancelled_one_request).not.toBeNull()
    const f = createFakeSky({ config: { version, launch: { hang: true } } })
    fakes.push(f)
    const submitted = await f.run(['launch', '--async', '-y', '-c', 'hang', TASK], { cwd: workdir })
    const id = /request: ([0-9a-f-]{36})/.exec(submitted.stdout)![1]!
    const r = await f.run(['api', 'cancel', id.slice(0, 8)], { cwd: workdir })
    expect(r.stdout.split('\n').at(-2)).toBe(facts.cancelled_one_request!.replace('{cancelled_request_ids[0]}', id))
  })

  it('a log stream that drops for good (the API server restarts): the real client prints what came, retries, then exits 1 on a ConnectionError; the double the same, and its job goes on', async () => {
    // The real client retries a dropped tail (so a quick restart is survived): held in its code.
    expect(facts.tail_logs_retried).toBe(true)
    const f = createFakeSky({ config: { version, logs: { dropStreamAfterMs: 1500 } } })
    fakes.push(f)
    expect((await f.run(['launch', '-y', '-d', '-c', 'drop', 'echo line1; sleep 120; echo after'], { cwd: workdir })).code).toBe(0)
    await f.waitFor((l) => l.jobs[0]?.status === 'RUNNING')
    await new Promise((r) => setTimeout(r, 300))
    const double = await f.run(['logs', 'drop', '1'], { cwd: workdir })
    // The client is gone; the job is not.
    expect(f.ledger().jobs[0]?.status).toBe('RUNNING')
    // The real client against a server that streams the same lines, then is gone.
    const log = (await f.run(['logs', '--no-follow', 'drop', '1'], { cwd: workdir })).stdout.split('\n').slice(1).join('\n')
    const server = await droppingServer(s.plain, log)
    try {
      const real = await realSide(server.url)(['logs', 'drop', '1'])
      // The address differs (the double's is its own endpoint); the rest of the last line may not.
      const view = (x: Result) => ({ exit: x.code, stdout: x.stdout, stderr: normalize(lastLine(x.stderr)).replace(/port=\d+/, 'port=<PORT>') })
      expect(view(double)).toEqual(view(real))
    } finally {
      server.close()
    }
  })
})

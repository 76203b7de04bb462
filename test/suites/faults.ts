import fs from 'node:fs'
import path from 'node:path'
import { FAKE_SKY_BIN_DIR, startFakeServer, type FakeSky, type FakeSkyConfig } from '../fake-sky/index.mjs'
import { runMain, runPost, type StepOptions, type StepResult } from '../helpers/runner.js'
import { Checks, closedPort, errorText, fakeSky, oneLine, pool, table, tempDir, warningText, withSky, writeScript } from './common.js'

/**
 * Fault suite: every scenario ends with no cluster and no running job in the fake's ledger, or
 * with a loud failure that names what is left and the command that removes it.
 */

export interface FaultRow {
  scenario: string
  /** What the user sees, one line. */
  outcome: string
  clustersLeft: number
  runningJobs: number
  held: boolean
  /** Checks that did not hold (empty when held). */
  failed: string[]
  /** Known bugs outside this suite's files that still show (not counted in held). */
  open: string[]
  /** Known bugs that no longer show: make their check a plain one. */
  openFixed: string[]
  durationMs: number
}

interface Outcome {
  outcome: string
  checks: Checks
  sky: FakeSky
}

const HELLO = 'name: hello\nsetup: echo setting up\nrun: |\n  echo "hello from the job"\n'
const LONG = 'run: |\n  echo "training started"\n  sleep 60\n'
const CLUSTER = 'gha-1234567890-1-train'
const RUNNING = ['PENDING', 'SETTING_UP', 'RUNNING', 'RECOVERING', 'STARTING', 'CANCELLING']

const callsOf = (s: FakeSky, command: string) => s.calls().filter((c) => c.argv.slice(0, command.split(' ').length).join(' ') === command)
const post = (s: FakeSky, main: StepResult, extra: StepOptions = {}) => runPost(withSky(s, { ...extra, runnerTemp: main.runnerTemp, state: main.state }))
const firstError = (r: StepResult) => errorText(r).split('\n')[0] ?? ''
const noLeftovers = (c: Checks, s: FakeSky) =>
  c.add('no cluster left', s.ledger().clusters.length === 0).add('no running job left', s.ledger().jobs.every((j) => !RUNNING.includes(j.status)))

type Scenario = { name: string; run: () => Promise<Outcome> }

function scenario(name: string, config: FakeSkyConfig, body: (s: FakeSky, c: Checks, main: (opts: StepOptions) => Promise<StepResult>) => Promise<string>): Scenario {
  return {
    name,
    run: async () => {
      const s = fakeSky(config)
      const c = new Checks()
      // One RUNNER_TEMP per scenario (the post step gets main's), removed at the end.
      const runnerTemp = tempDir('fault-runner-temp-')
      const main = (opts: StepOptions) => runMain({ ...opts, runnerTemp })
      try {
        return { outcome: await body(s, c, main), checks: c, sky: s }
      } catch (error) {
        c.add(`no exception (${String(error)})`, false)
        return { outcome: `suite error: ${String(error)}`, checks: c, sky: s }
      } finally {
        fs.rmSync(runnerTemp, { recursive: true, force: true })
      }
    }
  }
}

export function faultScenarios(): Scenario[] {
  return [
    scenario('launch fails before the job, retries exhausted', { launch: { fail: true, leaveInit: true } }, async (s, c, runMain) => {
      const main = await runMain(withSky(s, { inputs: { 'task-yaml': HELLO, retries: '1', 'retry-delay-seconds': '0' } }))
      c.add('main exit 1', main.code === 1)
        .add('status LAUNCH_FAILED', main.outputs.status === 'LAUNCH_FAILED')
        .add('2 launch attempts', callsOf(s, 'launch').length === 2)
        .add('says it failed before the job ran', /failed before the job ran/.test(errorText(main)))
      const p = await post(s, main)
      c.add('post exit 0', p.code === 0)
      noLeftovers(c, s)
      return `main failed: ${firstError(main)}; post: ${p.code === 0 ? 'torn down' : 'FAILED'}`
    }),

    scenario('launch hangs, run cancelled (SIGINT while provisioning)', { launch: { hang: true } }, async (s, c, runMain) => {
      const main = await runMain(withSky(s, { inputs: { 'task-yaml': HELLO }, interrupt: { when: () => s.ledger().clusters.length > 0, signal: 'SIGINT', delayMs: 300 } }))
      c.add('main exit 1', main.code === 1)
        .add('status CANCELLED', main.outputs.status === 'CANCELLED')
        .add('sky api cancel ran', callsOf(s, 'api cancel').length === 1)
        .add('no request left running', s.ledger().requests.every((r) => r.status !== 'RUNNING'))
      const p = await post(s, main)
      c.add('post exit 0', p.code === 0)
      noLeftovers(c, s)
      return `main: ${firstError(main)}; post: ${p.code === 0 ? 'torn down' : 'FAILED'}`
    }),

    scenario('SIGINT while streaming the job', {}, async (s, c, runMain) => {
      const main = await runMain(withSky(s, { inputs: { 'task-yaml': LONG }, interrupt: { when: (out) => out.includes('training started'), signal: 'SIGINT' } }))
      c.add('main exit 1', main.code === 1)
        .add('status CANCELLED', main.outputs.status === 'CANCELLED')
        .add('main stopped in the cancel window (<20 s)', main.durationMs < 20_000)
      const p = await post(s, main)
      c.add('post exit 0', p.code === 0)
      noLeftovers(c, s)
      return `main: ${firstError(main)}; post: ${p.code === 0 ? 'torn down' : 'FAILED'}`
    }),

    scenario('SIGKILL of main after the state was saved', {}, async (s, c, runMain) => {
      const main = await runMain(withSky(s, { inputs: { 'task-yaml': LONG }, interrupt: { when: (out) => out.includes('training started'), signal: 'SIGKILL' } }))
      c.add('main killed', main.signal === 'SIGKILL').add('cluster was up before post', s.ledger().clusters.length === 1).add('state saved the cluster', JSON.stringify(main.state).includes(CLUSTER))
      const p = await post(s, main)
      c.add('post exit 0', p.code === 0).add('post says verified gone', /verified gone/.test(p.stdout))
      noLeftovers(c, s)
      return `main killed (no output); post alone: ${p.code === 0 ? 'tore down, verified gone' : 'FAILED'}`
    }),

    scenario('post finds the cluster already gone', {}, async (s, c, runMain) => {
      const main = await runMain(withSky(s, { inputs: { 'task-yaml': HELLO } }))
      await s.run(['down', '-y', CLUSTER])
      c.add('main exit 0', main.code === 0)
      const p = await post(s, main)
      c.add('post exit 0', p.code === 0).add('no error annotation', errorText(p) === '')
      noLeftovers(c, s)
      return `main succeeded; post: ${p.code === 0 ? 'passed (already gone)' : `FAILED: ${firstError(p)}`}`
    }),

    scenario('sky down exits 0 but leaves the cluster', { down: { ignore: true } }, async (s, c, runMain) => {
      const main = await runMain(withSky(s, { inputs: { 'task-yaml': HELLO } }))
      c.add('main exit 0', main.code === 0)
      const p = await post(s, main)
      const error = errorText(p)
      c.add('post fails loudly (exit 1)', p.code === 1)
        .add('names the cluster', error.includes(CLUSTER))
        .add(`names 'sky down -y ${CLUSTER}'`, error.includes(`sky down -y ${CLUSTER}`))
        .add('summary names the command', p.summary.includes(`sky down -y ${CLUSTER}`))
        .add('the cluster is really left (nothing hidden)', s.ledger().clusters.length === 1)
      return `post failed: ${firstError(p)}`
    }),

    scenario('API server unreachable (closed local port)', {}, async (s, c, runMain) => {
      const port = await closedPort()
      const main = await runMain(withSky(s, { inputs: { 'task-yaml': HELLO, 'api-server-endpoint': `http://127.0.0.1:${port}` } }))
      const error = errorText(main)
      c.add('main exit 1', main.code === 1)
        .add('no sky call', s.calls().length === 0)
        .add('says it cannot reach the server', /Cannot reach the SkyPilot API server/.test(error))
        .add("names 'api-server-endpoint'", error.includes('api-server-endpoint'))
        .add('fails fast (<15 s)', main.durationMs < 15_000)
      const p = await post(s, main)
      c.add('post exit 0', p.code === 0)
      noLeftovers(c, s)
      return `main failed: ${firstError(main)}`
    }),

    scenario('token rejected', {}, async (s, c, runMain) => {
      const server = await startFakeServer({ version: '0.14.1', token: 'sky_the_right_one' })
      try {
        const main = await runMain(withSky(s, { inputs: { 'task-yaml': HELLO, 'api-server-endpoint': server.url, 'service-account-token': 'sky_wrong_token_value' } }))
        const error = errorText(main)
        c.add('main exit 1', main.code === 1)
          .add('no sky call', s.calls().length === 0)
          .add("says HTTP 401 and names 'service-account-token'", /refused the credentials \(HTTP 401\).*service-account-token/.test(error))
          .add('the wrong token is not shown', !error.includes('sky_wrong_token_value'))
        const p = await post(s, main)
        c.add('post exit 0', p.code === 0)
        noLeftovers(c, s)
        return `main failed: ${firstError(main)}`
      } finally {
        await server.close()
      }
    }),

    scenario('server version incompatible, skypilot-version pinned', {}, async (s, c, runMain) => {
      const server = await startFakeServer({ version: '0.9.0' })
      try {
        const main = await runMain(withSky(s, { inputs: { 'task-yaml': HELLO, 'api-server-endpoint': server.url, 'skypilot-version': '0.14.1' } }))
        const error = errorText(main)
        c.add('main exit 1', main.code === 1)
          .add('no sky call', s.calls().length === 0)
          .add('names both versions', error.includes('0.14.1') && error.includes('0.9.0'))
          .add("says to leave 'skypilot-version' empty", /Leave 'skypilot-version' empty/.test(error))
        noLeftovers(c, s)
        return `main refused: ${firstError(main)}`
      } finally {
        await server.close()
      }
    }),

    scenario('server version 0.9.0, skypilot-version empty, PyPI unreachable', {}, async (s, c, runMain) => {
      const server = await startFakeServer({ version: '0.9.0' })
      const spies = tempDir('spy-bin-')
      const log = path.join(spies, 'calls.log')
      try {
        // python3 answers its version; uv creates the venv but cannot reach PyPI, as on this machine.
        writeScript(path.join(spies, 'python3'), `#!/bin/sh\necho "python3 $*" >> '${log}'\ncase "$1" in -c) echo 3.11; exit 0;; esac\necho "python3 spy: no network" >&2\nexit 1\n`)
        writeScript(
          path.join(spies, 'uv'),
          `#!/bin/sh\necho "uv $*" >> '${log}'\nif [ "$1" = venv ]; then for a; do d="$a"; done; mkdir -p "$d/bin"; exit 0; fi\n` +
            `echo "error: Failed to fetch: \\\`https://pypi.org/simple/skypilot/\\\`" >&2\necho "  Caused by: dns error: failed to lookup address information: Temporary failure in name resolution" >&2\nexit 2\n`
        )
        const main = await runMain(withSky(s, { inputs: { 'task-yaml': HELLO, 'api-server-endpoint': server.url }, env: { PATH: `${spies}${path.delimiter}${s.env.PATH}` } }))
        const error = errorText(main)
        const spyCalls = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : ''
        c.add('main exit 1', main.code === 1)
          .add('wanted the server version (installs skypilot==0.9.0)', spyCalls.includes('skypilot==0.9.0'))
          .add('says installing failed', /Installing SkyPilot failed \(uv exit 2\)/.test(error))
          .add('shows the pip/uv reason', /Failed to fetch|name resolution/.test(error))
          .add('says to check skypilot-version and PyPI', error.includes("'skypilot-version'") && error.includes('PyPI'))
          .add('no launch (only sky --version)', s.calls().every((x) => x.argv.join(' ') === '--version'))
          .add('fails fast (<15 s)', main.durationMs < 15_000)
        const p = await post(s, main)
        c.add('post exit 0', p.code === 0)
        noLeftovers(c, s)
        return `main failed: ${firstError(main)}`
      } finally {
        await server.close()
        fs.rmSync(spies, { recursive: true, force: true })
      }
    }),

    scenario('cache service fails (closed port), fresh install goes on', {}, async (s, c, runMain) => {
      const port = await closedPort()
      const spies = tempDir('spy-bin-')
      try {
        // No sky on PATH: python3 "installs" by making the venv's bin/sky run the fake.
        const fakeSkyExe = path.join(FAKE_SKY_BIN_DIR, 'sky')
        writeScript(
          path.join(spies, 'python3'),
          `#!/bin/sh\ncase "$1" in\n  -c) echo 3.11; exit 0;;\n  -m) d="$3"; mkdir -p "$d/bin"\n` +
            `      printf '#!/bin/sh\\nexec "%s" "$@"\\n' '${fakeSkyExe}' > "$d/bin/sky"; chmod +x "$d/bin/sky"\n` +
            `      printf '#!/bin/sh\\nexit 0\\n' > "$d/bin/python"; chmod +x "$d/bin/python"; exit 0;;\nesac\nexit 1\n`
        )
        const env = {
          PATH: [spies, path.dirname(process.execPath), '/usr/bin', '/bin'].join(path.delimiter),
          ACTIONS_CACHE_URL: `http://127.0.0.1:${port}/`,
          ACTIONS_RESULTS_URL: `http://127.0.0.1:${port}/`,
          ACTIONS_RUNTIME_TOKEN: 'runtime-token-for-the-cache',
          ACTIONS_CACHE_SERVICE_V2: 'true'
        }
        const main = await runMain(withSky(s, { inputs: { 'task-yaml': HELLO }, env }))
        const warnings = warningText(main)
        c.add('main exit 0', main.code === 0)
          .add('status SUCCEEDED', main.outputs.status === 'SUCCEEDED')
          .add('the job ran', main.stdout.includes('hello from the job'))
          .add('a cache warning, no error', /cache|restore/i.test(warnings) && errorText(main) === '')
        const p = await post(s, main, { env })
        c.add('post exit 0 (a failed save does not fail the job)', p.code === 0).add('post shows no error', errorText(p) === '')
        // @actions/cache returns -1 (and only logs) when it cannot reserve the entry: no claim of success.
        c.add('post does not claim the cache was saved', !/Saved SkyPilot to the cache/.test(p.stdout))
        noLeftovers(c, s)
        return `main succeeded, one warning: ${oneLine(warnings.split('\n')[0] ?? '', 60)}; post: ${p.code === 0 ? 'torn down, save failure logged' : 'FAILED'}`
      } finally {
        fs.rmSync(spies, { recursive: true, force: true })
      }
    }),

    scenario('git source unreachable (https to a closed port)', {}, async (s, c, runMain) => {
      const port = await closedPort()
      const main = await runMain(withSky(s, { inputs: { 'base-path': `https://127.0.0.1:${port}/acme/tasks.git`, task: 'train.yaml' } }))
      const error = errorText(main)
      c.add('main exit 1', main.code === 1)
        .add('no sky call', s.calls().length === 0)
        .add('says it could not fetch the URL', error.includes(`Could not fetch https://127.0.0.1:${port}/acme/tasks.git`))
        .add('says to check the URL and ref', /Check the URL and the ref/.test(error))
        .add('fails fast (<20 s)', main.durationMs < 20_000)
      const p = await post(s, main)
      c.add('post exit 0', p.code === 0)
      noLeftovers(c, s)
      return `main failed: ${firstError(main)}`
    })
  ]
}

export async function runFaultSuite(opts: { concurrency?: number; only?: RegExp } = {}): Promise<FaultRow[]> {
  const scenarios = faultScenarios().filter((s) => !opts.only || opts.only.test(s.name))
  return pool(
    opts.concurrency ?? 3,
    scenarios.map((sc) => async (): Promise<FaultRow> => {
      const started = Date.now()
      let result: Outcome | undefined
      try {
        result = await sc.run()
        const ledger = result.sky.ledger()
        return {
          scenario: sc.name,
          outcome: oneLine(result.outcome, 150),
          clustersLeft: ledger.clusters.length,
          runningJobs: ledger.jobs.filter((j) => RUNNING.includes(j.status)).length,
          held: result.checks.held,
          failed: result.checks.failed,
          open: result.checks.openFailing,
          openFixed: result.checks.openFixed,
          durationMs: Date.now() - started
        }
      } catch (error) {
        return { scenario: sc.name, outcome: oneLine(`suite error: ${String(error)}`), clustersLeft: -1, runningJobs: -1, held: false, failed: ['threw'], open: [], openFixed: [], durationMs: Date.now() - started }
      } finally {
        result?.sky.cleanup()
      }
    })
  )
}

export function faultTable(rows: FaultRow[]): string {
  const body = rows.map((r) => [r.scenario, r.outcome, String(r.clustersLeft), (r.held ? 'yes' : `NO (${r.failed.join('; ')})`) + (r.open.length ? ' (open bug, see below)' : '')])
  const held = rows.filter((r) => r.held).length
  const open = rows.flatMap((r) => r.open.map((o) => `  open: ${r.scenario}: ${o}`))
  return (
    `Fault suite: ${held} of ${rows.length} scenarios held\n${table(['scenario', 'outcome', 'clusters left', 'held'], body)}` +
    (open.length ? `\nKnown open bugs (outside src/inputs.ts, kv.ts, task/source.ts, access.ts):\n${open.join('\n')}` : '')
  )
}

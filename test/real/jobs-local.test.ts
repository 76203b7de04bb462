import { createHash } from 'node:crypto'
import os from 'node:os'
import { afterAll, describe, expect, it } from 'vitest'
import { createFakeSky } from '../fake-sky/index.mjs'
import { withoutJobPrefixes } from '../helpers/fakes.js'
import { annotations, everythingVisible, runMain, runPost, type StepOptions, type StepResult } from '../helpers/runner.js'
import { errorText } from '../suites/common.js'
import { jobView, jsonOf, shape } from './contract/normalize.js'
import { main, post, realRun, shown } from './lib/action.js'
import { expectNothingLeft, LOCAL_SERVER, movesOf, named, RUN } from './lib/jobs.js'
import { jobsEnv, sky, skyJson } from './lib/servers.js'
import { allocationsOf, scancel, touchOnCluster } from './lib/slurm.js'

/**
 * Real jobs on the real Slurm cluster, with no API server endpoint: the action's `sky` starts and
 * uses its own local API server, as on a runner that has cloud credentials of its own. The built
 * action (main and post, as the runner runs them) launches, streams, fails, retries, reuses and
 * tears down real clusters; the faults are real ones (the runner's cancel, a killed main, an
 * allocation ended by Slurm). Each scenario ends with nothing of this run left in `sky status`
 * and squeue.
 */

const jobs = jobsEnv()
const SECRET = `rt-secret-${RUN}-Zq8`
const sha = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16)
/** A job that counts for a while, a line a second (long enough for a fault to hit it mid-way). */
const COUNTING = (name: string, n = 45) => `name: ${name}\nrun: |\n  for i in $(seq 1 ${n}); do echo "tick $i"; sleep 1; done\n`
/**
 * A job that counts until the test says stop (a file it touches on the cluster), or ten minutes: it
 * cannot end by itself before a fault hits it, even when 'tick 3' comes late, from a log followed
 * again after the launch's stream dropped (CI: a 45-tick job had ended SUCCEEDED by then). The test
 * says stop once it is done with the job, so that its commands end: this cluster releases an
 * allocation only then, whether SkyPilot cancelled the job, tore the cluster down or Slurm's scancel
 * ended it (seen: a cancelled 600-tick job held its allocation until its last tick).
 */
const UNTIL_STOPPED = (name: string, stop: string) => `name: ${name}\nrun: |\n  for i in $(seq 1 600); do [ -e ${stop} ] && break; echo "tick $i"; sleep 1; done\n`
const stopFileOf = (cluster: string) => `/home/sky/${cluster}.stop`
// Without a server the action installs the pinned release with the Slurm extra; here that is the
// real-sky build, already "installed" in the tool cache (realRun), so nothing reaches for PyPI.
const on = { infra: 'slurm', 'skypilot-version': '1.0.0-dev0', 'retry-delay-seconds': '0' }
const SLOW = { timeout: 1_800_000 }

describe.skipIf(!jobs)('real jobs on Slurm, without an API server endpoint', () => {
  describe.concurrent('', () => {
    it('one cluster through a pipeline: launch (down: false) → exec with a retried job → a failing run → a failing setup → a job past its max-duration (down: true), stopped at the cap and torn down', SLOW, async () => {
      const cluster = named('chain')
      const run = realRun({}, { extras: ['slurm'] })
      const base = { ...on, 'cluster-name': cluster }
      // The contract of the test double, on real jobs: the same steps run against the double set up
      // as this environment is (Slurm its only cloud, the real user and version) must end the same
      // (status, exit code) and show the same job lines (SkyPilot's prefix, ids, final status,
      // failure lines: contract/normalize.ts jobView), and its records must have the same fields.
      const twin = createFakeSky({ config: { version: '1.0.0-dev0', userName: os.userInfo().username, check: { enabled: ['Slurm'] }, launch: { provisionMs: 2000 } } })
      const view = (r: StepResult) => jobView(r.stdout, { literal: { [cluster]: '<CLUSTER>' } })
      const both = async (inputs: Record<string, string>, o: StepOptions = {}, compareLines = true): Promise<StepResult> => {
        const [real, double] = await Promise.all([main(run, inputs, o), runMain({ inputs, env: twin.env, timeoutMs: 300_000 })])
        await runPost({ inputs, env: twin.env, runnerTemp: double.runnerTemp, state: double.state })
        expect({ status: double.outputs.status, exit: double.outputs['exit-code'] }, `the double, on ${inputs['task-yaml']?.split('\n')[0]}`).toEqual({ status: real.outputs.status, exit: real.outputs['exit-code'] })
        if (compareLines) expect(view(double), `the double's job lines${shown(double)}`).toEqual(view(real))
        return real
      }

      // 1. A launch that keeps its cluster: the job proves it has the secret without printing it,
      //    sets outputs, and its lines are relayed as they are printed.
      const arrivals: { line: string; at: number }[] = []
      const launch = await both(
        {
          ...base,
          down: 'false',
          envs: 'GREETING=hello-from-ci',
          secrets: `API_KEY=${SECRET}`,
          'job-outputs': 'accuracy, greeting, key_sha',
          'task-yaml': 'name: rt-first\nrun: |\n  echo "first line"\n  sleep 6\n  echo "skypilot-output accuracy=0.91"\n  echo "skypilot-output greeting=$GREETING"\n  echo "skypilot-output key_sha=$(printf %s "$API_KEY" | sha256sum | cut -c1-16)"\n  echo "last line"\n'
        },
        { onStdout: (chunk, at) => chunk.split('\n').forEach((line) => arrivals.push({ line, at })) }
      )
      expect(launch.outputs, shown(launch)).toMatchObject({ status: 'SUCCEEDED', 'exit-code': '0', 'job-id': '1', 'cluster-name': cluster, accuracy: '0.91', greeting: 'hello-from-ci', key_sha: sha(SECRET) })
      expect(launch.code).toBe(0)
      // Relayed as printed: the first line arrived while the job still slept, not with the rest at its end.
      const at = (text: string) => arrivals.find((a) => a.line.includes(text))?.at ?? NaN
      expect(at('last line') - at('first line')).toBeGreaterThanOrEqual(3000)
      // SkyPilot's own prefix stands before each line of the job's (the marker reader reads through it).
      expect(launch.stdout).toMatch(/\x1b\[36m\(rt-first, pid=\d+\)\x1b\[0m first line/)
      expect(everythingVisible(launch)).not.toContain(SECRET)
      expect(launch.summary).toMatch(/SUCCEEDED/)
      expect(launch.summary).toContain('Cost: not reported by SkyPilot for Slurm.')
      expect(movesOf(launch)).toEqual({ 'rt-first': ['planned', 'launching', 'submitted', 'running', 'ended'] })
      const kept = await post(run, base, launch)
      expect(kept.code, shown(kept)).toBe(0)
      expect(kept.summary).toMatch(new RegExp(`Cluster \`${cluster}\` was left running`))
      expect(await allocationsOf(cluster)).toHaveLength(1)

      // 2. exec onto the live cluster (no provisioning, no setup; the env reaches the job), with a job
      //    that fails on its first attempt only and retry-on-job-failure: run again, once (the
      //    cluster's home keeps the marker file between the two).
      const exec = await both({
        ...base,
        mode: 'exec',
        envs: 'GREETING=hello-again',
        'job-outputs': 'greeting',
        'retry-on-job-failure': 'true',
        retries: '1',
        'task-yaml': 'name: rt-retry\nrun: |\n  if [ ! -f ~/rt-attempted ]; then touch ~/rt-attempted; echo "first attempt fails"; exit 3; fi\n  echo "skypilot-output greeting=$GREETING"\n'
      })
      expect(exec.outputs, shown(exec)).toMatchObject({ status: 'SUCCEEDED', 'exit-code': '0', 'job-id': '3', greeting: 'hello-again' })
      expect(run.calls().filter((c) => c.startsWith('exec'))).toHaveLength(2)
      expect(annotations(exec.stdout, 'warning').join('\n')).toMatch(/attempt 1 of 2 ran and failed; retrying/)
      expect(movesOf(exec)['rt-retry']).toEqual(['planned', 'launching', 'submitted', 'running', 'ended', 'launching', 'submitted', 'running', 'ended'])
      expect((await post(run, base, exec)).code).toBe(0)

      // 3. A run that exits 3: FAILED, the step fails, the job's last lines are in the error.
      const failed = await both({ ...base, down: 'false', 'task-yaml': 'name: rt-fail\nrun: |\n  echo "about to fail"\n  exit 3\n' })
      expect(failed.code).toBe(1)
      expect(failed.outputs, shown(failed)).toMatchObject({ status: 'FAILED', 'exit-code': '100' })
      expect(errorText(failed)).toMatch(/ended FAILED: the job's run command exited non-zero\. Its last lines:[\s\S]*\(rt-fail, pid=\d+\) about to fail[\s\S]*ERROR: Job 4 failed with return code list: \[3\]/)

      // 4. A setup that exits 3: FAILED_SETUP, named as a setup failure; its run never starts.
      const setup = await both({ ...base, down: 'false', 'task-yaml': 'name: rt-setup\nsetup: |\n  echo "setting up"\n  exit 3\nrun: echo "never runs"\n' })
      expect(setup.outputs, shown(setup)).toMatchObject({ status: 'FAILED_SETUP', 'exit-code': '100' })
      expect(errorText(setup)).toMatch(/ended FAILED_SETUP: the job's setup command exited non-zero: its run command never started\. Its last lines:[\s\S]*\(setup pid=\d+\) setting up/)
      expect(withoutJobPrefixes(setup.stdout)).not.toMatch(/^never runs$/m)

      // The records the action and the janitor read, real and double: the jobs (ids, names,
      // statuses), the fields and types of a job, of the cluster, and of its cost-report entry (whose
      // usage interval, and its launched_at, date from the start of provisioning, before the cluster's
      // own launched_at in sky status, which is when it was UP: a cost cap's price is read from it).
      const records = async (side: (args: string[]) => Promise<{ stdout: string }>) => {
        const [q, st, cost] = await Promise.all([side(['queue', '-o', 'json', cluster]), side(['status', '-o', 'json', cluster]), side(['cost-report', '-o', 'json', '--days', '1'])])
        const jobsOf = (jsonOf(q.stdout) as Record<string, Record<string, unknown>[]>)[cluster] ?? []
        const entry = (jsonOf(cost.stdout) as Record<string, unknown>[]).find((r) => r.name === cluster)!
        const status = (jsonOf(st.stdout) as Record<string, unknown>[])[0]!
        const opened = (entry.usage_intervals as number[][])[0]![0]!
        return {
          jobs: jobsOf.map((j) => [j.job_id, j.job_name, j.status]).sort(),
          job: shape(jobsOf.find((j) => j.job_id === 1)!),
          cluster: Object.keys(status),
          cost: {
            fields: Object.keys(entry).sort(),
            types: shape({ duration: entry.duration, total_cost: entry.total_cost, usage_intervals: entry.usage_intervals, status: entry.status, cloud: entry.cloud }),
            cloud: entry.cloud,
            status: entry.status,
            total: entry.total_cost,
            launchedAtIsIntervalStart: entry.launched_at === opened,
            intervalOpensBeforeUp: opened < (status.launched_at as number)
          }
        }
      }
      const [realRecords, doubleRecords] = await Promise.all([records((args) => sky(args, LOCAL_SERVER)), records((args) => twin.run(args, { timeoutMs: 120_000 }))])
      expect(realRecords.jobs.map((j) => j[2])).toEqual(['SUCCEEDED', 'FAILED', 'SUCCEEDED', 'FAILED', 'FAILED_SETUP'])
      expect(realRecords.cost).toMatchObject({ cloud: 'Slurm', status: 'UP', total: 0, launchedAtIsIntervalStart: true, intervalOpensBeforeUp: true })
      expect(doubleRecords).toEqual(realRecords)

      // 5. A job that would run ten minutes, with max-duration 20s and down: the action cancels it at
      //    the cap, tears the cluster down at once (verified), and fails TIMED_OUT saying so.
      const capArrivals: { line: string; at: number }[] = []
      const capped = await both({ ...base, 'max-duration': '20s', 'job-outputs': 'stage', 'task-yaml': 'name: rt-cap\nrun: |\n  echo "skypilot-output stage=training"\n  for i in $(seq 1 600); do echo "tick $i"; sleep 1; done\n' }, { onStdout: (chunk, at) => chunk.split('\n').forEach((line) => capArrivals.push({ line, at })) }, false)
      const ended = Date.now()
      expect(capped.code, shown(capped)).toBe(1)
      expect(capped.outputs).toMatchObject({ status: 'TIMED_OUT', 'job-id': '6' })
      // Outputs read before the cap are kept (on a loaded machine the job may not have printed its
      // marker within the 20 s: then there is none to keep).
      if (/^skypilot-output stage=training$/m.test(withoutJobPrefixes(capped.stdout))) expect(capped.outputs.stage).toBe('training')
      expect(errorText(capped)).toMatch(new RegExp(`reached its max-duration cap of 20s 2\\ds after it was submitted\\. SkyPilot cancelled job 6 on ${cluster} \\(sky cancel: .*Cancelled job ID\\(s\\): 6\\)\\. Cluster ${cluster} torn down \\(sky status no longer lists it\\)\\.`))
      expect(withoutJobPrefixes(capped.stdout)).not.toMatch(/^tick 60$/m)
      // The measured margin: from the job's submission to the step's end, beyond the 20 s cap.
      const submittedAt = capArrivals.find((a) => /Job submitted, ID: 6/.test(a.line))?.at ?? NaN
      console.log(`max-duration 20s on a real job: the step ended ${((ended - submittedAt) / 1000).toFixed(1)} s after the job's submission (cancel and teardown: ${((ended - submittedAt) / 1000 - 20).toFixed(1)} s beyond the cap)`)
      const p = await post(run, base, capped)
      expect(p.code, shown(p)).toBe(0)
      expect(run.calls().slice(-3).map((c) => c.split(' ')[0])).toEqual(['cancel', 'down', 'status'])
      await expectNothingLeft(cluster, LOCAL_SERVER)
      expect(twin.ledger().clusters).toEqual([])
      twin.cleanup()
    })

    it('fan-out: four tasks at most two at a time, ranked by a real marker; four results, the best one right, every cluster gone', SLOW, async () => {
      const run = realRun({}, { extras: ['slurm'] })
      const losses = [0.41, 0.17, 0.33, 0.25]
      const tasks = losses.map((loss, i) => ({ name: `lr${i + 1}`, 'cluster-name': named(`fan${i + 1}`), 'task-yaml': `name: rt-fan\nrun: |\n  echo "training ${i + 1}"\n  echo "skypilot-output val_loss=${loss}"\n` }))
      const inputs = { ...on, tasks: JSON.stringify(tasks), 'max-parallel': '2', 'job-outputs': 'val_loss', 'rank-by': 'val_loss' }
      const m = await main(run, inputs)
      expect(m.outputs.status, shown(m)).toBe('SUCCEEDED')
      const results = JSON.parse(m.outputs.results!) as { name: string; status: string; outputs: { val_loss: string } }[]
      expect(results.map((r) => [r.name, r.status, r.outputs.val_loss])).toEqual([
        ['lr2', 'SUCCEEDED', '0.17'],
        ['lr4', 'SUCCEEDED', '0.25'],
        ['lr3', 'SUCCEEDED', '0.33'],
        ['lr1', 'SUCCEEDED', '0.41']
      ])
      expect(JSON.parse(m.outputs.best!)).toMatchObject({ name: 'lr2', outputs: { val_loss: '0.17' } })
      expect(run.calls().filter((c) => c.startsWith('launch'))).toHaveLength(4)
      const p = await post(run, inputs, m)
      expect(p.code, shown(p)).toBe(0)
      // One sky down for all four.
      expect(run.calls().filter((c) => c.startsWith('down'))).toEqual([`down -y ${tasks.map((t) => t['cluster-name']).join(' ')}`])
      await expectNothingLeft(named('fan'), LOCAL_SERVER)
    })

    it("the runner cancels while a real job streams (SIGINT, SIGTERM 7.5 s later): CANCELLED, and the post step's teardown stops the job and removes the cluster", SLOW, async () => {
      const cluster = named('int')
      const run = realRun({}, { extras: ['slurm'] })
      const stop = stopFileOf(cluster)
      const inputs = { ...on, 'cluster-name': cluster, 'task-yaml': UNTIL_STOPPED('rt-int', stop) }
      const m = await main(run, inputs, { interrupt: { when: (out) => out.includes('tick 3'), signal: 'SIGINT', then: [{ afterMs: 7500, signal: 'SIGTERM' }] } })
      expect(m.stdout, shown(m)).toContain('Received SIGINT')
      expect(m.outputs).toMatchObject({ status: 'CANCELLED', 'exit-code': '103', 'job-id': '1' })
      // The job was running: the record says so, and the post step tears the cluster down.
      expect(movesOf(m)['rt-int']).toEqual(['planned', 'launching', 'submitted', 'running'])
      const p = await post(run, inputs, m)
      expect(p.code, shown(p)).toBe(0)
      expect(p.stdout).toContain(`Cluster ${cluster} torn down (sky status no longer lists it).`)
      await touchOnCluster(stop)
      await expectNothingLeft(cluster, LOCAL_SERVER)
    })

    it('main is killed (SIGKILL) mid-job: the post step alone, from the saved state, tears the cluster down', SLOW, async () => {
      const cluster = named('kill')
      const run = realRun({}, { extras: ['slurm'] })
      const inputs = { ...on, 'cluster-name': cluster, 'task-yaml': COUNTING('rt-kill') }
      const m = await main(run, inputs, { interrupt: { when: (out) => out.includes('tick 3'), signal: 'SIGKILL' } })
      expect(m.signal, shown(m)).toBe('SIGKILL')
      expect(await allocationsOf(cluster)).toHaveLength(1)
      const p = await post(run, inputs, m)
      expect(p.code, shown(p)).toBe(0)
      expect(p.stdout).toContain(`Cluster ${cluster} torn down (sky status no longer lists it).`)
      await expectNothingLeft(cluster, LOCAL_SERVER)
    })

    it("the allocation is ended from outside (scancel) mid-job: never SUCCEEDED, what SkyPilot said, and the post step still cleans up", SLOW, async () => {
      const cluster = named('scancel')
      const run = realRun({}, { extras: ['slurm'] })
      const stop = stopFileOf(cluster)
      const inputs = { ...on, 'cluster-name': cluster, 'task-yaml': UNTIL_STOPPED('rt-scancel', stop) }
      let cancelled: Promise<string[]> | undefined
      let relayed = ''
      const m = await main(run, inputs, { onStdout: (chunk) => void ((relayed += chunk).includes('tick 3') && (cancelled ??= scancel(cluster))) })
      await touchOnCluster(stop)
      // Main ended before the job's 'tick 3' was relayed: say what it said instead.
      expect(cancelled, shown(m)).toBeDefined()
      expect(await cancelled).not.toHaveLength(0)
      // The post step first: whatever main said, it must clean up.
      const p = await post(run, inputs, m)
      expect(p.code, shown(p)).toBe(0)
      // Asking for the job's status already showed SkyPilot the cluster was gone (it drops the record then).
      expect(p.stdout).toMatch(new RegExp(`Cluster ${cluster}(?: torn down|: sky down found no such cluster)`))
      expect(m.code, shown(m)).toBe(1)
      expect(run.calls().filter((c) => c.startsWith('launch'))).toHaveLength(1)
      // The job was submitted: never SUCCEEDED, never "failed before the job ran" (CI once saw
      // LAUNCH_FAILED here). Where the kill met the job's tail decides what SkyPilot can say: sky
      // launch's own tail exits 143; when the stream had dropped first (a loaded machine), the
      // `sky logs` following the job again does, or fails as the cluster's runtime is gone.
      expect(m.outputs, shown(m)).toMatchObject({ status: 'UNKNOWN', 'job-id': '1' })
      const unsaid = /SkyPilot did not say how the job ended \(sky logs --status: .*\)\. It was not launched again/s
      expect(errorText(m)).toMatch(unsaid)
      if (m.outputs['exit-code'] === '143') expect(errorText(m)).toMatch(/(?:sky|sky logs) exited 143 \(the job's log ended by signal 15\) after job 1 was submitted: the job's driver was killed/)
      else expect(errorText(m)).toMatch(/job 1 was submitted, but its log stream kept dropping/)
      await expectNothingLeft(cluster, LOCAL_SERVER)
    })
  })
})

afterAll(async () => {
  if (!jobs) return
  // Whatever a failed scenario left is named here, and removed so that the next run starts clean.
  const left = (await skyJson<{ name: string }[]>(['status', '-o', 'json'], LOCAL_SERVER)).map((c) => c.name).filter((n) => n.startsWith(RUN))
  if (left.length > 0) await sky(['down', '-y', ...left], LOCAL_SERVER)
  expect(left, 'clusters left by this file').toEqual([])
})

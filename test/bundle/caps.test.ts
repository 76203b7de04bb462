import { describe, expect, it } from 'vitest'
import { CAPS_METADATA_KEY } from '../../src/task/stamp.js'
import type { FakeSky } from '../fake-sky/index.mjs'
import { callsOf, fake, fakeServer, withSky as onDouble } from '../helpers/fakes.js'
import { annotations, runMain, runMainThenPost, runPost, type StepOptions } from '../helpers/runner.js'

/**
 * max-duration and max-cost-usd, run as the runner runs the action, against the test double: each
 * mode stops the job at its cap and says what SkyPilot answered; the cap goes with the job (its
 * record, the backend's time limit), so that collect and the janitor hold it later.
 */

const CLUSTER = 'gha-1234567890-1-train'
const TOKEN = 'sky_caps_token'
/** A job that would run for minutes, printing an output first. */
const LONG = 'name: long\nrun: |\n  echo "skypilot-output stage=started"\n  for i in $(seq 1 600); do echo "tick $i"; sleep 0.1; done\n'

async function withServer(s: FakeSky, inputs: Record<string, string>): Promise<StepOptions> {
  const server = await fakeServer({ version: '0.14.1', token: TOKEN })
  return withSky(s, { inputs: { 'api-server-endpoint': server.url, 'service-account-token': TOKEN, ...inputs } })
}

const error = (r: { stdout: string }) => annotations(r.stdout, 'error').join('\n')

/**
 * Each step on the double, given room for a loaded machine: a cap's path takes many sky calls, each
 * a process start of the double, and the jobs here would run a minute uncapped. What is asserted is
 * what the step says, never how long it took; a step that missed its cap would end SUCCEEDED.
 */
const withSky = (s: FakeSky, opts: StepOptions): StepOptions => onDouble(s, { timeoutMs: 150_000, ...opts })
const SLOW = { timeout: 400_000 }

describe('max-duration while the runner watches', () => {
  it('launch: the job is cancelled at the cap, the cluster torn down at once (verified), TIMED_OUT, outputs kept, exit-code empty', SLOW, async () => {
    const s = fake()
    const { main, post } = await runMainThenPost(withSky(s, { inputs: { 'task-yaml': LONG, 'max-duration': '3s', 'job-outputs': 'stage' } }))
    expect(main.code).toBe(1)
    expect(main.outputs).toMatchObject({ status: 'TIMED_OUT', stage: 'started', 'job-id': '1' })
    expect(main.outputs['exit-code'] ?? '').toBe('')
    expect(error(main)).toMatch(/Task on gha-1234567890-1-train reached its max-duration cap of 3s 3s after it was submitted\. SkyPilot cancelled job 1 on gha-1234567890-1-train \(sky cancel: .*Cancelled job ID\(s\): 1.*\)\. Cluster gha-1234567890-1-train torn down \(sky status no longer lists it\)\./)
    // Stopped at the cap, not at its end: its last tick never came (how soon is a benchmark's
    // figure, not a test's: bench/real-jobs.mjs measures it on the real cluster).
    expect(main.stdout).toContain('tick 1')
    expect(main.stdout).not.toContain('tick 600')
    expect(main.summary).toMatch(/⏱️ TIMED_OUT/)
    expect(main.summary).toMatch(/\| Caps \| max-duration 3s; held by this runner/)
    // Torn down by main: the post step has nothing left to do.
    expect(post.code).toBe(0)
    expect(callsOf(s, 'down')).toHaveLength(1)
    expect(s.ledger().clusters).toEqual([])
    expect(s.ledger().jobs.map((j) => j.status)).toEqual(['CANCELLED'])
  })

  it('the cap goes with the job: its record keeps it, and the allocation gets the time limit (cap + allowance)', SLOW, async () => {
    const s = fake({ check: { enabled: ['Slurm'] } })
    const main = await runMain(withSky(s, { inputs: { 'task-yaml': 'name: quick\nrun: echo done\n', 'max-duration': '45m', down: 'false' } }))
    expect(main.outputs.status).toBe('SUCCEEDED')
    const job = s.ledger().jobs[0] as unknown as { metadata: Record<string, unknown> }
    expect(job.metadata).toEqual({ [CAPS_METADATA_KEY]: { max_duration_s: 2700 } })
    const cluster = s.ledger().clusters[0] as unknown as { limits: { slurmTime: number; podDeadline: number } }
    expect(cluster.limits).toEqual({ slurmTime: 55, podDeadline: 3300 })
    // sky queue -o json shows it, as the real one shows a task's _metadata.
    const out = (await s.run(['queue', '-o', 'json', CLUSTER])).stdout
    const queue = JSON.parse(out.slice(out.indexOf('{'))) as Record<string, { metadata: unknown }[]>
    expect(queue[CLUSTER]![0]!.metadata).toEqual(job.metadata)
  })

  it('exec on a kept cluster: the job is cancelled, the cluster left running as asked', SLOW, async () => {
    const s = fake()
    expect((await runMain(withSky(s, { inputs: { 'task-yaml': 'run: echo up', 'cluster-name': CLUSTER, down: 'false' } }))).code).toBe(0)
    const main = await runMain(withSky(s, { inputs: { mode: 'exec', 'task-yaml': LONG, 'cluster-name': CLUSTER, 'max-duration': '2s' } }))
    expect(main.outputs.status).toBe('TIMED_OUT')
    expect(error(main)).toMatch(/reached its max-duration cap of 2s .* SkyPilot cancelled job 2 .* Cluster gha-1234567890-1-train is left running \(down is false\)/)
    expect(s.ledger().clusters.map((c) => c.status)).toEqual(['UP'])
    expect(s.ledger().jobs.map((j) => j.status)).toEqual(['SUCCEEDED', 'CANCELLED'])
  })

  it('managed: cancelled by name at the cap and verified in the jobs queue', SLOW, async () => {
    const s = fake()
    // A cap long enough for the job to be listed before it, on a loaded machine too.
    const { main, post } = await runMainThenPost(await withServer(s, { mode: 'managed', 'task-yaml': LONG, 'max-duration': '15s' }))
    expect(main.outputs.status).toBe('TIMED_OUT')
    expect(error(main)).toMatch(/reached its max-duration cap of 15s .* SkyPilot cancelled managed job 1: the jobs queue shows it CANCELLED/)
    expect(post.code).toBe(0)
    expect(s.ledger().managedJobs.map((j) => j.status)).toEqual(['CANCELLED'])
  })

  it('managed, cap reached before the jobs queue lists the job: its launch request is cancelled, and nothing is claimed cancelled that was never listed', SLOW, async () => {
    // The request is sent within the 10 s of the cap (its id printed at the interrupt) and lists the
    // job only 40 s later, on a loaded machine too.
    const s = fake({ managed: { submitMs: 40_000 } })
    const { main, post } = await runMainThenPost(await withServer(s, { mode: 'managed', 'task-yaml': LONG, 'max-duration': '10s' }))
    expect(main.outputs.status).toBe('TIMED_OUT')
    expect(error(main)).toMatch(/reached its max-duration cap of 10s .*\. SkyPilot cancelled its launch request [0-9a-f-]+, and the jobs queue lists no managed job named '[^']+'\./)
    expect(error(main)).not.toMatch(/SkyPilot cancelled managed job/)
    expect(post.code).toBe(0)
    // The request was cancelled before it created the job (the double's request ends with its
    // process): no job was listed, and none can appear later.
    expect(s.ledger().requests.filter((r) => r.name === 'sky.jobs.launch').map((r) => r.status)).toEqual(['CANCELLED'])
    expect(s.ledger().managedJobs).toEqual([])
  })

  it('managed: a job its controller ends FAILED_CONTROLLER after SkyPilot accepted the cancel is TIMED_OUT, with what the queue shows', SLOW, async () => {
    const s = fake({ managed: { cancelEndsAs: 'FAILED_CONTROLLER' } })
    const { main, post } = await runMainThenPost(await withServer(s, { mode: 'managed', 'task-yaml': LONG, 'max-duration': '15s' }))
    expect(main.outputs.status).toBe('TIMED_OUT')
    expect(error(main)).toMatch(/SkyPilot cancelled managed job 1: the jobs queue shows it FAILED_CONTROLLER \(it ended so after SkyPilot had accepted the cancel\)/)
    expect(post.code).toBe(0)
    expect(s.ledger().managedJobs.map((j) => j.status)).toEqual(['FAILED_CONTROLLER'])
  })

  it('fan-out: per task; the task past its cap fails the step, the others succeed', SLOW, async () => {
    const s = fake()
    const tasks = JSON.stringify([
      { name: 'quick', 'task-yaml': 'run: echo quick' },
      { name: 'slow', 'task-yaml': LONG }
    ])
    const { main, post } = await runMainThenPost(withSky(s, { inputs: { tasks, 'max-duration': '3s' } }))
    expect(main.code).toBe(1)
    const results = JSON.parse(main.outputs.results!) as { name: string; status: string }[]
    expect(results.map((r) => [r.name, r.status]).sort()).toEqual([['quick', 'SUCCEEDED'], ['slow', 'TIMED_OUT']])
    expect(error(main)).toMatch(/1 of 2 tasks did not succeed: slow \(TIMED_OUT\)/)
    expect(post.code).toBe(0)
    expect(s.ledger().clusters).toEqual([])
  })

  it('a job that ends before its cap keeps its own status, and no cancel is made', SLOW, async () => {
    const s = fake()
    const main = await runMain(withSky(s, { inputs: { 'task-yaml': 'run: echo fast', 'max-duration': '1h' } }))
    expect(main.outputs.status).toBe('SUCCEEDED')
    expect(callsOf(s, 'cancel')).toEqual([])
  })
})

describe('max-duration after the runner has gone', () => {
  it('detach, then collect past the cap recorded with the job: cancelled, torn down, TIMED_OUT with the cap message, and the outputs the job printed before', SLOW, async () => {
    // The follow shows its first line 3 s after it starts, long after the record says the job is
    // past its cap: the job is cancelled first, and its log still read.
    const s = fake({ logs: { startMs: 3000 } })
    const submitted = await runMainThenPost(await withServer(s, { 'task-yaml': LONG, detach: 'true', 'max-duration': '2s' }))
    expect(submitted.main.outputs.status).toBe('SUBMITTED')
    expect(s.ledger().clusters).toHaveLength(1)
    // No max-duration here: the cap comes from the job's record.
    const { main, post } = await runMainThenPost(await withServer(s, { mode: 'collect', 'job-id': '1', 'cluster-name': CLUSTER, 'wait-minutes': '5', 'job-outputs': 'stage' }))
    expect(main.code).toBe(1)
    expect(main.outputs).toMatchObject({ status: 'TIMED_OUT', stage: 'started' })
    expect(error(main)).toMatch(/Job 1 on gha-1234567890-1-train is past its max-duration cap of 2s \(recorded with the job\), counted from its submission: .* ago\. sky cancel: .*\. Cluster gha-1234567890-1-train torn down/)
    expect(post.code).toBe(0)
    expect(s.ledger().clusters).toEqual([])
    expect(s.ledger().jobs.map((j) => j.status)).toEqual(['CANCELLED'])
  })

  it('a detached managed job, collected past the cap recorded with it: cancelled by its id once, verified in the jobs queue, TIMED_OUT', SLOW, async () => {
    const s = fake()
    const submitted = await runMainThenPost(await withServer(s, { mode: 'managed', 'task-yaml': LONG, detach: 'true', 'max-duration': '2s' }))
    expect(submitted.main.outputs).toMatchObject({ status: 'SUBMITTED', 'job-id': '1' })
    // No max-duration here: the cap comes from the job's record.
    const { main, post } = await runMainThenPost(await withServer(s, { mode: 'collect', 'job-id': '1', 'wait-minutes': '5' }))
    expect(main.code).toBe(1)
    expect(main.outputs).toMatchObject({ status: 'TIMED_OUT', 'job-id': '1' })
    expect(error(main)).toMatch(/Managed job 1 is past its max-duration cap of 2s \(recorded with the job\), counted from its submission: .* ago\. The jobs queue shows it CANCELLED\./)
    expect(callsOf(s, 'jobs cancel').map((c) => c.argv.join(' '))).toEqual(['jobs cancel -y 1'])
    expect(post.code).toBe(0)
    expect(s.ledger().managedJobs.map((j) => j.status)).toEqual(['CANCELLED'])
  })

  it('the janitor tears down a young cluster past its recorded cap and cancels a managed job past its own, listing both', SLOW, async () => {
    const s = fake()
    const opts = (inputs: Record<string, string>) => withServer(s, inputs)
    expect((await runMain(await opts({ 'task-yaml': LONG, detach: 'true', 'cluster-name': 'gha-capped', 'max-duration': '1s' }))).outputs.status).toBe('SUBMITTED')
    expect((await runMain(await opts({ 'task-yaml': 'run: sleep 60', detach: 'true', 'cluster-name': 'gha-free' }))).outputs.status).toBe('SUBMITTED')
    expect((await runMain(await opts({ mode: 'managed', 'task-yaml': LONG, detach: 'true', 'job-name': 'gha-mjob', 'max-duration': '1s' }))).outputs.status).toBe('SUBMITTED')
    await new Promise((r) => setTimeout(r, 1500))
    const main = await runMain(await opts({ mode: 'down', 'max-age-hours': '12' }))
    expect(main.code).toBe(0)
    expect(JSON.parse(main.outputs.results!)).toEqual(['gha-capped', 'managed:gha-mjob'])
    expect(main.summary).toMatch(/\| `gha-capped` \| .* \| past its max-duration cap of 1s \| ✅ torn down \|/)
    expect(main.summary).toMatch(/\| `gha-mjob` \| 1 \| past its max-duration cap of 1s \| CANCELLED \|/)
    expect(s.ledger().clusters.map((c) => c.name)).toEqual(['gha-free'])
    expect(s.ledger().managedJobs.map((j) => j.status)).toEqual(['CANCELLED'])
    await runPost(await opts({ mode: 'down', 'max-age-hours': '12' }))
  })
})

describe('caps refused before any sky call', () => {
  it.each([
    ['max-duration', '0', /'max-duration' must be longer than 0/],
    ['max-duration', '2x', /'max-duration' must be a duration such as 45m/],
    ['max-duration', '31d', /at most 30 days/],
    ['max-cost-usd', '12.505', /'max-cost-usd' must be at most two decimals/],
    ['max-cost-usd', '-1', /'max-cost-usd' must be a number of US dollars/]
  ])('%s: %s', async (input, value, message) => {
    const s = fake()
    const main = await runMain(withSky(s, { inputs: { 'task-yaml': 'run: echo', [input]: value } }))
    expect(main.code).toBe(1)
    expect(main.outputs.status).toBe('INVALID')
    expect(error(main)).toMatch(message)
    expect(s.calls()).toEqual([])
  })

  it('a token that expires before max-duration could end: a warning that the run may outlive it', async () => {
    const s = fake()
    const exp = Math.floor(Date.now() / 1000) + 3600
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
    const token = `sky_${part({ alg: 'HS256', typ: 'JWT' })}.${part({ exp })}.sig`
    const server = await fakeServer({ version: '0.14.1', token })
    const { main } = await runMainThenPost(withSky(s, { inputs: { 'task-yaml': 'run: echo', 'api-server-endpoint': server.url, 'service-account-token': token, 'max-duration': '2h' } }))
    expect(main.code).toBe(0)
    expect(annotations(main.stdout, 'warning').join('\n')).toMatch(/expires at .* before this run could end \(it may take up to 2 hours\)/)
  })
})

describe('max-cost-usd', () => {
  it("launch: SkyPilot's price turns the cap into a deadline (one cost report); reached, the job is cancelled and the cluster torn down, TIMED_OUT with the cost", SLOW, async () => {
    // $3600 an hour: $1 a second, so a $4 cap is reached a few seconds after the launch.
    // Provisioning takes a moment, as it does: the price is read from a cluster that has been up.
    const s = fake({ check: { enabled: ['AWS'] }, prices: { AWS: 3600 }, launch: { provisionMs: 1500 } })
    const { main } = await runMainThenPost(withSky(s, { inputs: { 'task-yaml': LONG, 'max-cost-usd': '4' } }))
    expect(main.outputs.status).toBe('TIMED_OUT')
    expect(main.stdout).toMatch(/max-cost-usd: gha-1234567890-1-train costs \$3600\.00\/h as SkyPilot prices it/)
    expect(error(main)).toMatch(/reached its max-cost-usd cap of \$4\.00 \d+s after it was submitted \(SkyPilot's price puts it at \$4\.\d\d\)\. SkyPilot cancelled job 1/)
    // One report for the price; one at the end for the run's cost-usd, which the cap bounds.
    expect(callsOf(s, 'cost-report')).toHaveLength(2)
    expect(Number(main.outputs['cost-usd'])).toBeGreaterThanOrEqual(4)
    expect(s.ledger().clusters).toEqual([])
  })

  it('where SkyPilot has no price (Slurm), a warning says the cost cap cannot be held there, and no cost report is asked', SLOW, async () => {
    const s = fake({ check: { enabled: ['Slurm'] } })
    const main = await runMain(withSky(s, { inputs: { 'task-yaml': 'run: echo done', infra: 'slurm', 'max-cost-usd': '4' } }))
    expect(main.outputs.status).toBe('SUCCEEDED')
    expect(annotations(main.stdout, 'warning').join('\n')).toMatch(/max-cost-usd \(\$4\.00\) cannot be enforced for .*: SkyPilot reports no price for Slurm\. Set max-duration to cap this run\./)
    expect(callsOf(s, 'cost-report')).toEqual([])
  })
})

describe('max-cost-usd after the runner has gone', () => {
  it("collect: a cost cap recorded with the job becomes a deadline from its cluster's price; past it, the job is cancelled and torn down, TIMED_OUT", SLOW, async () => {
    // Provisioning takes a moment, as it does: the price is read from a cluster that has been up.
    const s = fake({ check: { enabled: ['AWS'] }, prices: { AWS: 3600 }, launch: { provisionMs: 1500 } })
    expect((await runMain(await withServer(s, { 'task-yaml': LONG, detach: 'true', 'max-cost-usd': '6' }))).outputs.status).toBe('SUBMITTED')
    const main = await runMain(await withServer(s, { mode: 'collect', 'job-id': '1', 'cluster-name': CLUSTER, 'wait-minutes': '5' }))
    expect(main.outputs.status).toBe('TIMED_OUT')
    expect(error(main)).toMatch(/Job 1 on gha-1234567890-1-train is past its max-cost-usd cap of \$6\.00 \(recorded with the job\), as SkyPilot prices its cluster\. sky cancel: .*Cluster gha-1234567890-1-train torn down/)
    expect(s.ledger().clusters).toEqual([])
  })

  it('the janitor tears down a young cluster whose cost reached the cap recorded with its job (one cost report for all)', SLOW, async () => {
    // Provisioning takes a moment, as it does: the price is read from a cluster that has been up.
    const s = fake({ check: { enabled: ['AWS'] }, prices: { AWS: 3600 }, launch: { provisionMs: 1500 } })
    expect((await runMain(await withServer(s, { 'task-yaml': LONG, detach: 'true', 'cluster-name': 'gha-costly', 'max-cost-usd': '1' }))).outputs.status).toBe('SUBMITTED')
    await new Promise((r) => setTimeout(r, 1500))
    const main = await runMain(await withServer(s, { mode: 'down', 'max-age-hours': '12' }))
    expect(JSON.parse(main.outputs.results!)).toEqual(['gha-costly'])
    expect(main.summary).toMatch(/\| `gha-costly` \| .* \| past its max-cost-usd cap of \$1\.00 \(\$\d+\.\d\d as SkyPilot prices it\) \| ✅ torn down \|/)
    expect(callsOf(s, 'cost-report')).toHaveLength(1)
  })
})

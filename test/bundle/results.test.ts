import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callsOf, fake, fakeServer, withSky } from '../helpers/fakes.js'
import { startGitHubApi, type GitHubApi } from '../helpers/github-api.js'
import { annotations, everythingVisible, runMain, runMainThenPost } from '../helpers/runner.js'

/** Results back into the workflow: job outputs, the leaderboard, the pull-request comment. */

const METRICS = 'name: train\nrun: |\n  echo "epoch 1"\n  echo "skypilot-output val_loss=0.31"\n  echo "skypilot-output val_loss=0.25"\n  echo "skypilot-output accuracy=0.91"\n  echo "skypilot-output model_path=s3://bucket/model-7"\n  echo "skypilot-output sneaky=not declared"\n'

describe('job outputs', () => {
  it('declared names become step outputs (last value wins), in job-outputs and the summary; an undeclared one is a notice, nothing more', async () => {
    const s = fake()
    const { main } = await runMainThenPost(withSky(s, { inputs: { 'task-yaml': METRICS, 'job-outputs': 'val_loss, accuracy\nmodel_path' } }))
    expect(main.code).toBe(0)
    expect(main.outputs).toMatchObject({ val_loss: '0.25', accuracy: '0.91', model_path: 's3://bucket/model-7' })
    expect(JSON.parse(main.outputs['job-outputs']!)).toEqual({ val_loss: '0.25', accuracy: '0.91', model_path: 's3://bucket/model-7' })
    expect(main.outputs).not.toHaveProperty('sneaky')
    expect(annotations(main.stdout, 'notice').join('\n')).toMatch(/'sneaky' is not in 'job-outputs': ignored/)
    expect(main.summary).toContain('| val\\_loss | 0.25 |')
  })

  it('a marker written while the log stream was down is read: the job is followed again from its first line, not its last 1000', async () => {
    // Each stream drops 300 ms in (the API server restarting). The first follow drops before the
    // marker; the next, 2 s later, comes after it and 3000 more lines: only the whole log holds it.
    const s = fake({ launch: { dropStreamAfterMs: 300 }, logs: { dropStreamAfterMs: 300 } })
    const task = 'run: |\n  echo "training started"\n  sleep 2.5\n  echo "skypilot-output accuracy=0.93"\n  seq 1 3000\n  echo "training done"\n'
    const main = await runMain(withSky(s, { inputs: { 'task-yaml': task, 'job-outputs': 'accuracy', 'retry-delay-seconds': '2' } }))
    expect(main.code, main.stdout.slice(-3000)).toBe(0)
    expect(main.outputs).toMatchObject({ status: 'SUCCEEDED', accuracy: '0.93' })
    expect(callsOf(s, 'launch')).toHaveLength(1)
    expect(callsOf(s, 'logs').every((c) => c.argv.join(' ').startsWith('logs --tail 0 '))).toBe(true)
    expect(annotations(main.stdout, 'warning').join('\n')).toMatch(/following it again \(from its first line, for the job outputs: the lines already shown repeat\)/)
  })

  it("a value that holds a secret is refused, and the secret shows nowhere", async () => {
    const s = fake()
    const task = 'run: |\n  echo "skypilot-output token=prefix-$API_KEY-suffix"\n  echo "skypilot-output ok=fine"\n'
    const main = await runMain(withSky(s, { inputs: { 'task-yaml': task, secrets: 'API_KEY=hunter2-very-secret', 'job-outputs': 'token ok' } }))
    expect(main.code).toBe(0)
    expect(main.outputs.ok).toBe('fine')
    expect(main.outputs).not.toHaveProperty('token')
    expect(annotations(main.stdout, 'warning').join('\n')).toMatch(/job output token contains a secret: refused/)
    // Where the action writes, the secret never is; the job's own log line holding it is masked by
    // the runner, which was told the value before anything ran.
    expect([JSON.stringify(main.outputs), main.summary, ...annotations(main.stdout, 'warning'), ...annotations(main.stdout, 'error')].join('\n')).not.toContain('hunter2-very-secret')
    expect(main.stdout.indexOf('::add-mask::hunter2-very-secret')).toBeGreaterThanOrEqual(0)
    expect(main.stdout.indexOf('::add-mask::hunter2-very-secret')).toBeLessThan(main.stdout.indexOf('skypilot-output token='))
  })

  it("a marker in a fan-out task lands in that task's results entry; rank-by orders the results and picks the best", async () => {
    const s = fake()
    const cell = (loss: string) => `run: echo "skypilot-output val_loss=${loss}"`
    const tasks = [
      `- {name: lr-small, task-yaml: '${cell('0.40')}'}`,
      `- {name: lr-mid, task-yaml: '${cell('0.21')}'}`,
      `- {name: lr-big, task-yaml: '${cell('0.35')}'}`,
      `- {name: no-metric, task-yaml: 'run: echo done'}`
    ].join('\n')
    const main = await runMain(withSky(s, { inputs: { tasks, 'job-outputs': 'val_loss', 'rank-by': 'val_loss' } }))
    expect(main.code).toBe(0)
    const results = JSON.parse(main.outputs.results!) as { name: string; outputs?: Record<string, string>; rank?: number }[]
    expect(results.map((r) => r.name)).toEqual(['lr-mid', 'lr-big', 'lr-small', 'no-metric'])
    expect(results[0]).toMatchObject({ name: 'lr-mid', outputs: { val_loss: '0.21' }, rank: 1 })
    expect(JSON.parse(main.outputs.best!)).toMatchObject({ name: 'lr-mid', outputs: { val_loss: '0.21' } })
    // A fan-out's values are per task: no step-level job outputs.
    expect(main.outputs).not.toHaveProperty('val_loss')
    expect(main.summary).toContain('xychart-beta')
  })

  it('collect recovers the outputs from the whole log of a finished detached job', async () => {
    const s = fake()
    const server = await fakeServer({ version: '0.14.1' })
    const lines = Array.from({ length: 1500 }, (_, i) => `  echo "line ${i}"`).join('\n')
    // The marker comes first, then more than sky's default 1000 lines of log.
    const task = `run: |\n  echo "skypilot-output model_path=gs://b/m"\n${lines}\n`
    const submitted = await runMain(withSky(s, { inputs: { 'task-yaml': task, detach: 'true', 'api-server-endpoint': server.url } }))
    expect(submitted.outputs.status).toBe('SUBMITTED')
    await s.waitFor((l) => l.jobs.every((j) => j.status === 'SUCCEEDED'))
    const collected = await runMain(withSky(s, { inputs: { mode: 'collect', 'job-id': submitted.outputs['job-id']!, 'cluster-name': submitted.outputs['cluster-name']!, 'api-server-endpoint': server.url, 'job-outputs': 'model_path', down: 'false' } }))
    expect(collected.outputs, collected.stdout.slice(-2000)).toMatchObject({ status: 'SUCCEEDED', model_path: 'gs://b/m' })
  })
})

describe('the pull-request comment', () => {
  let api: GitHubApi
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-event-'))
  const pr = (fork: boolean) => {
    const file = path.join(dir, `${fork ? 'fork' : 'same'}.json`)
    fs.writeFileSync(file, JSON.stringify({ pull_request: { number: 7, head: { repo: { full_name: fork ? 'someone/ml' : 'octo/ml' } }, base: { repo: { full_name: 'octo/ml' } } } }))
    return { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: file, GITHUB_REPOSITORY: 'octo/ml', GITHUB_API_URL: api.url, GITHUB_WORKFLOW: 'eval', GITHUB_ACTION: 'sky' }
  }
  beforeAll(async () => {
    api = await startGitHubApi()
  })
  afterAll(async () => {
    await api.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('is created on the first run and updated on the next, holding the status and the job outputs', async () => {
    api.reset()
    const s = fake()
    const inputs = { 'task-yaml': METRICS, 'job-outputs': 'val_loss', 'comment-on-pr': 'true', 'github-token': 'ghs_commentToken123456' }
    const first = await runMain(withSky(s, { inputs, env: pr(false) }))
    expect(first.code).toBe(0)
    expect(api.writes()).toHaveLength(1)
    expect(api.writes()[0]).toMatchObject({ method: 'POST', url: '/repos/octo/ml/issues/7/comments', auth: 'token ghs_commentToken123456' })
    const body = api.writes()[0]!.body!.body!
    expect(body).toMatch(/^<!-- skypilot-action:/)
    expect(body).toContain('SUCCEEDED')
    expect(body).toContain('0.25')
    const second = await runMain(withSky(s, { inputs: { ...inputs, 'task-yaml': METRICS.replace('0.25', '0.19') }, env: pr(false) }))
    expect(second.code).toBe(0)
    expect(api.writes().map((w) => w.method)).toEqual(['POST', 'PATCH'])
    expect(api.comments).toHaveLength(1)
    expect(api.comments[0]!.body).toContain('0.19')
    expect(everythingVisible(first, second)).not.toContain('ghs_commentToken123456')
  })

  it("a fork's read-only token: the comment is refused, the step warns and still succeeds", async () => {
    api.reset()
    api.writeStatus = 403
    const s = fake()
    const main = await runMain(withSky(s, { inputs: { 'task-yaml': METRICS, 'comment-on-pr': 'true', 'github-token': 'ghs_readOnly123456' }, env: pr(true) }))
    expect(main.code).toBe(0)
    expect(main.outputs.status).toBe('SUCCEEDED')
    expect(annotations(main.stdout, 'warning').join('\n')).toMatch(/from a fork/)
  })
})

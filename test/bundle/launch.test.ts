import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { callsOf, fake, fakeServer, withSky } from '../helpers/fakes.js'
import { annotations, everythingVisible, processedCommands, runMain, runMainThenPost, runPost } from '../helpers/runner.js'

/** The action's bundles run as the runner runs them, against the test double of `sky`. */

const HELLO = 'name: hello\nsetup: echo setting up\nrun: |\n  echo "hello from the job"\n'

describe('launch, follow, tear down', () => {
  it('succeeds: streams the log, sets outputs and summary, and the post step leaves no cluster', async () => {
    const s = fake()
    const { main, post } = await runMainThenPost(withSky(s, { inputs: { 'task-yaml': HELLO } }))
    expect(main.code).toBe(0)
    expect(main.stdout).toContain('hello from the job')
    expect(main.outputs).toMatchObject({ status: 'SUCCEEDED', 'exit-code': '0', 'job-id': '1', 'cluster-name': 'gha-1234567890-1-train', 'skypilot-version': '0.14.1' })
    expect(main.summary).toContain('SUCCEEDED')
    expect(main.summary).toContain('gha-1234567890-1-train')
    expect(post.code).toBe(0)
    expect(post.stdout).toContain('Cluster gha-1234567890-1-train torn down (sky status no longer lists it).')
    expect(s.ledger().clusters).toEqual([])
    // Budget: 2 sky calls up to and including the launch (a sky on PATH says its version), one for
    // the run's cost, 2 in the post step (down, and the status that verifies it).
    const calls = s.calls().map((c) => c.argv.join(' '))
    expect(calls[0]).toBe('--version')
    expect(calls[1]).toMatch(/^launch -y -c gha-1234567890-1-train --down -i 10 /)
    expect(calls.slice(2).map((c) => c.split(' ')[0])).toEqual(['cost-report', 'down', 'status'])
  })

  it("a task's log lines that look like workflow commands stay text, also in a fan-out after another task ended", { timeout: 90_000 }, async () => {
    const s = fake()
    const single = await runMain(withSky(s, { inputs: { 'task-yaml': 'run: |\n  echo "::error::injected-single"\n  echo "::add-mask::hello"\n' } }))
    expect(single.code).toBe(0)
    expect(single.stdout).toContain('::error::injected-single')
    expect(processedCommands(single.stdout).join('\n')).not.toMatch(/injected-single|add-mask::hello/)
    const tasks = '- {name: quick, task-yaml: "run: echo quick done"}\n- {name: slow, task-yaml: "run: sleep 1; echo ::error::injected-late"}\n'
    const fanout = await runMain(withSky(s, { inputs: { tasks } }))
    expect(fanout.code).toBe(0)
    expect(fanout.stdout).toContain('::error::injected-late')
    expect(processedCommands(fanout.stdout).join('\n')).not.toContain('injected-late')
    // Both relays share one stop, lifted once, after the last one ended.
    expect(fanout.stdout.match(/^::stop-commands::/gm)).toHaveLength(1)
    expect(fanout.stdout.lastIndexOf('injected-late')).toBeLessThan(fanout.stdout.search(/^::[0-9a-f-]{36}::$/m))
    // The action's own commands still count (outputs are files; the group markers are commands).
    expect(processedCommands(single.stdout).some((c) => c.startsWith('::group::'))).toBe(true)
  })

  it('a task file in the workspace with env overrides passed as --env', async () => {
    const s = fake()
    const { main } = await runMainThenPost(withSky(s, { inputs: { task: 'examples/train.yaml', envs: 'DATA_BUCKET_NAME=bucket-1\nEPOCHS=1' } }))
    expect(main.code).toBe(0)
    expect(main.stdout).toContain('TRAIN DONE')
    const launch = callsOf(s, 'launch')[0]!.argv
    expect(launch).toEqual(expect.arrayContaining(['--env', 'DATA_BUCKET_NAME=bucket-1', '--env', 'EPOCHS=1']))
    expect(s.ledger().clusters).toEqual([])
  })

  it('maps a job failure (exit 100) to a failed step with a message that says so', async () => {
    const s = fake()
    const { main, post } = await runMainThenPost(withSky(s, { inputs: { 'task-yaml': 'run: |\n  echo about to fail\n  exit 3\n' } }))
    expect(main.code).toBe(1)
    expect(main.outputs).toMatchObject({ status: 'FAILED', 'exit-code': '100' })
    // The job's own last lines are in the error: why it failed, without scrolling up the log.
    expect(annotations(main.stdout, 'error').join('\n')).toMatch(/ended FAILED: the job's run command exited non-zero\. Its last lines:%0A    \(task, pid=\d+\) about to fail%0A    ERROR: Job 1 failed with return code list: \[3\]/)
    expect(callsOf(s, 'launch')).toHaveLength(1) // a job that ran is not retried by default
    expect(post.code).toBe(0)
    expect(s.ledger().clusters).toEqual([])
  })

  it('retries a launch that failed before its job ran, then succeeds', async () => {
    const s = fake({ launch: { failTimes: 1, leaveInit: true } })
    const { main, post } = await runMainThenPost(withSky(s, { inputs: { 'task-yaml': HELLO, 'retry-delay-seconds': '0' } }))
    expect(main.code).toBe(0)
    expect(callsOf(s, 'launch')).toHaveLength(2)
    // Retried because SkyPilot said another try can succeed (capacity), in its own words.
    expect(annotations(main.stdout, 'warning').join('\n')).toMatch(/attempt 1 of 3 failed before the job ran \(ResourcesUnavailableError: Failed to provision all possible launchable resources\..*\); retrying/)
    expect(main.summary).toMatch(/\| 2 \|/) // attempts column
    expect(post.code).toBe(0)
    expect(s.ledger().clusters).toEqual([])
  })

  it('gives up after the retries and says it failed before the job ran; post removes the partial cluster', async () => {
    const s = fake({ launch: { fail: true, leaveInit: true } })
    const { main, post } = await runMainThenPost(withSky(s, { inputs: { 'task-yaml': HELLO, retries: '1', 'retry-delay-seconds': '0' } }))
    expect(main.code).toBe(1)
    expect(main.outputs).toMatchObject({ status: 'LAUNCH_FAILED', 'exit-code': '1' })
    expect(callsOf(s, 'launch')).toHaveLength(2)
    expect(annotations(main.stdout, 'error').join('\n')).toMatch(/failed before the job ran/)
    expect(post.code).toBe(0)
    expect(s.ledger().clusters).toEqual([])
  })

  it('a required env that envs does not provide fails before any sky call, annotated on the file and line', async () => {
    const s = fake()
    const { main, post } = await runMainThenPost(withSky(s, { inputs: { task: 'examples/train.yaml' } }))
    expect(main.code).toBe(1)
    expect(s.calls()).toEqual([])
    const errors = annotations(main.stdout, 'error')
    expect(errors.some((e) => e.includes('file=examples/train.yaml') && /line=\d+/.test(e) && e.includes('DATA_BUCKET_NAME'))).toBe(true)
    expect(main.stdout).toMatch(/DATA_BUCKET_NAME/)
    expect(main.outputs.status).toBe('INVALID')
    expect(post.code).toBe(0)
    expect(s.calls()).toEqual([])
  })

  it('reports every invalid input in one failure, before any sky call', async () => {
    const s = fake()
    const main = await runMain(withSky(s, { inputs: { 'task-yaml': HELLO, 'num-nodes': 'two', 'use-spot': 'maybe', retries: '-1' } }))
    expect(main.code).toBe(1)
    const error = annotations(main.stdout, 'error').join('\n')
    expect(error).toMatch(/3 problems/)
    expect(error).toMatch(/num-nodes/)
    expect(error).toMatch(/use-spot/)
    expect(error).toMatch(/retries/)
    expect(s.calls()).toEqual([])
  })

  it('launches from a git URL at a branch (a local bare repository as the remote)', async () => {
    const s = fake()
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'git-src-'))
    const bare = path.join(work, 'remote.git')
    const clone = path.join(work, 'clone')
    const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, stdio: 'pipe', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } })
    fs.mkdirSync(clone)
    git(work, 'init', '-q', '--bare', bare)
    git(clone, 'init', '-q', '-b', 'main')
    fs.writeFileSync(path.join(clone, 'README'), 'x')
    git(clone, 'add', '.')
    git(clone, 'commit', '-qm', 'main')
    git(clone, 'checkout', '-qb', 'feature')
    fs.mkdirSync(path.join(clone, 'tasks'))
    fs.writeFileSync(path.join(clone, 'tasks', 'train.yaml'), 'name: from-git\nenvs:\n  EPOCHS: null\nrun: echo "trained from git for $EPOCHS epochs"\n')
    git(clone, 'add', '.')
    git(clone, 'commit', '-qm', 'feature')
    git(clone, 'push', '-q', bare, 'main', 'feature')

    const { main, post } = await runMainThenPost(withSky(s, { inputs: { 'base-path': `file://${bare}`, 'git-ref': 'feature', task: 'tasks/train.yaml', envs: '{"EPOCHS": 5}' } }))
    expect(main.code).toBe(0)
    expect(main.stdout).toContain('trained from git for 5 epochs')
    expect(post.code).toBe(0)
    expect(s.ledger().clusters).toEqual([])
    // The checkout lived under RUNNER_TEMP and is gone after the post step.
    expect(fs.readdirSync(path.join(main.runnerTemp, 'skypilot-action')).filter((d) => d.startsWith('src-'))).toEqual([])

    const missing = await runMain(withSky(s, { inputs: { 'base-path': `file://${bare}`, 'git-ref': 'no-such-branch', task: 'tasks/train.yaml' } }))
    expect(missing.code).toBe(1)
    expect(annotations(missing.stdout, 'error').join('\n')).toMatch(/Could not fetch .* at 'no-such-branch'.*Check the URL and the ref/)
    fs.rmSync(work, { recursive: true, force: true })
  })

  it('uses an API server with a token: matches its version, never shows endpoint credentials or token', async () => {
    const token = 'sky_0123456789abcdef_secret_token'
    const server = await fakeServer({ version: '0.14.1', token, basicAuth: { user: 'ci', pass: 'hunter2-basic-pass' } })
    const endpoint = server.url.replace('http://', 'http://ci:hunter2-basic-pass@')
    const s = fake()
    const { main, post } = await runMainThenPost(
      withSky(s, { inputs: { 'task-yaml': HELLO, 'api-server-endpoint': endpoint, 'service-account-token': token, secrets: 'HF_TOKEN=hf_supersecretvalue' } })
    )
    expect(main.code).toBe(0)
    expect(post.code).toBe(0)
    expect(main.outputs['dashboard-url']).toMatch(/\/dashboard\/clusters\/gha-1234567890-1-train$/)
    expect(main.outputs['dashboard-url']).not.toContain('hunter2')
    const visible = everythingVisible(main, post)
    for (const secret of [token, 'hunter2-basic-pass', 'hf_supersecretvalue']) expect(visible).not.toContain(secret)
    // The secret reached the job through --secret KEY and sky's env: never on a command line.
    expect(JSON.stringify(s.calls())).not.toContain('hf_supersecretvalue')
    expect(callsOf(s, 'launch')[0]!.argv).toEqual(expect.arrayContaining(['--secret', 'HF_TOKEN']))
    // Masks were registered for each.
    for (const secret of [token, 'hunter2-basic-pass', 'hf_supersecretvalue']) expect(main.stdout).toContain(`::add-mask::${secret}`)
    expect(server.requests.some((r) => r.url === '/api/health' && r.authorization === `Bearer ${token}`)).toBe(true)
    expect(s.ledger().clusters).toEqual([])
  })

  it('a rejected token fails before any sky call, saying what to check', async () => {
    const server = await fakeServer({ version: '0.14.1', token: 'sky_the_right_one' })
    const s = fake()
    const main = await runMain(withSky(s, { inputs: { 'task-yaml': HELLO, 'api-server-endpoint': server.url, 'service-account-token': 'sky_wrong_token' } }))
    expect(main.code).toBe(1)
    expect(annotations(main.stdout, 'error').join('\n')).toMatch(/refused the credentials \(HTTP 401\).*service-account-token/)
    expect(s.calls()).toEqual([])
  })

  it('SIGINT while streaming: main stops in the cancel window, the post step tears down', async () => {
    const s = fake()
    const inputs = { 'task-yaml': 'run: |\n  echo "training started"\n  sleep 60\n' }
    const main = await runMain(withSky(s, { inputs, interrupt: { when: (out) => out.includes('training started'), signal: 'SIGINT' } }))
    expect(main.code).toBe(1)
    expect(main.outputs.status).toBe('CANCELLED')
    // Main ended without waiting for the job (it sleeps a minute): the job had not ended by itself.
    expect(s.ledger().jobs.map((j) => j.status)).not.toContain('SUCCEEDED')
    expect(main.stdout).toMatch(/Received SIGINT/)
    expect(s.ledger().clusters.map((c) => c.name)).toEqual(['gha-1234567890-1-train'])
    const post = await runPost(withSky(s, { inputs, runnerTemp: main.runnerTemp, state: main.state }))
    expect(post.code).toBe(0)
    expect(s.ledger().clusters).toEqual([])
    expect(s.ledger().jobs.every((j) => j.status !== 'RUNNING')).toBe(true)
  })

  it('SIGINT while provisioning cancels the server-side request (sky api cancel) and post removes what was provisioned', async () => {
    const s = fake({ launch: { hang: true } })
    const inputs = { 'task-yaml': HELLO }
    const main = await runMain(withSky(s, { inputs, interrupt: { when: () => s.ledger().clusters.length > 0, signal: 'SIGINT', delayMs: 300 } }))
    expect(main.code).toBe(1)
    expect(main.outputs.status).toBe('CANCELLED')
    expect(callsOf(s, 'api cancel')).toHaveLength(1)
    expect(s.ledger().requests.every((r) => r.status !== 'RUNNING')).toBe(true)
    const post = await runPost(withSky(s, { inputs, runnerTemp: main.runnerTemp, state: main.state }))
    expect(post.code).toBe(0)
    expect(s.ledger().clusters).toEqual([])
  })

  it('sky down that exits 0 but leaves the cluster: post retries, then fails loudly naming it and the command', async () => {
    const s = fake({ down: { ignore: true } })
    const { main, post } = await runMainThenPost(withSky(s, { inputs: { 'task-yaml': HELLO } }))
    expect(main.code).toBe(0)
    expect(post.code).toBe(1)
    expect(callsOf(s, 'down')).toHaveLength(3)
    expect(callsOf(s, 'status')).toHaveLength(3)
    const error = annotations(post.stdout, 'error').join('\n')
    expect(error).toContain('gha-1234567890-1-train')
    expect(error).toContain('sky down -y gha-1234567890-1-train')
    expect(post.summary).toContain('sky down -y gha-1234567890-1-train')
  })

  it('a sky down that works on the second try passes after a warning', async () => {
    const s = fake({ down: { ignoreTimes: 1 } })
    const { post } = await runMainThenPost(withSky(s, { inputs: { 'task-yaml': HELLO } }))
    expect(post.code).toBe(0)
    expect(callsOf(s, 'down')).toHaveLength(2)
    expect(s.ledger().clusters).toEqual([])
  })

  it('down: false leaves the cluster and the summary says how to remove it', async () => {
    const s = fake()
    const { main, post } = await runMainThenPost(withSky(s, { inputs: { 'task-yaml': HELLO, down: 'false' } }))
    expect(main.code).toBe(0)
    expect(callsOf(s, 'launch')[0]!.argv).not.toContain('--down')
    expect(post.code).toBe(0)
    expect(callsOf(s, 'down')).toHaveLength(0)
    expect(s.ledger().clusters.map((c) => c.name)).toEqual(['gha-1234567890-1-train'])
    expect(main.summary).toMatch(/left running \(down is false\).*sky down -y gha-1234567890-1-train/)
  })

  it('SIGKILL of main after the state was saved: the post step alone tears down', async () => {
    const s = fake()
    const inputs = { 'task-yaml': 'run: |\n  echo "long job"\n  sleep 60\n' }
    const main = await runMain(withSky(s, { inputs, interrupt: { when: (out) => out.includes('long job'), signal: 'SIGKILL' } }))
    expect(main.signal).toBe('SIGKILL')
    expect(s.ledger().clusters).toHaveLength(1)
    const post = await runPost(withSky(s, { inputs, runnerTemp: main.runnerTemp, state: main.state }))
    expect(post.code).toBe(0)
    expect(s.ledger().clusters).toEqual([])
  })

  it('the post step finds the cluster already gone and passes', async () => {
    const s = fake()
    const main = await runMain(withSky(s, { inputs: { 'task-yaml': HELLO } }))
    await s.run(['down', '-y', 'gha-1234567890-1-train'])
    const post = await runPost(withSky(s, { runnerTemp: main.runnerTemp, state: main.state }))
    expect(post.code).toBe(0)
    expect(s.ledger().clusters).toEqual([])
  })

  it('SKYPILOT_SKIP_TEARDOWN=true turns teardown off and warns', async () => {
    const s = fake()
    const main = await runMain(withSky(s, { inputs: { 'task-yaml': HELLO } }))
    const post = await runPost(withSky(s, { runnerTemp: main.runnerTemp, state: main.state, env: { SKYPILOT_SKIP_TEARDOWN: 'true' } }))
    expect(post.code).toBe(0)
    expect(callsOf(s, 'down')).toHaveLength(0)
    expect(annotations(post.stdout, 'warning').join('\n')).toMatch(/SKYPILOT_SKIP_TEARDOWN.*sky down -y gha-1234567890-1-train/)
  })

  it('kubeconfig: written 0600 under RUNNER_TEMP, exported as KUBECONFIG before sky runs, removed by post', async () => {
    const s = fake()
    const kubeconfig = 'apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: kube-secret-token-123\n'
    const main = await runMain(withSky(s, { inputs: { 'task-yaml': 'resources:\n  infra: k8s\nrun: echo "kubeconfig at $KUBECONFIG"\n', kubeconfig } }))
    expect(main.code).toBe(0)
    const file = main.exportedEnv.KUBECONFIG!
    expect(file.startsWith(main.runnerTemp)).toBe(true)
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    expect(fs.readFileSync(file, 'utf8')).toBe(kubeconfig)
    expect(everythingVisible(main)).not.toContain('kube-secret-token-123')
    const post = await runPost(withSky(s, { runnerTemp: main.runnerTemp, state: main.state }))
    expect(post.code).toBe(0)
    expect(fs.existsSync(file)).toBe(false)
  })

  it('dry-run validates and prints the plan without any sky call', async () => {
    const s = fake()
    const main = await runMain(withSky(s, { inputs: { task: 'examples/train.yaml', envs: 'DATA_BUCKET_NAME=b', 'dry-run': 'true', secrets: 'WANDB_API_KEY=wandb-secret-xyz' } }))
    expect(main.code).toBe(0)
    expect(main.outputs.status).toBe('DRY_RUN')
    expect(main.stdout).toMatch(/sky launch -y -c gha-1234567890-1-train --down -i 10 --env DATA_BUCKET_NAME=b --secret WANDB_API_KEY /)
    expect(main.stdout).toMatch(/sky down -y gha-1234567890-1-train/)
    expect(main.summary).toContain('Plan (dry run)')
    expect(everythingVisible(main)).not.toContain('wandb-secret-xyz')
    expect(s.calls()).toEqual([])
  })
})

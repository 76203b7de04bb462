// The templates that bring results back into the workflow: job outputs between pipeline stages,
// the matrix sweep's saved cells ranked by `mode: report`, the pull-request evaluation and the Slack
// notification. Their scripts run here as the runner runs them, and the action's own report code
// reads what they write, so a template and the action cannot drift apart.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { readRunnerContext } from '../../src/context.js'
import { INPUT_NAMES, parseInputs, type RawInputs } from '../../src/inputs.js'
import { runReport } from '../../src/run/report.js'
import {
  ROOT,
  type Job,
  type Step,
  type Workflow,
  filterPatternMatches,
  interpolate,
  isActionRef,
  loadWorkflowFiles,
  needsOf,
  onEvents,
  steps
} from './lib.js'

const files = loadWorkflowFiles()
const byName = (rel: string): Workflow => {
  const f = files.find((x) => x.rel === rel)
  if (!f) throw new Error(`missing ${rel}`)
  return f.doc
}
const actionSteps = (job: Job) => steps(job).filter((s) => isActionRef(s.uses))
const declaredOutputs = (step: Step | undefined) => String(step?.with?.['job-outputs'] ?? '').split(/[\s,]+/).filter(Boolean)
const taskEnvs = (rel: string) => (parseYaml(fs.readFileSync(path.join(ROOT, rel), 'utf8')) as { envs?: Record<string, unknown> }).envs ?? {}

/** What an example task prints as `skypilot-output NAME=...` (the names, from its YAML text). */
function printedOutputs(rel: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, rel), 'utf8')
  return [...new Set([...text.matchAll(/skypilot-output ([A-Za-z_][\w-]*)=/g)].map((m) => m[1]!))]
}

interface ScriptRun {
  code: number | null
  stdout: string
  stderr: string
  /** GITHUB_OUTPUT, `name=value` lines and `name<<DELIMITER` blocks. */
  outputs: Record<string, string>
}

/** A step's `run:` as the runner runs it on Linux: `bash --noprofile --norc -eo pipefail`. */
function runScript(script: string, cwd: string, env: Record<string, string>): ScriptRun {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpl-step-'))
  try {
    const file = path.join(dir, 'step.sh')
    const outputFile = path.join(dir, 'output')
    fs.writeFileSync(file, script)
    fs.writeFileSync(outputFile, '')
    const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', file], {
      cwd,
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin', HOME: dir, RUNNER_TEMP: dir, GITHUB_OUTPUT: outputFile, ...env },
      timeout: 60_000
    })
    const outputs: Record<string, string> = {}
    const lines = fs.readFileSync(outputFile, 'utf8').split('\n')
    for (let i = 0; i < lines.length; i++) {
      const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i]!)
      if (heredoc) {
        const end = lines.indexOf(heredoc[2]!, i + 1)
        outputs[heredoc[1]!] = lines.slice(i + 1, end).join('\n')
        i = end
      } else if (lines[i]!.includes('=')) outputs[lines[i]!.slice(0, lines[i]!.indexOf('='))] = lines[i]!.slice(lines[i]!.indexOf('=') + 1)
    }
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, outputs }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** `${{ }}` in a step's `env:` resolved against the given contexts. */
function stepEnv(step: Step, contexts: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries<string>(step.env ?? {}).map(([k, v]) => [k, interpolate(String(v), contexts)]))
}

// ---------------------------------------------------------------------------------------------

describe('training pipelines pass the model path through job outputs', () => {
  test.each(['templates/training-pipeline.yml', 'templates/training-pipeline-reuse.yml'])('%s', (rel) => {
    const wf = byName(rel)
    const [train] = actionSteps(wf.jobs.train!)
    expect(train?.with?.task).toBe('examples/train.yaml')
    // The task prints it, the step declares it, the job maps it from the step.
    expect(printedOutputs('examples/train.yaml')).toContain('model_path')
    expect(declaredOutputs(train)).toContain('model_path')
    expect(wf.jobs.train!.outputs?.model_path).toBe(`\${{ steps.${train!.id}.outputs.model_path }}`)
    // The eval stage needs train and gets the path in the env its task reads.
    expect(needsOf(wf.jobs.eval!)).toContain('train')
    const [evalStep] = actionSteps(wf.jobs.eval!)
    expect(evalStep?.with?.task).toBe('examples/eval.yaml')
    expect(taskEnvs('examples/eval.yaml')).toHaveProperty('MODEL_PATH')
    const envs = parseYaml(interpolate(String(evalStep?.with?.envs), { needs: { train: { outputs: { model_path: '/data/model/x "y"\nZ: 1/model.json' } }, bucket: { outputs: { name: 'b' } }, names: { outputs: { bucket: 'b' } } }, inputs: { 'bucket-store-type': 's3' } })) as Record<string, string>
    // JSON-quoted: whatever the path holds stays one value and adds no env.
    expect(envs.MODEL_PATH).toBe('/data/model/x "y"\nZ: 1/model.json')
    expect(Object.keys(envs).sort()).toEqual(['DATA_BUCKET_NAME', 'DATA_BUCKET_STORE_TYPE', 'MODEL_PATH'])
    // No stage spells out where another stage put the model.
    expect(fs.readFileSync(path.join(ROOT, rel), 'utf8')).not.toMatch(/model\/default|model\.json/)
  })
})

describe('the matrix sweep saves its cells and ranks them with mode: report', () => {
  const wf = byName('templates/hyperparameter-sweep.yml')
  const cell = wf.jobs.sweep!
  const fanIn = wf.jobs.summary!
  const [train] = actionSteps(cell)
  const save = steps(cell).find((s) => s.name === "Save the cell's result")!
  const upload = steps(cell).find((s) => s.uses?.startsWith('actions/upload-artifact@'))!
  const download = steps(fanIn).find((s) => s.uses?.startsWith('actions/download-artifact@'))!
  const report = actionSteps(fanIn)[0]!

  test('each cell declares what the task prints; the fan-in ranks by one of those names', () => {
    expect(declaredOutputs(train)).toEqual(expect.arrayContaining(printedOutputs('examples/train.yaml')))
    expect(report.with).toMatchObject({ mode: 'report', 'results-path': 'sweep-results/*.json', 'rank-by': 'val_loss' })
    expect(declaredOutputs(train)).toContain('val_loss')
    expect(save.if).toMatch(/always\(\)/)
    expect(upload.with?.path).toBe('sweep-results/')
    expect(download.with).toMatchObject({ path: 'sweep-results', 'merge-multiple': true })
    expect(fanIn.outputs?.best).toBe('${{ steps.report.outputs.best }}')
  })

  describe('three cells run the save script, then the fan-in reads what they wrote', () => {
    let ws: string
    let log: string
    beforeEach(() => {
      ws = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-ws-'))
      // The runner creates the file-command files before a step; the toolkit writes to existing ones.
      for (const [name, file] of [['GITHUB_OUTPUT', `${ws}.out`], ['GITHUB_STEP_SUMMARY', `${ws}.md`]] as const) {
        fs.writeFileSync(file, '')
        vi.stubEnv(name, file)
      }
      log = ''
      vi.spyOn(process.stdout, 'write').mockImplementation((c) => {
        log += String(c)
        return true
      })
    })
    afterEach(() => {
      vi.restoreAllMocks()
      vi.unstubAllEnvs()
      for (const p of [ws, `${ws}.out`, `${ws}.md`]) fs.rmSync(p, { recursive: true, force: true })
    })

    const cells = [
      { lr: '0.01', bs: '32', train: { status: 'SUCCEEDED', 'cluster-name': 'gha-1-lr0.01-bs32', 'job-id': '1', 'job-outputs': '{"val_loss":"0.0123","train_loss":"0.02","model_path":"/data/model/lr0.01-bs32/model.json"}', 'cost-usd': '0.4123' } },
      { lr: '0.1', bs: '32', train: { status: 'SUCCEEDED', 'cluster-name': 'gha-1-lr0.1-bs32', 'job-id': '1', 'job-outputs': '{"val_loss":"0.0042","train_loss":"0.01","model_path":"/data/model/lr0.1-bs32/model.json"}', 'cost-usd': '' } },
      // The action never ran (an earlier step failed): no outputs at all.
      { lr: '1', bs: '32', train: {} as Record<string, string> }
    ]

    test('leaderboard, best cell, and the failed cell listed last', async () => {
      for (const c of cells) {
        const env = stepEnv(save, { matrix: { 'learning-rate': c.lr, 'batch-size': c.bs }, steps: { train: { outputs: c.train } } })
        const r = runScript(save.run!, ws, env)
        expect(r.code, r.stderr).toBe(0)
        // Nothing from the job's log is echoed into the step's log.
        expect(r.stdout).toBe('')
      }
      // download-artifact with merge-multiple puts every cell's folder content in one place.
      expect(fs.readdirSync(path.join(ws, 'sweep-results')).sort()).toEqual(['lr0.01-bs32.json', 'lr0.1-bs32.json', 'lr1-bs32.json'])

      const raw = {} as RawInputs
      for (const name of INPUT_NAMES) raw[name] = ''
      for (const [k, v] of Object.entries(report.with!)) raw[k as keyof RawInputs] = String(v)
      await runReport(parseInputs(raw, {}), { ...readRunnerContext({}), workspace: ws })

      const outputs = fs.readFileSync(`${ws}.out`, 'utf8')
      const value = (name: string) => new RegExp(`^${name}<<(\\S+)\\n([\\s\\S]*?)\\n\\1$`, 'm').exec(outputs)?.[2]
      expect(JSON.parse(value('best')!)).toMatchObject({ name: 'lr0.1-bs32', rank: 1, outputs: { model_path: '/data/model/lr0.1-bs32/model.json' } })
      expect(JSON.parse(value('results')!).map((e: { name: string; status: string; rank?: number }) => [e.name, e.status, e.rank])).toEqual([
        ['lr0.1-bs32', 'SUCCEEDED', 1],
        ['lr0.01-bs32', 'SUCCEEDED', 2],
        ['lr1-bs32', 'NOT_STARTED', undefined]
      ])
      const summary = fs.readFileSync(`${ws}.md`, 'utf8')
      expect(summary).toContain('| 🥇 1 | lr0.1-bs32 | 0.0042 |')
      expect(summary).toContain('| – | lr1-bs32 | (not ranked: did not succeed (NOT\\_STARTED)) |')
      expect(summary).toContain('x-axis ["1: lr0.1-bs32", "2: lr0.01-bs32"]')
      expect(log).toContain('Best by val_loss (lowest first): lr0.1-bs32 (0.0042).')
    })

    test('the fan-in in a dry run says what it would read', async () => {
      const raw = {} as RawInputs
      for (const name of INPUT_NAMES) raw[name] = ''
      for (const [k, v] of Object.entries(report.with!)) raw[k as keyof RawInputs] = String(v)
      raw['dry-run'] = 'true'
      await runReport(parseInputs(raw, {}), { ...readRunnerContext({}), workspace: ws })
      expect(fs.readFileSync(`${ws}.out`, 'utf8')).toMatch(/^status<<\S+\nDRY_RUN\n/)
    })
  })
})

describe('the fan-out sweep ranks its cells', () => {
  test('rank-by names a declared output the task prints', () => {
    const wf = byName('templates/fan-out-sweep.yml')
    const sweep = actionSteps(wf.jobs.sweep!).find((s) => s.with?.tasks)!
    const rankBy = String(sweep.with?.['rank-by']).split(' ')[0]!
    expect(declaredOutputs(sweep)).toContain(rankBy)
    expect(printedOutputs('examples/train.yaml')).toContain(rankBy)
  })
})

describe('pull-request evaluation', () => {
  const wf = byName('templates/pr-evaluation.yml')
  const job = wf.jobs.evaluate!
  const [step] = actionSteps(job)

  test('runs on pull requests that touch the tasks it runs, with the least permissions it needs', () => {
    const on = onEvents(wf)
    expect(Object.keys(on)).toEqual(['pull_request'])
    const paths: string[] = on.pull_request.paths
    const tasks = parseYaml(String(step?.with?.tasks)) as { task: string }[]
    expect(tasks.length).toBeGreaterThan(0)
    for (const t of tasks) expect(paths.some((p) => filterPatternMatches(p, t.task)), t.task).toBe(true)
    expect(paths.some((p) => filterPatternMatches(p, 'configs/model/small.yaml'))).toBe(true)
    expect(paths.some((p) => filterPatternMatches(p, 'README.md'))).toBe(false)
    expect(wf.permissions).toEqual({ contents: 'read', 'pull-requests': 'write' })
  })

  test('comments on the pull request with the declared metrics, ranked', () => {
    expect(step?.with?.['comment-on-pr']).toBe(true)
    const tasks = parseYaml(String(step?.with?.tasks)) as { task: string }[]
    for (const t of tasks) expect(declaredOutputs(step)).toEqual(expect.arrayContaining(printedOutputs(t.task)))
    expect(declaredOutputs(step)).toContain(step?.with?.['rank-by'])
    expect(step?.with?.['github-token']).toBeUndefined()
  })

  test('a fork\'s pull request (no secrets, read-only token) does not run it', () => {
    expect(job.if).toBe('github.event.pull_request.head.repo.full_name == github.repository')
  })
})

describe('Slack notification', () => {
  const wf = byName('templates/slack-notify.yml')
  const notify = wf.jobs.notify!
  const message = steps(notify).find((s) => s.id === 'message')!
  const slack = steps(notify).find((s) => s.uses?.startsWith('slackapi/slack-github-action@'))!

  test('a job that needs the launch and always runs, webhook from a secret', () => {
    expect(needsOf(notify)).toEqual(['train'])
    expect(notify.if).toBe('always()')
    expect(slack.with).toMatchObject({ webhook: '${{ secrets.SLACK_WEBHOOK_URL }}', 'webhook-type': 'incoming-webhook' })
    // The launch job hands over what the message shows, from the action's outputs.
    const [launch] = actionSteps(wf.jobs.train!)
    for (const out of ['status', 'job-outputs', 'cost-usd', 'dashboard-url']) {
      expect(wf.jobs.train!.outputs?.[out]).toBe(`\${{ steps.${launch!.id}.outputs.${out} }}`)
      expect(JSON.stringify(message.env)).toContain(`needs.train.outputs.${out}`)
    }
  })

  const contexts = (train: Record<string, string>, result = 'success') => ({
    needs: { train: { outputs: train, result } },
    github: { server_url: 'https://github.com', repository: 'octo/ml', run_id: '42', ref_name: 'main' }
  })

  /** The message script's text, then the payload Slack gets, parsed as the action parses it. */
  function send(train: Record<string, string>, result?: string) {
    const r = runScript(message.run!, os.tmpdir(), stepEnv(message, contexts(train, result)))
    expect(r.code, r.stderr).toBe(0)
    const payload = parseYaml(interpolate(String(slack.with?.payload), { steps: { message: { outputs: r.outputs } } })) as { text: string; blocks: { text: { text: string } }[] }
    expect(payload.blocks[0]!.text.text).toBe(payload.text)
    return payload.text
  }

  test('status, results, cost and links', () => {
    const text = send({
      status: 'SUCCEEDED',
      'job-outputs': '{"val_loss":"0.0042","model_path":"/data/model/main-42/model.json"}',
      'cost-usd': '0.4123',
      'dashboard-url': 'https://sky.example.com/dashboard/clusters/gha-42'
    })
    expect(text.split('\n')).toEqual([
      ':white_check_mark: *SkyPilot training* on `octo/ml@main`: *SUCCEEDED*',
      '• val_loss: `0.0042`',
      '• model_path: `/data/model/main-42/model.json`',
      "• cost (SkyPilot's estimate): $0.41",
      '<https://github.com/octo/ml/actions/runs/42|run> · <https://sky.example.com/dashboard/clusters/gha-42|SkyPilot dashboard>'
    ])
  })

  test('values from the job cannot ping the channel, add links or break the payload', () => {
    const text = send({ status: 'FAILED', 'job-outputs': JSON.stringify({ note: '<!channel> "quoted"\nline: two & <http://evil|click>' }) })
    expect(text).toContain('• note: `&lt;!channel&gt; "quoted"\nline: two &amp; &lt;http://evil|click&gt;`')
    expect(text).not.toMatch(/<!channel>|<http:\/\/evil/)
  })

  test('a launch job that failed before the action reported says so', () => {
    expect(send({}, 'cancelled').split('\n')[0]).toBe(':x: *SkyPilot training* on `octo/ml@main`: *not reported (job cancelled)*')
  })
})

// ---------------------------------------------------------------------------------------------
// The example tasks print their metrics as job outputs, in the form the action reads.

/** Runs a task's setup and run locally, each line prefixed as SkyPilot's Ray driver prints it. */
async function runTask(rel: string, cwd: string, envs: Record<string, string> = {}) {
  const { MarkerReader } = await import('../../src/results/markers.js')
  const task = parseYaml(fs.readFileSync(path.join(ROOT, rel), 'utf8')) as { envs?: Record<string, string | null>; setup?: string; run: string }
  const env: Record<string, string> = { PATH: '/usr/bin:/bin', HOME: cwd }
  for (const [k, v] of Object.entries(task.envs ?? {})) env[k] = v ?? `${k.toLowerCase()}-value`
  Object.assign(env, envs)
  const names = printedOutputs(rel)
  const reader = new MarkerReader({ declared: names })
  for (const [phase, script] of [['setup', task.setup], ['run', task.run]] as const) {
    if (!script) continue
    const r = spawnSync('bash', ['-c', script], { cwd, env, encoding: 'utf8', timeout: 60_000 })
    expect(r.status, `${rel} ${phase}: ${r.stderr}`).toBe(0)
    const prefix = phase === 'setup' ? '\u001b[36m(setup pid=4242)\u001b[0m ' : `\u001b[36m(task, pid=4343)\u001b[0m `
    reader.push(r.stdout.split('\n').filter(Boolean).map((l) => `${prefix}${l}\n`).join(''))
  }
  reader.end()
  return { names, outputs: reader.outputs }
}

describe.skipIf(fs.existsSync('/data'))('example tasks, run locally', () => {
  let cwd: string
  beforeEach(() => {
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'example-'))
  })
  afterEach(() => fs.rmSync(cwd, { recursive: true, force: true }))

  const number = expect.stringMatching(/^-?\d+(\.\d+)?(e-?\d+)?$/)
  test.each([
    ['examples/data_preprocessing.yaml', { num_samples: '1000', dataset_path: expect.stringMatching(/\/data\/dataset$/) }],
    ['examples/experiment1.yaml', { mse: number }],
    ['examples/experiment2.yaml', { mse: number }],
    ['examples/finetune_gpu.yaml', { loss: number, device: expect.any(String) }],
    ['examples/kubernetes_task.yaml', { in_kubernetes: 'false' }],
    ['examples/train_cpu.yaml', { loss: number, metrics_path: expect.stringMatching(/metrics\.json$/) }],
    ['examples/train_gpu.yaml', { loss: number, device: 'none', metrics_path: expect.stringMatching(/metrics\.json$/) }],
    ['examples/train.yaml', { train_loss: number, val_loss: number, model_path: expect.stringMatching(/\/model\/default\/model\.json$/) }]
  ])('%s prints its metrics as job outputs', async (rel, expected) => {
    const { outputs } = await runTask(rel, cwd)
    expect(outputs).toEqual(expected)
  })

  test('train hands eval its model through model_path, as the pipelines pass it', async () => {
    const train = await runTask('examples/train.yaml', cwd, { RUN_TAG: 'lr0.01' })
    expect(fs.existsSync(train.outputs.model_path!)).toBe(true)
    // Eval on "another cluster": another folder, the model only through MODEL_PATH.
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'example-eval-'))
    try {
      const evaluated = await runTask('examples/eval.yaml', other, { MODEL_PATH: train.outputs.model_path! })
      expect(evaluated.outputs).toEqual({ mse: number, passed: 'true' })
    } finally {
      fs.rmSync(other, { recursive: true, force: true })
    }
  })
})

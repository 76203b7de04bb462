// Every example task, and every use of the action in the templates, run through the action's own
// validation: the built bundle (dist/main/index.js) in dry-run mode, the way the runner runs it,
// with the inputs each template passes (its `${{ }}` expressions resolved to plausible values).
// Skipped until the harness test/helpers/runner.ts and the bundle exist.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { data } from '@actions/expressions'
import {
  ROOT,
  type Job,
  type Step,
  type Workflow,
  actionOutputs,
  defaultInputs,
  evaluate,
  exampleTasks,
  firstMatrixCell,
  interpolate,
  isActionRef,
  loadWorkflowFiles,
  steps
} from './lib.js'

const HARNESS = join(ROOT, 'test/helpers/runner.ts')
const BUNDLE = join(ROOT, 'dist/main/index.js')
const ready = existsSync(HARNESS) && existsSync(BUNDLE)

interface RunResult {
  code: number | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  state: Record<string, string>
  summary: string
}
type RunMain = (opts: { inputs: Record<string, string>; env?: Record<string, string>; workspace?: string }) => Promise<RunResult>

async function runMain(inputs: Record<string, string>): Promise<RunResult> {
  const mod = (await import(/* @vite-ignore */ HARNESS)) as { runMain: RunMain }
  return mod.runMain({ inputs: { ...inputs, 'dry-run': 'true' }, workspace: ROOT })
}

const explain = (r: RunResult) => `exit ${r.code}\n--- stdout\n${r.stdout.slice(-3000)}\n--- stderr\n${r.stderr.slice(-3000)}`

// ---------------------------------------------------------------------------------------------
// Plausible values for the contexts a template's `with:` reads.

const BUCKET = 'gha-data-1-12345678901-1'
const GRID_TASKS = JSON.stringify([
  { name: 'lr0.01-bs32', task: 'examples/train.yaml', envs: { LEARNING_RATE: '0.01', BATCH_SIZE: '32', DATA_BUCKET_NAME: BUCKET } },
  { name: 'lr0.1-bs64', task: 'examples/train.yaml', envs: { LEARNING_RATE: '0.1', BATCH_SIZE: '64', DATA_BUCKET_NAME: BUCKET } }
])

/** A value for `needs.X.outputs.Y` / `steps.X.outputs.Y`, by what the name says it holds. */
function plausibleOutput(name: string): string {
  if (name === 'tasks') return GRID_TASKS
  if (name === 'matrix') return JSON.stringify([{ name: 'exp1', task: 'examples/experiment1.yaml', envs: '' }])
  if (name === 'jobs') return '["42"]'
  if (name === 'job-id') return '42'
  if (name === 'status') return 'SUCCEEDED'
  if (/cluster/.test(name)) return 'gha-pipe-12345678901-1'
  return BUCKET
}

/** The first cell of the job's matrix, dynamic parts (`fromJSON(needs...)`) evaluated. */
function matrixCell(job: Job, ctx: Record<string, unknown>): Record<string, unknown> {
  const matrix = job.strategy?.matrix
  if (!matrix) return {}
  const resolved: Record<string, unknown> = {}
  for (const [k, v] of Object.entries<unknown>(typeof matrix === 'string' ? { include: matrix } : matrix)) {
    const m = typeof v === 'string' ? /^\$\{\{([\s\S]*)\}\}$/.exec(v.trim()) : null
    resolved[k] = m ? JSON.parse(JSON.stringify(evaluate(m[1]!.trim(), ctx), data.replacer)) : v
  }
  return firstMatrixCell({ strategy: { matrix: resolved } })
}

function contextsFor(doc: Workflow, job: Job, step: Step): Record<string, unknown> {
  const text = JSON.stringify([step.with ?? {}, job.strategy ?? {}])
  const needs: Record<string, { outputs: Record<string, string>; result: string }> = {}
  const stepsCtx: Record<string, { outputs: Record<string, string> }> = {}
  for (const m of text.matchAll(/needs\.([\w-]+)\.outputs\.([\w-]+)/g)) {
    ;(needs[m[1]!] ??= { outputs: {}, result: 'success' }).outputs[m[2]!] = plausibleOutput(m[2]!)
  }
  for (const m of text.matchAll(/steps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
    ;(stepsCtx[m[1]!] ??= { outputs: {} }).outputs[m[2]!] = plausibleOutput(m[2]!)
  }
  const ctx: Record<string, unknown> = {
    inputs: defaultInputs(doc),
    vars: { SKYPILOT_API_SERVER_ENDPOINT: 'https://skypilot.example.com', DATA_BUCKET_NAME: 'my-team-datasets' },
    secrets: {
      SKYPILOT_SERVICE_ACCOUNT_TOKEN: 'sky_dryrun0000000000000000',
      KUBECONFIG: 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n',
      HF_TOKEN: 'hf_dryrun'
    },
    github: {
      run_id: '12345678901',
      run_attempt: '1',
      repository: 'octo/ml',
      repository_id: '1',
      event_name: 'workflow_dispatch',
      ref: 'refs/heads/main',
      sha: '0123456789abcdef0123456789abcdef01234567',
      token: ''
    },
    strategy: { 'job-index': 0, 'job-total': 1, 'fail-fast': false, 'max-parallel': 1 },
    needs,
    steps: stepsCtx,
    env: {},
    runner: { os: 'Linux', arch: 'X64', temp: '/tmp' },
    job: {}
  }
  ctx.matrix = matrixCell(job, ctx)
  return ctx
}

function resolveWith(doc: Workflow, job: Job, step: Step): Record<string, string> {
  const ctx = contextsFor(doc, job, step)
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(step.with ?? {})) out[k] = interpolate(String(v), ctx)
  return out
}

// ---------------------------------------------------------------------------------------------

/** Env overrides an example needs to validate: every env declared null (required). */
function requiredEnvs(rel: string): string {
  const task = parseYaml(readFileSync(join(ROOT, rel), 'utf8')) as { envs?: Record<string, unknown> }
  return Object.entries(task.envs ?? {})
    .filter(([, v]) => v === null)
    .map(([k]) => `${k}=${k === 'DATA_BUCKET_NAME' ? BUCKET : 'x'}`)
    .join('\n')
}

describe.skipIf(!ready)('dry-run of every example task', () => {
  test.each(exampleTasks())('%s', async (rel) => {
    const r = await runMain({ task: rel, envs: requiredEnvs(rel) })
    expect(r.code, explain(r)).toBe(0)
    expect(r.outputs.status, explain(r)).toBe('DRY_RUN')
  })

  test('a required env left out fails validation', async () => {
    const r = await runMain({ task: 'examples/train.yaml' })
    expect(r.code).not.toBe(0)
    expect(r.stdout + r.stderr).toMatch(/DATA_BUCKET_NAME/)
  })
})

const templateSteps = loadWorkflowFiles().flatMap((file) =>
  Object.entries(file.doc.jobs).flatMap(([jobId, job]) =>
    steps(job)
      .map((step, i) => ({ step, i }))
      .filter(({ step }) => isActionRef(step.uses))
      // The reusable workflow only forwards its caller's inputs: nothing to resolve offline.
      .filter(() => !file.rel.endsWith('skypilot-task.yml') && !file.rel.endsWith('dry-run.yml'))
      .map(({ step, i }) => ({ label: `${file.rel} ${jobId}[${i}]`, doc: file.doc, job, step }))
  )
)

describe.skipIf(!ready)('dry-run of every use of the action in the templates', () => {
  test('the templates use the action', () => {
    expect(templateSteps.length).toBeGreaterThan(15)
  })

  test.each(templateSteps.map((t) => [t.label, t] as const))('%s', async (_label, t) => {
    const inputs = resolveWith(t.doc, t.job, t.step)
    const r = await runMain(inputs)
    expect(r.code, `${JSON.stringify(inputs, null, 2)}\n${explain(r)}`).toBe(0)
    expect(r.outputs.status, explain(r)).toBe('DRY_RUN')
    for (const name of Object.keys(r.outputs)) expect(actionOutputs()).toContain(name)
  })
})

test('expressions in with: resolve to plausible literals', () => {
  const pipeline = loadWorkflowFiles().find((f) => f.rel === 'templates/training-pipeline.yml')!
  const job = pipeline.doc.jobs.train!
  const step = steps(job).find((s) => isActionRef(s.uses))!
  const inputs = resolveWith(pipeline.doc, job, step)
  expect(inputs.task).toBe('examples/train.yaml')
  expect(parseYaml(inputs.envs!)).toEqual({
    DATA_BUCKET_NAME: BUCKET,
    DATA_BUCKET_STORE_TYPE: 's3',
    EPOCHS: '3',
    LEARNING_RATE: '0.01'
  })
  const sweep = loadWorkflowFiles().find((f) => f.rel === 'templates/hyperparameter-sweep.yml')!
  const cell = sweep.doc.jobs.sweep!
  const resolved = resolveWith(sweep.doc, cell, steps(cell).find((s) => isActionRef(s.uses))!)
  expect(resolved['cluster-name']).toBe('gha-12345678901-lr0.001-bs32')
})

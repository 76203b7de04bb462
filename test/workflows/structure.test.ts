// Conventions every workflow and template must keep, and what each template promises.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import {
  MAX_LAUNCH_TIMEOUT,
  ROOT,
  type Job,
  type Workflow,
  evaluate,
  isActionRef,
  isReusableCall,
  launches,
  loadWorkflowFiles,
  needsOf,
  onEvents,
  reusableWorkflow,
  runScriptViolations,
  shaPinProblems,
  steps,
  usesLines
} from './lib.js'
import { parse as parseYaml } from 'yaml'

const files = loadWorkflowFiles()
const templates = files.filter((f) => f.kind === 'template')
const byName = (rel: string): Workflow => {
  const f = files.find((x) => x.rel === rel)
  if (!f) throw new Error(`missing ${rel}`)
  return f.doc
}
const actionSteps = (job: Job) => steps(job).filter((s) => isActionRef(s.uses))
const CLUSTER_NAME = /^[a-zA-Z]([-_.a-zA-Z0-9]*[a-zA-Z0-9])?$/
/** The project's own CI and release (not the reusable workflow users call). */
const OWN_WORKFLOWS = ['.github/workflows/ci.yml', '.github/workflows/check-dist.yml', '.github/workflows/dry-run.yml', '.github/workflows/release.yml']

/** Timeout of a job in minutes; an expression is resolved from the workflow's input defaults. */
function timeoutOf(job: Job, doc: Workflow): number | undefined {
  const t = job['timeout-minutes']
  if (typeof t === 'number') return t
  if (typeof t === 'string') {
    const m = /^\$\{\{\s*inputs\.([\w-]+)\s*\}\}$/.exec(t)
    const input = m?.[1] ? onEvents(doc).workflow_call?.inputs?.[m[1]] : undefined
    if (input && typeof input.default === 'number') return input.default
  }
  return undefined
}

describe.each(files.map((f) => [f.rel, f] as const))('%s', (_rel, file) => {
  const jobs = Object.entries(file.doc.jobs)

  test('declares minimal permissions at the top', () => {
    expect(file.doc.permissions).toBeTypeOf('object')
    expect(file.doc.permissions).not.toHaveProperty('contents', 'write')
  })

  test('every job that launches has a timeout below 360 minutes', () => {
    for (const [id, job] of jobs) {
      if (!launches(job)) continue
      if (isReusableCall(job.uses)) {
        // A caller cannot set timeout-minutes: the reusable workflow's own jobs must.
        const called = reusableWorkflow()
        for (const [cid, cjob] of Object.entries(called.jobs)) {
          expect(timeoutOf(cjob, called), `reusable job ${cid}`).toBeLessThanOrEqual(MAX_LAUNCH_TIMEOUT)
        }
        continue
      }
      const t = timeoutOf(job, file.doc)
      expect(t, `job ${id} timeout-minutes`).toBeDefined()
      expect(t!, `job ${id}`).toBeLessThanOrEqual(MAX_LAUNCH_TIMEOUT)
    }
  })

  test('no input, event, matrix or job-output expression inside a run: script', () => {
    expect(runScriptViolations(file.doc)).toEqual([])
  })

  test('secrets only reach the steps that need them (never workflow- or job-level env)', () => {
    expect(JSON.stringify(file.doc.env ?? {})).not.toMatch(/secrets\./)
    for (const [id, job] of jobs) {
      expect(JSON.stringify(job.env ?? {}), `job ${id} env`).not.toMatch(/secrets\./)
      for (const step of steps(job)) {
        if (typeof step.run === 'string') expect(step.run).not.toMatch(/secrets\./)
      }
    }
  })

  test('actions are pinned (the project\'s own workflows by commit SHA with a version comment; what users copy by major version or SHA); checkout keeps no credentials', () => {
    // The project's own CI and release run with write tokens on every push: a moved tag must not
    // change what they run. Templates and the reusable workflow are copied into users' repositories,
    // where @vN (kept current by their Dependabot) is what they are expected to edit.
    if (OWN_WORKFLOWS.includes(file.rel)) expect(shaPinProblems(usesLines(file.text))).toEqual([])
    for (const [, job] of jobs) {
      for (const step of steps(job)) {
        if (!step.uses || step.uses.startsWith('./')) continue
        expect(step.uses).toMatch(/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@(v\d+|[0-9a-f]{40})$/)
        if (step.uses.startsWith('actions/checkout@')) {
          expect(step.with?.['persist-credentials'], 'checkout persist-credentials').toBe(false)
        }
      }
    }
  })

  test('the action is referenced the way this file is meant to be used', () => {
    for (const [, job] of jobs) {
      for (const step of actionSteps(job)) {
        if (file.kind === 'template' || file.rel.endsWith('skypilot-task.yml')) {
          expect(step.uses).toBe('skypilot-org/skypilot-action@v1')
        } else {
          expect(step.uses).toBe('./')
        }
      }
      if (job.uses && file.kind === 'template') {
        expect(job.uses).toBe('skypilot-org/skypilot-action/.github/workflows/skypilot-task.yml@v1')
      }
    }
  })
})

describe.each(templates.map((f) => [f.rel, f] as const))('%s properties', (rel) => {
  test('has a properties file with name, description and categories', () => {
    const props = join(ROOT, rel.replace(/\.ya?ml$/, '.properties.json'))
    expect(existsSync(props), props).toBe(true)
    const p = JSON.parse(readFileSync(props, 'utf8')) as Record<string, unknown>
    expect(p.name).toBeTypeOf('string')
    expect(p.description).toBeTypeOf('string')
    expect(Array.isArray(p.categories) && p.categories.length > 0).toBe(true)
  })

  test('starts with a comment saying what it does and what to set up', () => {
    const text = readFileSync(join(ROOT, rel), 'utf8')
    expect(text.startsWith('#')).toBe(true)
    expect(text).toMatch(/Setup:/)
  })
})

describe('reusable workflow', () => {
  const wf = reusableWorkflow()
  const call = onEvents(wf).workflow_call

  test('is workflow_call with typed inputs, secrets and outputs', () => {
    expect(call).toBeTruthy()
    for (const name of [
      'task', 'base-path', 'git-ref', 'task-yaml', 'envs', 'infra', 'gpus', 'num-nodes', 'use-spot', 'cpus',
      'memory', 'disk-size', 'down', 'idle-minutes-to-autostop', 'skypilot-version', 'cluster-prefix',
      'cluster-name', 'api-server-endpoint', 'retries', 'mode', 'detach', 'timeout-minutes'
    ]) {
      expect(call.inputs, name).toHaveProperty(name)
      expect(['string', 'number', 'boolean']).toContain(call.inputs[name].type)
    }
    expect(call.inputs['timeout-minutes']).toMatchObject({ type: 'number', default: 330 })
    expect(Object.keys(call.secrets).sort()).toEqual(['kubeconfig', 'service-account-token', 'task-secrets'])
    for (const out of ['cluster-name', 'job-id', 'status']) expect(call.outputs).toHaveProperty(out)
  })

  test('only reads contents and checks out without credentials first', () => {
    expect(wf.permissions).toEqual({ contents: 'read' })
    for (const job of Object.values(wf.jobs)) {
      expect(steps(job)[0]?.uses).toBe('actions/checkout@v4')
    }
  })

  test('maps its outputs from a job that sets them from the action', () => {
    for (const [name, out] of Object.entries<any>(call.outputs)) {
      const m = /jobs\.([\w-]+)\.outputs\.([\w-]+)/.exec(out.value)
      expect(m, name).toBeTruthy()
      const job = wf.jobs[m![1]!]!
      expect(job.outputs?.[m![2]!], name).toMatch(/steps\.sky\.outputs\./)
    }
  })
})

describe('training pipeline', () => {
  const wf = byName('templates/training-pipeline.yml')
  const stages = ['preprocess', 'train', 'eval'] as const
  const tasks = { preprocess: 'data_preprocessing.yaml', train: 'train.yaml', eval: 'eval.yaml' }

  test('stages run in order, after the job that names the bucket', () => {
    expect(needsOf(wf.jobs.preprocess!)).toContain('bucket')
    expect(needsOf(wf.jobs.train!)).toContain('preprocess')
    expect(needsOf(wf.jobs.eval!)).toContain('train')
    expect(wf.jobs.bucket!.outputs?.name).toBeTruthy()
  })

  test.each(stages)('%s gets the bucket, runs its task and tears its cluster down', (stage) => {
    const [step] = actionSteps(wf.jobs[stage]!)
    expect(step?.with?.task).toBe(`examples/${tasks[stage]}`)
    expect(String(step?.with?.envs)).toMatch(/DATA_BUCKET_NAME/)
    expect(String(step?.with?.envs)).toMatch(/DATA_BUCKET_STORE_TYPE/)
    expect(String(step?.with?.envs)).toMatch(/needs\.bucket\.outputs\.name/)
    expect(step?.with?.down ?? true).not.toBe(false)
  })

  test('offers the bucket store type with s3 by default', () => {
    expect(onEvents(wf).workflow_dispatch.inputs['bucket-store-type'].default).toBe('s3')
  })
})

describe('training pipeline on one cluster', () => {
  const wf = byName('templates/training-pipeline-reuse.yml')

  test('provisions once, keeps the cluster with an idle backstop, execs the later stages', () => {
    const [prep] = actionSteps(wf.jobs.preprocess!)
    expect(prep?.with?.down).toBe(false)
    expect(prep?.with?.['idle-minutes-to-autostop']).toBeTruthy()
    for (const stage of ['train', 'eval']) {
      const [step] = actionSteps(wf.jobs[stage]!)
      expect(step?.with?.mode).toBe('exec')
      expect(step?.with?.['cluster-name']).toMatch(/needs\.names\.outputs\.cluster/)
    }
    expect(needsOf(wf.jobs.train!)).toContain('preprocess')
    expect(needsOf(wf.jobs.eval!)).toContain('train')
  })

  test('always tears the cluster down at the end', () => {
    const td = wf.jobs.teardown!
    expect(td.if).toMatch(/always\(\)/)
    expect(needsOf(td)).toEqual(expect.arrayContaining(['preprocess', 'train', 'eval']))
    const [step] = actionSteps(td)
    expect(step?.with?.mode).toBe('down')
    expect(step?.with?.['cluster-name']).toMatch(/needs\.names\.outputs\.cluster/)
  })
})

describe('hyperparameter sweep', () => {
  const wf = byName('templates/hyperparameter-sweep.yml')
  const sweep = wf.jobs.sweep!

  test('keeps going when a cell fails, bounds parallelism from an input', () => {
    expect(sweep.strategy['fail-fast']).toBe(false)
    expect(String(sweep.strategy['max-parallel'])).toMatch(/fromJSON\(inputs\.max-parallel \|\| '4'\)/)
    expect(evaluate("fromJSON(inputs.max-parallel || '4')", { inputs: {} }).number()).toBe(4)
    expect(evaluate("fromJSON(inputs.max-parallel || '4')", { inputs: { 'max-parallel': '2' } }).number()).toBe(2)
  })

  test('names each cell\'s cluster validly within 35 characters', () => {
    const [step] = actionSteps(sweep)
    const template = String(step?.with?.['cluster-name'])
    const m = sweep.strategy.matrix
    for (const lr of m['learning-rate']) {
      for (const bs of m['batch-size']) {
        const name = template.replace(/\$\{\{([\s\S]*?)\}\}/g, (_x, e: string) =>
          evaluate(e.trim(), {
            github: { run_id: '123456789012' },
            matrix: { 'learning-rate': lr, 'batch-size': bs }
          }).coerceString()
        )
        expect(name.length, name).toBeLessThanOrEqual(35)
        expect(name).toMatch(CLUSTER_NAME)
      }
    }
  })

  test('uploads each cell\'s result and fans in to one summary', () => {
    const upload = steps(sweep).find((s) => s.uses?.startsWith('actions/upload-artifact@'))
    expect(upload?.if).toMatch(/always\(\)/)
    const summary = wf.jobs.summary!
    expect(needsOf(summary)).toContain('sweep')
    expect(summary.if).toMatch(/always\(\)/)
    const download = steps(summary).find((s) => s.uses?.startsWith('actions/download-artifact@'))
    expect(download?.with?.['merge-multiple']).toBe(true)
    // The summary is the action's leaderboard (`mode: report`), or a script's own table.
    const report = steps(summary).find((s) => isActionRef(s.uses) && s.with?.mode === 'report')
    expect(report !== undefined || steps(summary).some((s) => /GITHUB_STEP_SUMMARY/.test(s.run ?? ''))).toBe(true)
  })
})

describe('the other templates', () => {
  test('gpu-finetune: inline task, GPU type and count from dispatch inputs via `gpus`', () => {
    const wf = byName('templates/gpu-finetune.yml')
    const inputs = onEvents(wf).workflow_dispatch.inputs
    expect(inputs).toHaveProperty('gpu-type')
    expect(inputs).toHaveProperty('gpu-count')
    const [step] = actionSteps(wf.jobs.finetune!)
    expect(step?.with?.['task-yaml']).toMatch(/accelerators/)
    expect(step?.with?.gpus).toBe('${{ inputs.gpu-type }}:${{ inputs.gpu-count }}')
  })

  test('parallel-experiments: a prepare job feeds a dynamic matrix', () => {
    const wf = byName('templates/parallel-experiments.yml')
    expect(wf.jobs.prepare!.outputs?.matrix).toBeTruthy()
    expect(wf.jobs.experiment!.strategy.matrix.include).toBe('${{ fromJSON(needs.prepare.outputs.matrix) }}')
    expect(needsOf(wf.jobs.experiment!)).toContain('prepare')
  })

  test('scheduled-retraining: daily cron and manual dispatch', () => {
    const on = onEvents(byName('templates/scheduled-retraining.yml'))
    expect(on.schedule).toEqual([{ cron: '0 0 * * *' }])
    expect(on).toHaveProperty('workflow_dispatch')
  })

  test('scheduled-capped-eval: daily cron, both caps on the launch, a job timeout above max-duration', () => {
    const wf = byName('templates/scheduled-capped-eval.yml')
    expect(onEvents(wf).schedule).toEqual([{ cron: '0 3 * * *' }])
    const [step] = actionSteps(wf.jobs.evaluate!)
    expect(step!.with).toMatchObject({ 'max-duration': expect.stringContaining('2h'), 'max-cost-usd': expect.stringContaining('25') })
    expect(wf.jobs.evaluate!['timeout-minutes']).toBeGreaterThan(120)
  })

  test('conditional-dispatch: preprocess first, then GPU or CPU training on a boolean input', () => {
    const wf = byName('templates/conditional-dispatch.yml')
    expect(onEvents(wf).workflow_dispatch.inputs['use-gpu'].type).toBe('boolean')
    expect(needsOf(wf.jobs.train!)).toContain('preprocess')
    const trains = actionSteps(wf.jobs.train!)
    expect(trains.map((s) => s.with?.task).sort()).toEqual(['examples/train_cpu.yaml', 'examples/train_gpu.yaml'])
    expect(trains.every((s) => /inputs\.use-gpu/.test(String(s.if)))).toBe(true)
  })

  test('kubernetes: kubeconfig from a secret, task on Kubernetes', () => {
    const wf = byName('templates/kubernetes.yml')
    const [step] = actionSteps(wf.jobs.k8s!)
    expect(step?.with?.kubeconfig).toMatch(/secrets\.KUBECONFIG/)
    expect(step?.with?.task).toBe('examples/kubernetes_task.yaml')
  })

  test('api-server: endpoint from a variable, token from a secret', () => {
    const wf = byName('templates/api-server.yml')
    const [step] = actionSteps(wf.jobs.run!)
    expect(step?.with?.['api-server-endpoint']).toBe('${{ vars.SKYPILOT_API_SERVER_ENDPOINT }}')
    expect(step?.with?.['service-account-token']).toBe('${{ secrets.SKYPILOT_SERVICE_ACCOUNT_TOKEN }}')
  })

  test('janitor: scheduled, tears down by prefix and age with the action (verified, reported)', () => {
    const wf = byName('templates/janitor.yml')
    const on = onEvents(wf)
    expect(on.schedule?.length).toBeGreaterThan(0)
    expect(on).toHaveProperty('workflow_dispatch')
    const [step] = Object.values(wf.jobs).flatMap((j) => actionSteps(j))
    // mode: down with max-age-hours: sky status, one sky down, verified by sky status, a summary
    // table (the bundle tests check that behaviour; here, that the template asks for it).
    expect(step?.with?.mode).toBe('down')
    expect(String(step?.with?.['max-age-hours'])).toMatch(/max-age-hours/)
    expect(String(step?.with?.['cluster-prefix'])).toMatch(/cluster-prefix/)
    expect(step?.with?.['cluster-name']).toBeUndefined()
  })

  test('detached-launch: submits detached and keeps the job id', () => {
    const wf = byName('templates/detached-launch.yml')
    const [step] = actionSteps(wf.jobs.submit!)
    expect(step?.with?.detach).toBe(true)
    expect(['launch', 'managed']).toContain(step?.with?.mode)
    expect(steps(wf.jobs.submit!).some((s) => s.uses?.startsWith('actions/upload-artifact@'))).toBe(true)
  })

  test('collect-detached: every 30 minutes, waits less than the job may run', () => {
    const wf = byName('templates/collect-detached.yml')
    const on = onEvents(wf)
    expect(on.schedule).toEqual([{ cron: '*/30 * * * *' }])
    expect(on.workflow_dispatch.inputs).toHaveProperty('job-id')
    const collect = wf.jobs.collect!
    const [step] = actionSteps(collect)
    expect(step?.with?.mode).toBe('collect')
    expect(Number(step?.with?.['wait-minutes'])).toBeLessThan(collect['timeout-minutes'])
  })

  test('fan-out-sweep: one step with `tasks`, max-parallel and fail-fast, results rendered', () => {
    const wf = byName('templates/fan-out-sweep.yml')
    const sweep = actionSteps(wf.jobs.sweep!).find((s) => s.with?.tasks)
    expect(sweep?.with?.['max-parallel']).toBeTruthy()
    expect(sweep?.with).toHaveProperty('fail-fast')
    const render = steps(wf.jobs.sweep!).find((s) => /RESULTS/.test(JSON.stringify(s.env ?? {})))
    expect(render?.env?.RESULTS).toBe('${{ steps.sweep.outputs.results }}')
  })
})

describe('the structural checks bite', () => {
  test('an input, event field, matrix value or job output inside run: is reported', () => {
    const doc = parseYaml(`
on: workflow_dispatch
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: echo "\${{ inputs.name }}"
      - run: echo "\${{ github.event.pull_request.title }}"
      - run: echo "\${{ matrix.lr }} \${{ needs.prep.outputs.bucket }}"
      - env:
          NAME: \${{ inputs.name }}
        run: echo "$NAME \${{ github.run_id }}"
`) as Workflow
    expect(runScriptViolations(doc)).toEqual([
      'a/0: inputs.name',
      'a/1: github.event.pull_request.title',
      'a/2: matrix.lr',
      'a/2: needs.prep.outputs.bucket'
    ])
  })

  test('a launching job without a timeout, or with one of 360 minutes, is caught', () => {
    const job = { 'runs-on': 'ubuntu-latest', steps: [{ uses: 'skypilot-org/skypilot-action@v1' }] }
    expect(launches(job)).toBe(true)
    expect(launches({ steps: [{ run: 'sky down -y gha-1' }] })).toBe(true)
    expect(launches({ steps: [{ run: 'echo skylight' }] })).toBe(false)
    expect(job).not.toHaveProperty('timeout-minutes')
  })
})

// Every use of this action passes only inputs declared in action.yml, and every call of the
// reusable workflow only its declared inputs and secrets. The language service checks the
// `skypilot-org/skypilot-action@v1` steps too, but not `uses: ./` nor the reusable workflow's
// required inputs: this covers all of them from the YAML alone.
import { describe, expect, test } from 'vitest'
import {
  actionInputs,
  actionOutputs,
  isActionRef,
  isReusableCall,
  loadWorkflowFiles,
  onEvents,
  reusableWorkflow,
  steps
} from './lib.js'

const files = loadWorkflowFiles()
const declared = new Set(Object.keys(actionInputs()))

describe.each(files.map((f) => [f.rel, f] as const))('%s', (_rel, file) => {
  test('uses of the action pass only declared inputs, one task source each', () => {
    for (const [id, job] of Object.entries(file.doc.jobs)) {
      for (const step of steps(job).filter((s) => isActionRef(s.uses))) {
        const given = Object.keys(step.with ?? {})
        for (const name of given) expect(declared.has(name), `job ${id}: unknown input '${name}'`).toBe(true)
        const sources = ['task', 'task-yaml', 'tasks'].filter((k) => given.includes(k))
        const mode = String(step.with?.mode ?? 'launch')
        // collect, down and report run no task of their own.
        if (mode !== 'collect' && mode !== 'down' && mode !== 'report' && !file.rel.endsWith('skypilot-task.yml')) {
          expect(sources.length, `job ${id}: exactly one of task, task-yaml, tasks`).toBe(1)
        }
      }
    }
  })

  test('calls of the reusable workflow pass only its declared inputs and secrets', () => {
    const call = onEvents(reusableWorkflow()).workflow_call
    for (const [id, job] of Object.entries(file.doc.jobs)) {
      if (!isReusableCall(job.uses)) continue
      for (const name of Object.keys(job.with ?? {})) {
        expect(call.inputs, `job ${id}: input ${name}`).toHaveProperty(name)
      }
      if (job.secrets !== 'inherit') {
        for (const name of Object.keys(job.secrets ?? {})) {
          expect(call.secrets, `job ${id}: secret ${name}`).toHaveProperty(name)
        }
      }
    }
  })

  test('steps read only outputs the action declares', () => {
    const outputs = new Set(actionOutputs())
    for (const [, job] of Object.entries(file.doc.jobs)) {
      const actionSteps = steps(job).filter((s) => isActionRef(s.uses) && s.id)
      const ids = new Set(actionSteps.map((s) => s.id as string))
      // A step's `job-outputs` names are outputs of that step too.
      const declared = new Map(actionSteps.map((s) => [s.id as string, String(s.with?.['job-outputs'] ?? '').split(/[\s,]+/).filter(Boolean)]))
      const text = JSON.stringify(job)
      for (const m of text.matchAll(/steps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
        if (ids.has(m[1]!)) expect(outputs.has(m[2]!) || declared.get(m[1]!)!.includes(m[2]!), `output ${m[2]}`).toBe(true)
      }
    }
  })
})

test('the reusable workflow forwards its inputs to the action under the same names', () => {
  const wf = reusableWorkflow()
  const call = onEvents(wf).workflow_call
  const step = Object.values(wf.jobs)
    .flatMap((j) => steps(j))
    .find((s) => isActionRef(s.uses))
  expect(step).toBeTruthy()
  const passThrough = Object.keys(call.inputs).filter((n) => !['runs-on', 'timeout-minutes'].includes(n))
  for (const name of passThrough) {
    expect(declared.has(name), `input ${name} is not an action input`).toBe(true)
    expect(String(step!.with?.[name]), name).toContain(`inputs.${name}`)
  }
  expect(step!.with?.secrets).toBe('${{ secrets.task-secrets }}')
  expect(step!.with?.['service-account-token']).toBe('${{ secrets.service-account-token }}')
  expect(step!.with?.kubeconfig).toBe('${{ secrets.kubeconfig }}')
})

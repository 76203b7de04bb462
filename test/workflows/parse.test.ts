// Every workflow and starter template must pass GitHub's own parser (@actions/workflow-parser)
// and language service (@actions/languageservice): schema, expressions, context access, and the
// inputs given to this action and to the reusable workflow. The negative cases prove each check
// catches what it is meant to catch.
import { describe, expect, test } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { ROOT, languageServiceProblems, loadWorkflowFiles, parserErrors } from './lib.js'

const files = loadWorkflowFiles()

test('there are workflows and templates to check', () => {
  expect(files.filter((f) => f.kind === 'workflow').length).toBeGreaterThanOrEqual(4)
  expect(files.filter((f) => f.kind === 'template').length).toBeGreaterThanOrEqual(12)
})

test('action.yml is valid YAML (the runner refuses to load the action otherwise)', () => {
  expect(() => parseYaml(readFileSync(join(ROOT, 'action.yml'), 'utf8'))).not.toThrow()
})

test('action.yml passes the language service', async () => {
  const text = readFileSync(join(ROOT, 'action.yml'), 'utf8')
  expect(await languageServiceProblems('file:///repo/action.yml', text)).toEqual([])
})

describe.each(files.map((f) => [f.rel, f] as const))('%s', (_rel, file) => {
  test('workflow-parser: no errors', async () => {
    expect(await parserErrors(file.rel, file.text)).toEqual([])
  })

  test('languageservice: no errors', async () => {
    expect(await languageServiceProblems(`file:///repo/${file.rel}`, file.text)).toEqual([])
  })
})

// A minimal valid workflow to break in one place at a time.
const base = (job: string, on = 'workflow_dispatch:\n  inputs:\n    lr:\n      type: string\n      default: "0.1"') => `
name: probe
on:
  ${on.split('\n').join('\n  ')}
permissions:
  contents: read
jobs:
${job}
`

const launchJob = (withLines: string, extra = '') => `  run:
    runs-on: ubuntu-latest
    timeout-minutes: 30${extra}
    steps:
      - uses: skypilot-org/skypilot-action@v1
        with:
${withLines
  .split('\n')
  .map((l) => `          ${l}`)
  .join('\n')}
`

describe('the checks bite', () => {
  test('the baseline probe is clean', async () => {
    const text = base(launchJob('task: examples/train.yaml\nenvs: LEARNING_RATE=${{ inputs.lr }}'))
    expect(await parserErrors('probe.yml', text)).toEqual([])
    expect(await languageServiceProblems('file:///repo/.github/workflows/probe.yml', text)).toEqual([])
  })

  test('an unknown key in a job', async () => {
    const text = base(launchJob('task: examples/train.yaml', '\n    timeout-minute: 30'))
    const errors = await parserErrors('probe.yml', text)
    expect(errors.map((e) => e.message).join('\n')).toMatch(/timeout-minute/)
  })

  test('a reference to an undeclared dispatch input', async () => {
    const text = base(launchJob('task: examples/train.yaml\nenvs: LEARNING_RATE=${{ inputs.nope }}'))
    const problems = await languageServiceProblems('file:///repo/.github/workflows/probe.yml', text)
    expect(problems.map((p) => p.message).join('\n')).toMatch(/nope/)
  })

  test('an unknown context', async () => {
    const text = base(launchJob('task: ${{ nocontext.task }}'))
    const errors = [
      ...(await parserErrors('probe.yml', text)),
      ...(await languageServiceProblems('file:///repo/.github/workflows/probe.yml', text))
    ]
    expect(errors.map((e) => e.message).join('\n')).toMatch(/nocontext/)
  })

  test('an input this action does not have', async () => {
    const text = base(launchJob('task: examples/train.yaml\ncluster_name: typo'))
    const problems = await languageServiceProblems('file:///repo/.github/workflows/probe.yml', text)
    expect(problems.map((p) => p.message)).toContain("Invalid action input 'cluster_name'")
  })

  test('a needs on a job that does not exist', async () => {
    const text = base(
      launchJob('task: examples/train.yaml', '\n    needs: [prepare]') +
        '  other:\n    runs-on: ubuntu-latest\n    steps:\n      - run: "true"\n'
    )
    const errors = await parserErrors('probe.yml', text)
    expect(errors.map((e) => e.message).join('\n')).toMatch(/prepare/)
  })

  test('an input the reusable workflow does not declare', async () => {
    const text = base(`  train:
    uses: ./.github/workflows/skypilot-task.yml
    with:
      task: examples/train.yaml
      epochs: 3
    secrets:
      service-account-token: \${{ secrets.SKYPILOT_SERVICE_ACCOUNT_TOKEN }}
`)
    const problems = await languageServiceProblems('file:///repo/.github/workflows/probe.yml', text)
    expect(problems.map((p) => p.message).join('\n')).toMatch(/epochs/)
  })

  test('a secret the reusable workflow does not declare', async () => {
    const text = base(`  train:
    uses: ./.github/workflows/skypilot-task.yml
    with:
      task: examples/train.yaml
    secrets:
      token: \${{ secrets.SKYPILOT_SERVICE_ACCOUNT_TOKEN }}
`)
    const problems = await languageServiceProblems('file:///repo/.github/workflows/probe.yml', text)
    expect(problems.map((p) => p.message).join('\n')).toMatch(/token/)
  })

  test('a bad cron expression', async () => {
    const text = base('  noop:\n    runs-on: ubuntu-latest\n    steps:\n      - run: "true"', "schedule:\n  - cron: '0 0 * *'")
    const errors = await parserErrors('probe.yml', text)
    expect(errors.length).toBeGreaterThan(0)
  })
})

#!/usr/bin/env node
// Runs the built action locally the way the runner does: inputs as INPUT_<NAME> env (over
// action.yml's defaults), file commands as temp files, then the post step with the state main
// saved. Arguments are inputs:
//   npm run local -- task=examples/train.yaml envs='DATA_BUCKET_NAME=my-bucket' dry-run=true
// With no arguments: a dry run of examples/train.yaml (works with no SkyPilot installed).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileCommands, ROOT, stepEnv } from './runner-protocol.mjs'

const args = process.argv.slice(2)
const inputs = args.length > 0 ? {} : { task: 'examples/train.yaml', envs: 'DATA_BUCKET_NAME=local-demo-bucket\nEPOCHS=2', 'dry-run': 'true' }
for (const arg of args) {
  const eq = arg.indexOf('=')
  if (eq <= 0) {
    console.error(`run-local: expected NAME=VALUE, got '${arg}'`)
    process.exit(2)
  }
  inputs[arg.slice(0, eq)] = arg.slice(eq + 1)
}

const runnerTemp = fs.mkdtempSync(path.join(os.tmpdir(), 'skypilot-action-local-'))
const context = {
  ...process.env,
  GITHUB_WORKSPACE: process.env.GITHUB_WORKSPACE ?? ROOT,
  RUNNER_TEMP: runnerTemp,
  GITHUB_RUN_ID: process.env.GITHUB_RUN_ID ?? String(Date.now()).slice(-10),
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_JOB: process.env.GITHUB_JOB ?? 'local'
}

function step(entry, state) {
  const files = fileCommands()
  const run = spawnSync(process.execPath, [path.join(ROOT, 'dist', entry, 'index.js')], { env: { ...context, ...files.env, ...stepEnv({ inputs, state }) }, stdio: 'inherit' })
  const written = files.read()
  files.remove()
  return { status: run.status, ...written }
}

const main = step('main')
console.log('\n--- post step ---')
const post = step('post', main.state)
console.log('\n--- outputs ---')
for (const [name, value] of Object.entries(main.outputs)) console.log(`${name}=${value}`)
console.log('\n--- job summary ---')
console.log(main.summary + post.summary)
fs.rmSync(runnerTemp, { recursive: true, force: true })
process.exit(main.status || post.status || 0)

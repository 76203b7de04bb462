#!/usr/bin/env node
// Runs the built action locally the way the runner does: inputs as INPUT_<NAME> env, file
// commands as temp files, then the post step with the state main saved. Arguments are inputs:
//   npm run local -- task=examples/train.yaml envs='DATA_BUCKET_NAME=my-bucket' dry-run=true
// With no arguments: a dry run of examples/train.yaml (works with no SkyPilot installed).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')
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

const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'skypilot-action-local-'))
const files = Object.fromEntries(['GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_STEP_SUMMARY', 'GITHUB_ENV', 'GITHUB_PATH'].map((n) => {
  const f = path.join(temp, n.toLowerCase())
  fs.writeFileSync(f, '')
  return [n, f]
}))
const env = {
  ...process.env,
  ...files,
  GITHUB_WORKSPACE: process.env.GITHUB_WORKSPACE ?? root,
  RUNNER_TEMP: path.join(temp, 'runner-temp'),
  GITHUB_RUN_ID: process.env.GITHUB_RUN_ID ?? String(Date.now()).slice(-10),
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_JOB: process.env.GITHUB_JOB ?? 'local'
}
fs.mkdirSync(env.RUNNER_TEMP)
for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value

/** Reads `name<<DELIM ... DELIM` blocks. */
function readCommands(file) {
  const out = {}
  const lines = fs.readFileSync(file, 'utf8').split('\n')
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<]+)<<(.+)$/.exec(lines[i])
    if (!m) continue
    const value = []
    for (i++; i < lines.length && lines[i] !== m[2]; i++) value.push(lines[i])
    out[m[1]] = value.join('\n')
  }
  return out
}

const main = spawnSync(process.execPath, [path.join(root, 'dist/main/index.js')], { env, stdio: 'inherit' })
const state = readCommands(files.GITHUB_STATE)
for (const [name, value] of Object.entries(state)) env[`STATE_${name}`] = value
console.log('\n--- post step ---')
const post = spawnSync(process.execPath, [path.join(root, 'dist/post/index.js')], { env, stdio: 'inherit' })
console.log('\n--- outputs ---')
for (const [name, value] of Object.entries(readCommands(files.GITHUB_OUTPUT))) console.log(`${name}=${value}`)
console.log('\n--- job summary ---')
console.log(fs.readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'))
fs.rmSync(temp, { recursive: true, force: true })
process.exit(main.status || post.status || 0)

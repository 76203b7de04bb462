// The runner's side of a JavaScript action's step, for running the built bundles outside GitHub:
// `npm run local`, the tests (test/helpers/runner.ts) and the benchmarks (bench/lib/common.mjs)
// all build a step's environment and read its file commands here.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** The run context the tests and benchmarks pretend to be in (a job `train` outside a matrix). */
export const SAMPLE_RUN = {
  GITHUB_RUN_ID: '1234567890',
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_JOB: 'train',
  GITHUB_REPOSITORY: 'acme/ml',
  GITHUB_SERVER_URL: 'https://github.com',
  RUNNER_OS: 'Linux',
  RUNNER_ARCH: 'X64'
}

/** Default expressions the runner evaluates in action.yml, as it does for a job outside a matrix. */
const DEFAULT_EXPRESSIONS = { '${{ strategy.job-index }}': '0', '${{ github.token }}': 'ghs_runnerTokenForThisJob0000' }

let defaults
/** action.yml's input defaults, as the runner fills them in for inputs not given. */
export function actionDefaults() {
  if (!defaults) {
    const action = parse(fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8'))
    defaults = {}
    for (const [name, spec] of Object.entries(action.inputs)) {
      const value = String(spec.default ?? '')
      defaults[name] = DEFAULT_EXPRESSIONS[value] ?? value
    }
  }
  return defaults
}

/**
 * INPUT_<NAME> (upper case, hyphens kept) for every input: the given ones over action.yml's
 * defaults; and STATE_<name> for the post step.
 * @param {{ inputs?: Record<string, string>, state?: Record<string, string> }} step
 * @returns {Record<string, string>}
 */
export function stepEnv({ inputs = {}, state = {} } = {}) {
  const env = {}
  for (const [name, value] of Object.entries({ ...actionDefaults(), ...inputs })) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  for (const [name, value] of Object.entries(state)) env[`STATE_${name}`] = value
  return env
}

/**
 * Reads `name<<DELIM ... DELIM` blocks (and `name=value` lines) of a file command.
 * @param {string} text
 * @returns {Record<string, string>}
 */
export function parseFileCommands(text) {
  return Object.fromEntries(fileCommandEntries(text))
}

/**
 * Every NAME=VALUE (or heredoc) a file command holds, in the order written: the state saved again
 * and again (a run record on each move of its lifecycle) shows its history.
 * @param {string} text
 * @returns {[string, string][]}
 */
export function fileCommandEntries(text) {
  const out = []
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    if (heredoc) {
      const [, name, delim] = heredoc
      const value = []
      for (i++; i < lines.length && lines[i] !== delim; i++) value.push(lines[i])
      out.push([name, value.join('\n')])
    } else if (line.includes('=')) {
      out.push([line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)])
    }
  }
  return out
}

/**
 * Fresh GITHUB_OUTPUT, GITHUB_STATE, GITHUB_STEP_SUMMARY, GITHUB_ENV and GITHUB_PATH files for one
 * step: `env` names them, `read()` returns what the step wrote, `remove()` deletes them.
 */
export function fileCommands() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-files-'))
  const names = { GITHUB_OUTPUT: 'output', GITHUB_STATE: 'state', GITHUB_STEP_SUMMARY: 'summary', GITHUB_ENV: 'env', GITHUB_PATH: 'path' }
  const env = {}
  for (const [variable, file] of Object.entries(names)) {
    env[variable] = path.join(dir, file)
    fs.writeFileSync(env[variable], '')
  }
  const text = (file) => fs.readFileSync(path.join(dir, file), 'utf8')
  return {
    env,
    read: () => ({
      outputs: parseFileCommands(text('output')),
      state: parseFileCommands(text('state')),
      stateWrites: fileCommandEntries(text('state')),
      summary: text('summary'),
      exportedEnv: parseFileCommands(text('env')),
      addedPaths: text('path').split('\n').filter(Boolean)
    }),
    remove: () => fs.rmSync(dir, { recursive: true, force: true })
  }
}

import { describe, it, expect, vi, beforeEach, afterEach } from 'vitest'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as core from '@actions/core'
import * as guard from '../../src/gh/command-guard.js'
import { writeSummary } from '../../src/summary.js'

const ENV_KEYS = ['GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_ENV', 'GITHUB_PATH', 'GITHUB_STEP_SUMMARY', 'INPUT_CLUSTER-NAME', 'INPUT_MY_INPUT', 'INPUT_TASK-YAML', 'PATH', 'MY_VAR', 'RUNNER_DEBUG']
let savedEnv: Record<string, string | undefined>
let savedExitCode: typeof process.exitCode
let dir: string

beforeEach(() => {
  savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]))
  for (const k of ENV_KEYS) if (k !== 'PATH') delete process.env[k]
  savedExitCode = process.exitCode
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-test-'))
})

afterEach(() => {
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  process.exitCode = savedExitCode
  vi.restoreAllMocks()
  fs.rmSync(dir, { recursive: true, force: true })
})

/** A file-command file, as the runner creates it before the step (the toolkit writes only to existing ones). */
function runnerFile(name: string): string {
  const file = path.join(dir, name)
  fs.writeFileSync(file, '')
  return file
}

function captureStdout(): () => string {
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
  return () => spy.mock.calls.map((c) => String(c[0])).join('')
}

/** Reads a file-command file the way the runner does: `name<<DELIM` … a line equal to DELIM. */
function readFileCommands(file: string): Record<string, string> {
  const lines = fs.readFileSync(file, 'utf8').split(os.EOL)
  const out: Record<string, string> = {}
  let i = 0
  while (i < lines.length) {
    const line = lines[i]!
    if (line === '') {
      i++
      continue
    }
    const m = /^([^<=]+)<<(.+)$/.exec(line)
    if (!m) throw new Error(`unexpected line ${JSON.stringify(line)}`)
    const [, name, delimiter] = m
    const body: string[] = []
    i++
    while (i < lines.length && lines[i] !== delimiter) body.push(lines[i++]!)
    if (i >= lines.length) throw new Error(`no closing delimiter for ${name}`)
    i++
    out[name!] = body.join(os.EOL)
  }
  return out
}

describe('setOutput and saveState', () => {
  it('write name<<ghadelimiter_… blocks to GITHUB_OUTPUT and GITHUB_STATE', () => {
    const output = runnerFile('output')
    const state = runnerFile('state')
    process.env.GITHUB_OUTPUT = output
    process.env.GITHUB_STATE = state
    const stdout = captureStdout()
    core.setOutput('cluster-name', 'gha-1-1-build')
    core.setOutput('multi', 'line one\nline two')
    core.saveState('clusters', '["c1"]')
    const text = fs.readFileSync(output, 'utf8')
    expect(text).toMatch(/^cluster-name<<ghadelimiter_[0-9a-f-]{36}\r?\ngha-1-1-build\r?\nghadelimiter_[0-9a-f-]{36}\r?\n/)
    expect(readFileCommands(output)).toEqual({ 'cluster-name': 'gha-1-1-build', multi: 'line one\nline two' })
    expect(readFileCommands(state)).toEqual({ clusters: '["c1"]' })
    expect(stdout()).toBe('')
  })

  it('uses a fresh delimiter for each value', () => {
    const output = runnerFile('output')
    process.env.GITHUB_OUTPUT = output
    core.setOutput('a', '1')
    core.setOutput('b', '2')
    const delimiters = fs.readFileSync(output, 'utf8').split(os.EOL).filter((l) => l.includes('<<')).map((l) => l.split('<<')[1])
    expect(delimiters).toHaveLength(2)
    expect(delimiters[0]).not.toBe(delimiters[1])
  })

  it('a value holding a would-be delimiter line cannot break out of its block', () => {
    const output = runnerFile('output')
    process.env.GITHUB_OUTPUT = output
    const evil = 'x\nghadelimiter_00000000-0000-0000-0000-000000000000\ninjected=owned\nEOF\ninjected<<EOF\nowned\nEOF'
    core.setOutput('job-id', evil)
    core.setOutput('after', 'ok')
    expect(readFileCommands(output)).toEqual({ 'job-id': evil, after: 'ok' })
  })

  it('fall back to workflow commands without the files', () => {
    const stdout = captureStdout()
    core.setOutput('name', 'v%1')
    core.saveState('s', 'a\nb')
    // Each on a line of its own (the toolkit starts one with a line break).
    expect(stdout().split(os.EOL).filter(Boolean)).toEqual(['::set-output name=name::v%251', '::save-state name=s::a%0Ab'])
  })
})

describe('workflow commands', () => {
  it('escape %, CR and LF in the message', () => {
    const stdout = captureStdout()
    core.warning('100% done\r\nnext line')
    expect(stdout()).toBe(`::warning::100%25 done%0D%0Anext line${os.EOL}`)
  })

  it('error() renders title, file, line and col', () => {
    const stdout = captureStdout()
    core.error('msg', { title: 'Invalid SkyPilot task', file: 'examples/train.yaml', startLine: 3, startColumn: 5 })
    expect(stdout()).toBe(`::error title=Invalid SkyPilot task,file=examples/train.yaml,line=3,col=5::msg${os.EOL}`)
  })

  it('escapes : and , in properties, and leaves out empty ones', () => {
    const stdout = captureStdout()
    core.notice('m', { title: 'a: b, c', file: '' })
    expect(stdout()).toBe(`::notice title=a%3A b%2C c::m${os.EOL}`)
  })

  it('setSecret emits add-mask', () => {
    const stdout = captureStdout()
    core.setSecret('s3cret')
    expect(stdout()).toBe(`::add-mask::s3cret${os.EOL}`)
  })

  it('a message cannot start a new command on its own line', () => {
    const stdout = captureStdout()
    core.info('plain')
    core.debug('x\n::add-mask::nothing')
    expect(stdout()).toBe(`plain${os.EOL}::debug::x%0A::add-mask::nothing${os.EOL}`)
    expect(stdout().split(os.EOL).filter((l) => l.startsWith('::add-mask::'))).toEqual([])
  })

  it('group and endgroup wrap the work even when it throws', async () => {
    const stdout = captureStdout()
    await expect(core.group('Install', async () => {
      throw new Error('boom')
    })).rejects.toThrow('boom')
    expect(stdout()).toBe(`::group::Install${os.EOL}::endgroup::${os.EOL}`)
  })
})

describe('getInput', () => {
  it('keeps hyphens in the name (INPUT_CLUSTER-NAME) and trims by default', () => {
    process.env['INPUT_CLUSTER-NAME'] = '  my-cluster \n'
    expect(core.getInput('cluster-name')).toBe('my-cluster')
    expect(core.getInput('cluster-name', { trimWhitespace: false })).toBe('  my-cluster \n')
  })

  it('replaces spaces with underscores', () => {
    process.env.INPUT_MY_INPUT = 'v'
    expect(core.getInput('my input')).toBe('v')
  })

  it('gives empty for a missing input and throws when required', () => {
    expect(core.getInput('cluster-name')).toBe('')
    expect(() => core.getInput('cluster-name', { required: true })).toThrow('Input required and not supplied: cluster-name')
  })
})

describe('setFailed', () => {
  it('sets process.exitCode to 1 and prints an error', () => {
    const stdout = captureStdout()
    process.exitCode = 0
    core.setFailed('it broke\nbadly')
    expect(process.exitCode).toBe(1)
    expect(stdout()).toBe(`::error::it broke%0Abadly${os.EOL}`)
  })
})

describe('exportVariable, addPath, the job summary, getState', () => {
  it('exportVariable writes GITHUB_ENV and sets process.env', () => {
    const envFile = runnerFile('env')
    process.env.GITHUB_ENV = envFile
    core.exportVariable('MY_VAR', 'a\nb')
    expect(process.env.MY_VAR).toBe('a\nb')
    expect(readFileCommands(envFile)).toEqual({ MY_VAR: 'a\nb' })
  })

  it('addPath appends to GITHUB_PATH and prepends to PATH', () => {
    const pathFile = runnerFile('path')
    process.env.GITHUB_PATH = pathFile
    core.addPath('/opt/sky/bin')
    expect(fs.readFileSync(pathFile, 'utf8')).toBe(`/opt/sky/bin${os.EOL}`)
    expect(process.env.PATH?.startsWith(`/opt/sky/bin${path.delimiter}`)).toBe(true)
  })

  it('the summary gets a trailing newline, appends, and is a no-op without the file', async () => {
    const stdout = captureStdout()
    await writeSummary('no file')
    expect(stdout()).toBe('')
    const file = path.join(dir, 'summary')
    fs.writeFileSync(file, '')
    process.env.GITHUB_STEP_SUMMARY = file
    await writeSummary('# one')
    await writeSummary('two\n')
    expect(fs.readFileSync(file, 'utf8')).toBe(`# one${os.EOL}two\n`)
  })

  it('getState reads STATE_<name>', () => {
    process.env.STATE_clusters = '["c1"]'
    try {
      expect(core.getState('clusters')).toBe('["c1"]')
      expect(core.getState('missing')).toBe('')
    } finally {
      delete process.env.STATE_clusters
    }
  })

  it('isDebug follows RUNNER_DEBUG', () => {
    expect(core.isDebug()).toBe(false)
    process.env.RUNNER_DEBUG = '1'
    expect(core.isDebug()).toBe(true)
  })
})

describe('relayed output cannot issue workflow commands', () => {
  it('stops commands once for several relays, and resumes only when the last one ends', () => {
    const output = captureStdout()
    guard.stopCommands()
    guard.stopCommands() // a second relay (fan-out) shares the stop
    guard.relay('::error::from task A\n')
    guard.resumeCommands() // task A ends: task B is still relaying
    guard.relay('::add-mask::from task B\n')
    guard.resumeCommands()
    const lines = output().split(os.EOL)
    const stop = lines.find((l) => l.startsWith('::stop-commands::'))!
    const token = stop.slice('::stop-commands::'.length)
    expect(lines.filter((l) => l.startsWith('::stop-commands::'))).toHaveLength(1)
    // The resume comes after B's line, not after A's.
    expect(lines.indexOf(`::${token}::`)).toBeGreaterThan(lines.indexOf('::add-mask::from task B'))
    expect(lines.filter((l) => l === `::${token}::`)).toHaveLength(1)
  })

  it("wraps the action's own annotation during a relay so it still counts, on a line of its own", () => {
    const output = captureStdout()
    guard.stopCommands()
    guard.relay('partial line from the task without newline')
    core.warning('retrying task b')
    guard.relay('more task output\n')
    guard.resumeCommands()
    const text = output()
    const token = /::stop-commands::(\S+)/.exec(text)![1]!
    expect(text).toContain(`partial line from the task without newline${os.EOL}::${token}::${os.EOL}::warning::retrying task b${os.EOL}::stop-commands::${token}${os.EOL}more task output`)
    expect(text.endsWith(`::${token}::${os.EOL}`)).toBe(true)
  })

  it('ends a relayed partial line before resuming, so the resume marker is recognised', () => {
    const output = captureStdout()
    guard.stopCommands()
    guard.relay('no newline at the end')
    guard.resumeCommands()
    const text = output()
    const token = /::stop-commands::(\S+)/.exec(text)![1]!
    expect(text).toContain(`no newline at the end${os.EOL}::${token}::${os.EOL}`)
  })
})

// Test helpers around the fake `sky`: a private FAKE_SKY_HOME, the env that
// puts the fake first on PATH, and readers for the ledger and the call log.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { readLedger } from './lib/ledger.mjs'
import { deepMerge, killGroup, readConfig } from './lib/common.mjs'

export { startFakeServer } from './server.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
export const FAKE_SKY_BIN_DIR = path.join(HERE, 'bin')

export function createFakeSky({ config = {}, home } = {}) {
  const dir = home ?? fs.mkdtempSync(path.join(os.tmpdir(), 'fake-sky-'))
  fs.mkdirSync(dir, { recursive: true })
  const configFile = path.join(dir, 'config.json')
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2))

  const env = { ...process.env }
  // A test must not reach a real API server or token by accident.
  for (const k of Object.keys(env)) if (k.startsWith('SKYPILOT_') || k.startsWith('FAKE_SKY_')) delete env[k]
  env.PATH = `${FAKE_SKY_BIN_DIR}${path.delimiter}${process.env.PATH ?? ''}`
  env.FAKE_SKY_HOME = dir

  const ledger = () => {
    const l = readLedger(dir)
    return { clusters: l.clusters, jobs: l.jobs, managedJobs: l.managedJobs, requests: l.requests, jobsController: l.jobsController ?? null }
  }

  const calls = () => {
    try {
      return fs
        .readFileSync(path.join(dir, 'calls.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line))
    } catch {
      return []
    }
  }

  const writeConfig = (patch) => {
    fs.writeFileSync(configFile, JSON.stringify(deepMerge(readConfig(dir), patch), null, 2))
  }

  const spawnSky = (args, opts = {}) =>
    spawn(path.join(FAKE_SKY_BIN_DIR, 'sky'), args, {
      cwd: opts.cwd ?? dir,
      env: { ...env, ...(opts.env ?? {}) },
      stdio: ['ignore', 'pipe', 'pipe']
    })

  const run = (args, opts = {}) =>
    new Promise((resolve, reject) => {
      const child = spawnSky(args, opts)
      let stdout = ''
      let stderr = ''
      child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
      child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d))
      const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : null
      child.on('error', reject)
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer)
        resolve({ code, signal, stdout, stderr })
      })
    })

  const waitFor = async (predicate, { timeoutMs = 10_000, intervalMs = 25 } = {}) => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const value = predicate(ledger())
      if (value) return value
      if (Date.now() > deadline) throw new Error('fake sky: waitFor timed out')
      await new Promise((r) => setTimeout(r, intervalMs))
    }
  }

  /**
   * Ends the allocation of `cluster`'s running job now, outside SkyPilot (as `launch.allocationEndsAfterMs`
   * does on a timer): for a test that must first see the job followed. Its job must be RUNNING.
   */
  const endAllocation = (cluster) => {
    const job = ledger().jobs.find((j) => j.cluster === cluster && j.status === 'RUNNING')
    if (!job) throw new Error(`fake sky: no RUNNING job on ${cluster} to end the allocation of`)
    process.kill(job.pid, 'SIGUSR2')
  }

  const cleanup = () => {
    let l
    try {
      l = readLedger(dir)
    } catch {
      l = { jobs: [], managedJobs: [], requests: [] }
    }
    const pids = new Set([...l.jobs, ...l.managedJobs, ...l.requests].map((x) => x.pid).filter(Boolean))
    for (const pid of pids) killGroup(pid)
    fs.rmSync(dir, { recursive: true, force: true })
  }

  return { home: dir, binDir: FAKE_SKY_BIN_DIR, env, ledger, calls, writeConfig, run, spawn: spawnSky, waitFor, endAllocation, cleanup }
}

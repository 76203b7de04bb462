// The fake `sky` client: parses argv with the real CLI's grammar, then runs one command.
// See README.md in this directory for the contract; lib/ holds one concern per module.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgv, UsageError, formatUsageError, helpText, loadGrammar } from './lib/parse.mjs'
import { LOCAL_SERVER_URL, readConfig } from './lib/common.mjs'
import { ctx, Exit, err, out, record, sleep } from './lib/context.mjs'
import { clientVersion } from './lib/api-client.mjs'
import * as cluster from './lib/cluster-commands.mjs'
import * as managed from './lib/managed-commands.mjs'
import * as api from './lib/api-commands.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))

async function finish(code) {
  record(code)
  // Let queued output reach the reader before exiting.
  await Promise.race([new Promise((r) => process.stdout.write('', () => r())), sleep(5000)])
  process.exit(code)
}

process.on('SIGINT', () => {
  if (ctx.onInterrupt) ctx.onInterrupt()
  // click: KeyboardInterrupt -> Abort -> "Aborted!" on stderr, exit 1.
  err('\nAborted!\n')
  record(1)
  process.exit(1)
})
process.on('SIGTERM', () => {
  record(143)
  process.removeAllListeners('SIGTERM')
  process.kill(process.pid, 'SIGTERM')
})
// The reader went away (e.g. `| head`): stop like a broken pipe would.
process.stdout.on('error', () => {
  record(1)
  process.exit(1)
})

const COMMANDS = {
  launch: cluster.cmdLaunch,
  exec: cluster.cmdExec,
  status: cluster.cmdStatus,
  queue: cluster.cmdQueue,
  logs: cluster.cmdLogs,
  down: cluster.cmdDown,
  stop: cluster.cmdStop,
  start: cluster.cmdStart,
  autostop: cluster.cmdAutostop,
  cancel: cluster.cmdCancel,
  'cost-report': cluster.cmdCostReport,
  check: api.cmdCheck,
  'api info': api.cmdApiInfo,
  'api cancel': api.cmdApiCancel,
  'api logs': api.cmdApiLogs,
  'api status': api.cmdApiStatus,
  'api stop': async () => 0,
  'api start': async () => (out(`SkyPilot API server started at ${LOCAL_SERVER_URL}.\n`), 0),
  'api login': async () => 0,
  'api logout': async () => 0,
  'jobs launch': managed.cmdJobsLaunch,
  'jobs queue': managed.cmdJobsQueue,
  'jobs logs': managed.cmdJobsLogs,
  'jobs cancel': managed.cmdJobsCancel
}

async function main() {
  ctx.H = process.env.FAKE_SKY_HOME || null
  if (!ctx.H) {
    err('fake sky: FAKE_SKY_HOME is not set (the test double of `sky` needs a ledger directory).\n')
    process.exit(1)
  }
  fs.mkdirSync(ctx.H, { recursive: true })
  ctx.cfg = readConfig(ctx.H)
  const delay = Number(process.env.FAKE_SKY_CALL_DELAY_MS ?? ctx.cfg.callDelayMs ?? 0)
  if (delay > 0) await sleep(delay)

  const grammar = loadGrammar(HERE)
  let parsed
  try {
    parsed = parseArgv(grammar, ctx.argv)
  } catch (e) {
    if (e instanceof UsageError) {
      err(formatUsageError(grammar, e))
      return finish(2)
    }
    throw e
  }
  const { command, opts, help } = parsed
  if (command === '' && opts.version) {
    out(`skypilot, version ${clientVersion()}\n`)
    return finish(0)
  }
  if (command === '' && opts.commit) {
    out('skypilot, commit fake\n')
    return finish(0)
  }
  if (help || !(command in COMMANDS)) {
    const isGroup = command === '' || Object.keys(grammar).some((k) => k.startsWith(`${command} `))
    if (help || isGroup) {
      out(helpText(grammar, command))
      return finish(help || command === '' ? 0 : 2)
    }
    err(`fake sky: \`sky ${command}\` is not emulated by the test double.\n`)
    return finish(1)
  }
  try {
    const code = await COMMANDS[command](parsed)
    return finish(code ?? 0)
  } catch (e) {
    if (e instanceof UsageError) {
      err(formatUsageError(grammar, e))
      return finish(2)
    }
    if (e instanceof Exit) {
      if (e.stdout) out(e.stdout)
      if (e.stderr) err(e.stderr)
      return finish(e.code)
    }
    err(`fake sky internal error: ${e.stack}\n`)
    return finish(1)
  }
}

await main()

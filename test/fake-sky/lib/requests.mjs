// Server-side requests of the double: a launch / exec / jobs launch becomes a request record in
// the ledger and a detached runner process (runner.mjs) that does the server's work, writing the
// request's log; the client streams that log as the real client streams /api/stream.
import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'
import { spawn } from 'node:child_process'
import { NO_BACKGROUND_COMPILE } from './v8-flags.mjs'
import { fileURLToPath } from 'node:url'
import { updateLedger } from './ledger.mjs'
import { logsDir, userHash, userName } from './common.mjs'
import { ctx, fail, out } from './context.mjs'
import { follow } from './stream.mjs'
import { serverUrl } from './api-client.mjs'
import { msg } from './wordings.mjs'

const RUNNER = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'runner.mjs')

export function newRequest(l, name, cluster) {
  const request = {
    request_id: crypto.randomUUID(),
    name,
    cluster_name: cluster,
    status: 'RUNNING',
    created_at: Date.now() / 1000,
    finished_at: null,
    user_name: userName(ctx.cfg),
    user_id: userHash(ctx.cfg),
    pid: null,
    log: null
  }
  request.log = path.join(logsDir(ctx.H, 'requests'), `${request.request_id}.log`)
  l.requests.push(request)
  return request
}

export function writeSpec(requestId, spec) {
  fs.mkdirSync(path.join(ctx.H, 'requests'), { recursive: true })
  fs.writeFileSync(path.join(ctx.H, 'requests', `${requestId}.json`), JSON.stringify(spec))
}

// The environment a job sees: the remote node's, not the caller's.
export function remoteBaseEnv() {
  if (ctx.cfg.job?.inheritEnv) return { ...process.env }
  const e = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: process.env.LANG ?? 'C.UTF-8' }
  e.HOME = path.join(ctx.H, 'nodes', 'home')
  fs.mkdirSync(e.HOME, { recursive: true })
  e.USER = userName(ctx.cfg)
  return e
}

export function spawnRunner(requestId, jobEnv) {
  const env = { ...process.env, FAKE_SKY_JOB_ENV: JSON.stringify(jobEnv) }
  delete env.NODE_OPTIONS
  const child = spawn(process.execPath, [...NO_BACKGROUND_COMPILE, RUNNER, ctx.H, requestId], { detached: true, stdio: 'ignore', env })
  child.unref()
  updateLedger(ctx.H, (l) => {
    const r = l.requests.find((x) => x.request_id === requestId)
    if (r) r.pid = child.pid
  })
  return child.pid
}

/**
 * Streams the request's log to its end (`--async`: prints the request id and returns null).
 * A Ctrl-C while it streams prints the real hint; a failed request raises its error.
 */
export async function waitRequest(request, { async: isAsync }) {
  if (isAsync) {
    out(msg.submitted(request.name, request.request_id, serverUrl()))
    return null
  }
  ctx.onInterrupt = () => out(msg.asyncHint(request.request_id, serverUrl()))
  const done = await follow(request.log, { pid: request.pid })
  ctx.onInterrupt = null
  if (done.status === 'CANCELLED') {
    throw fail(1, `sky.exceptions.RequestCancelled: Request ${request.request_id} is cancelled by the user.`)
  }
  if (done.status !== 'SUCCEEDED') throw fail(1, done.error ?? 'RuntimeError: request failed')
  return done
}

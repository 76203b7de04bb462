// `sky check` and `sky api ...`: info, cancel, logs, status.
import { readLedger, updateLedger } from './ledger.mjs'
import { killGroup, userHash, writeDone } from './common.mjs'
import { UsageError } from './parse.mjs'
import { ctx, err, out } from './context.mjs'
import { clientVersion, endpoint, ensureServer, firstRequest, localUser, probeHealth, serverUrl } from './api-client.mjs'
import { enabledCloudMap } from './tasks.mjs'
import { follow } from './stream.mjs'
import { daemonRequests, requestRecord } from './records.mjs'
import { consolidation } from './managed-commands.mjs'
import { msg } from './wordings.mjs'

const usage = (command, message) => new UsageError(message, command)

export async function cmdCheck({ opts: o, args }) {
  await ensureServer()
  let clouds = enabledCloudMap()
  if (args.infra_list?.length) {
    const want = args.infra_list.map((x) => x.toLowerCase().replace(/^k8s$/, 'kubernetes'))
    clouds = Object.fromEntries(Object.entries(clouds).filter(([k]) => want.includes(k.toLowerCase())))
  }
  const ws = o.workspace ?? 'default'
  if (o.output === 'json') {
    out(`${JSON.stringify({ [ws]: clouds }, null, 2)}\n`)
    return 0
  }
  out('Checking credentials to enable infra for SkyPilot.\n')
  if (Object.keys(clouds).length === 0) {
    out('\nNo cloud is enabled. SkyPilot will not be able to run any task. Run `sky check` for more info.\n')
  } else {
    out(`\n🎉 Enabled infra 🎉\n${Object.entries(clouds).map(([k, v]) => `  ${k} [${v.join(', ')}]`).join('\n')}\n`)
  }
  out(`\nUsing SkyPilot API server: ${serverUrl()}\n`)
  return 0
}

export async function cmdApiInfo({ opts: o }) {
  const url = serverUrl()
  if (o.output !== 'json') out(`SkyPilot client version: ${clientVersion()}, commit: fake\n`)
  const h = await probeHealth()
  if (h.kind !== 'ok') {
    // command.py api_info: text (not JSON) and exit 0, even with -o json.
    if (!endpoint()) {
      out('No SkyPilot API server is connected\n├── To connect to an existing API server: sky api login\n└── To start a local API server: sky api start\n')
    } else {
      out(`Could not connect to SkyPilot API server at ${url}\n├── To re-login to the API server: sky api login --relogin -e ${url}\n└── To logout the server: sky api logout\n`)
    }
    return 0
  }
  const b = h.body
  // The server names the user it authenticated; an anonymous answer (`user: null`) leaves the
  // client's own local user.
  const user = b.user?.name ?? localUser()
  const userId = b.user?.id ?? userHash(ctx.cfg)
  if (o.output === 'json') {
    const data = {
      client: { version: clientVersion(), commit: 'fake' },
      server: { url, status: b.status, version: b.version, commit: b.commit, api_version: b.api_version },
      user
    }
    out(`${JSON.stringify(data, null, 2)}\n`)
    return 0
  }
  out(
    `Using SkyPilot API server and dashboard: ${url}\n` +
      `├── Status: ApiServerStatus.${String(b.status).toUpperCase()}, commit: ${b.commit}, version: ${b.version}\n` +
      `├── User: ${user} (${userId})\n` +
      `└── ${endpoint() ? 'Endpoint set via the environment variable SKYPILOT_API_SERVER_ENDPOINT' : 'Endpoint set to default local API server.'}\n`
  )
  return 0
}

export async function cmdApiCancel({ opts: o, args }) {
  const prefixes = args.request_ids ?? []
  if (!prefixes.length && !o.all && !o.all_users) {
    throw usage('api cancel', 'Either specify request ID(s) or use --all to cancel all requests.')
  }
  if ((o.all || o.all_users) && !o.yes) {
    out(`This will cancel all ${o.all_users ? "ALL USERS'" : 'YOUR'} requests.\nTo proceed, please type 'cancel all requests': \n`)
    err('Aborted!\n')
    return 1
  }
  await ensureServer()
  if (o.all_users) out("Cancelling all users' requests...\n")
  else if (o.all) out(`Cancelling all requests for user '${userHash(ctx.cfg)}'...\n`)
  else out(msg.cancellingRequests(prefixes))
  await firstRequest('/api/cancel')
  const killed = updateLedger(ctx.H, (l) => {
    const hits = []
    for (const r of l.requests) {
      if (!(o.all || o.all_users || prefixes.some((p) => r.request_id.startsWith(p)))) continue
      if (r.status !== 'RUNNING' && r.status !== 'PENDING') continue
      r.status = 'CANCELLED'
      r.finished_at = Date.now() / 1000
      writeDone(`${r.log}.done`, { status: 'CANCELLED' })
      hits.push(r)
    }
    return hits
  })
  // The request's process is still before job submission (a submitted job finishes its
  // request): stopping it stops the launch. What was provisioned (an INIT cluster) stays.
  for (const r of killed) killGroup(r.pid)
  out(killed.length ? msg.cancelledRequests(killed.map((r) => r.request_id)) : msg.noRequestsToCancel)
  return 0
}

export async function cmdApiLogs({ args }) {
  await ensureServer()
  const id = args.request_id
  const l = readLedger(ctx.H)
  const r = id ? l.requests.find((x) => x.request_id.startsWith(id)) : l.requests[l.requests.length - 1]
  if (!r) {
    err(`ValueError: Request ${id} not found.\n`)
    return 1
  }
  const done = await follow(r.log, { pid: r.pid })
  // The client re-raises the request's error: a failed launch ends `api logs` with exit 1 too.
  if (done?.error) {
    err(`${done.error}\n`)
    return 1
  }
  return done?.status === 'CANCELLED' ? 1 : 0
}

// command.py _NUM_REQUESTS_TO_SHOW
const NUM_REQUESTS_TO_SHOW = 50

export async function cmdApiStatus({ opts: o, args }) {
  await ensureServer()
  await firstRequest('/api/status')
  const l = readLedger(ctx.H)
  const prefixes = args.request_id_prefixes ?? []
  let reqs = [...daemonRequests(l.since ?? Date.now() / 1000, consolidation()), ...l.requests]
  if (prefixes.length) {
    // server.py api_status: named requests come whatever their status, with every field.
    reqs = reqs.filter((r) => prefixes.some((p) => r.request_id.startsWith(p)))
  } else {
    if (!o.all_status) reqs = reqs.filter((r) => r.status === 'RUNNING' || r.status === 'PENDING')
    if (o.cluster) reqs = reqs.filter((r) => r.cluster_name === o.cluster)
    reqs.sort((a, b) => b.created_at - a.created_at)
    const limit = o.limit === undefined ? NUM_REQUESTS_TO_SHOW : o.limit
    if (limit) reqs = reqs.slice(0, limit)
  }
  const pub = reqs.map((r) => requestRecord(r, { verbose: Boolean(o.verbose), full: prefixes.length > 0 }))
  if (o.output === 'json') out(`${JSON.stringify(pub, null, 2)}\n`)
  else for (const r of pub) out(`${r.request_id}  ${r.user_name}  ${r.name}  ${r.status}\n`)
  return 0
}

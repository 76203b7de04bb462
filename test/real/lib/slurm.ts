import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { findTool, run } from './real-sky.js'

/**
 * The real Slurm cluster of the real-jobs tier (the shared real-sky-slurm tool): a controller, one
 * node and a login node on loopback inside the real-sky chroot, which real SkyPilot's Slurm cloud
 * provisions on over SSH as it would at a Slurm site. Here: starting it, making it usable from a
 * real API server, and what the tests ask of Slurm itself (squeue, scancel).
 */

const SSH_PORT = 47022

/** Where the real-sky-slurm tool is: REAL_SKY_SLURM_TOOL, or next to the real-sky tool. */
export function findSlurmTool(): string | undefined {
  const realSky = findTool()
  const candidates = [process.env.REAL_SKY_SLURM_TOOL, realSky && path.join(path.dirname(realSky), 'real-sky-slurm')]
  return candidates.find((c): c is string => Boolean(c) && fs.existsSync(path.join(c!, 'slurm')))
}

function slurmCommand(): string {
  const tool = findSlurmTool()
  if (!tool) throw new Error('No real-sky-slurm tool: set REAL_SKY_SLURM_TOOL to its folder.')
  return path.join(tool, 'slurm')
}

function env(): NodeJS.ProcessEnv {
  const realSky = findTool()
  return { ...process.env, ...(realSky ? { REAL_SKY_TOOL: realSky } : {}) }
}

export async function startSlurm(): Promise<void> {
  const r = await run(slurmCommand(), ['start'], { env: env(), timeoutMs: 900_000 })
  if (r.code !== 0) throw new Error(`slurm start failed (exit ${r.code}): ${r.stderr.slice(-3000)}`)
}

export async function stopSlurm(): Promise<void> {
  await run(slurmCommand(), ['stop'], { env: env(), timeoutMs: 120_000 })
}

/** Gives the real-sky server on `port` the cluster (its ~/.slurm/config, and a forwarder to the login node). */
export async function attachSlurm(port: number): Promise<void> {
  // Ten minutes: CI's loaded machine once took more than two (the attach was killed, exit null).
  const r = await run(slurmCommand(), ['attach', String(port)], { env: env(), timeoutMs: 600_000 })
  if (r.code !== 0) throw new Error(`slurm attach ${port} failed (exit ${r.code}${r.code === null ? ': killed after 10 minutes' : ''}): ${r.stderr.slice(-2000)}`)
}

function stateDir(): string {
  return path.join(process.env.REAL_SKY_STATE ?? '/var/lib/real-sky', 'slurm')
}

/** A command on the login node, as the Slurm user (the tool's key; sshd on loopback). */
function onLoginNode(command: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const key = path.join(stateDir(), 'id_ed25519')
  return run('ssh', ['-q', '-i', key, '-p', String(SSH_PORT), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', 'sky@127.0.0.1', command], { timeoutMs: 60_000 })
}

export interface Allocation {
  id: string
  /** SkyPilot names a cluster's allocation `<cluster>-<user hash>` (or its managed-job cluster's name). */
  name: string
  state: string
  /** Slurm's time limit of the allocation (`2:00`, `11:00`, `UNLIMITED`). */
  timeLimit: string
}

/**
 * Every allocation Slurm holds (squeue), whoever made it. A failed call (ssh or slurmctld slow to
 * answer on a loaded machine) is asked again, twice, before it fails the test.
 */
export async function squeue(): Promise<Allocation[]> {
  let r = await onLoginNode("squeue -h -o '%i|%j|%T|%l'")
  for (let attempt = 2; r.code !== 0 && attempt <= 3; attempt++) {
    console.warn(`squeue failed (exit ${r.code}): ${r.stderr.slice(-500)} (asking again)`)
    r = await onLoginNode("squeue -h -o '%i|%j|%T|%l'")
  }
  if (r.code !== 0) throw new Error(`squeue failed three times (last exit ${r.code}): ${r.stderr}`)
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [id, name, state, timeLimit] = l.split('|')
      return { id: id!, name: name!, state: state!, timeLimit: timeLimit! }
    })
}

/** The allocations of a cluster (by its name as SkyPilot names them on Slurm). */
export async function allocationsOf(cluster: string): Promise<Allocation[]> {
  return (await squeue()).filter((a) => a.name === cluster || a.name.startsWith(`${cluster}-`))
}

/** Ends a cluster's allocation from outside SkyPilot, as an admin's scancel (or a node failure) would. */
export async function scancel(cluster: string): Promise<string[]> {
  const ids = (await allocationsOf(cluster)).map((a) => a.id)
  if (ids.length === 0) throw new Error(`no Slurm allocation of ${cluster} to cancel`)
  const r = await onLoginNode(`scancel ${ids.join(' ')}`)
  if (r.code !== 0) throw new Error(`scancel failed (exit ${r.code}): ${r.stderr}`)
  return ids
}

/**
 * Creates an empty file on the cluster (the login node and the compute node share one filesystem
 * here), as the Slurm user: a job that waits for it ends by itself once it exists.
 */
export async function touchOnCluster(file: string): Promise<void> {
  if (!/^[\w./-]+$/.test(file)) throw new Error(`not a plain path: ${file}`)
  const r = await onLoginNode(`touch ${file}`)
  if (r.code !== 0) throw new Error(`touch ${file} on the cluster failed (exit ${r.code}): ${r.stderr}`)
}

/**
 * SkyPilot's managed-jobs controller checks that the internet is up (`HEAD https://8.8.8.8`, then
 * `https://1.1.1.1`: backend_utils.async_check_network_connection) before each look at its job,
 * and while that fails it only logs "Network is not available" and waits: an API server without
 * outbound internet never records a managed job's end (it stays RUNNING). A real-sky server has
 * only loopback, so the tier gives a jobs server what a connected one has: those two addresses on
 * its loopback, answered by a small HTTPS server whose test CA the server trusts. Nothing else.
 *
 * The CA must be in the bundle when the server's processes start (aiohttp reads it once, at
 * import): `withStandInCa` bind-mounts a bundle holding it over the chroot's for as long as `start`
 * runs (the server's mount namespace keeps its copy), then `standInInternet` adds the addresses
 * and the responder in the running server's network namespace.
 */
export class InternetStandIn {
  /**
   * One CA for every run on this machine (under REAL_SKY_STATE): a server kept between runs
   * (REAL_TIER_KEEP_SERVERS) trusts the CA it started with, and the responder must serve a
   * certificate of that same CA.
   */
  readonly dir = path.join(process.env.REAL_SKY_STATE ?? '/var/lib/real-sky', 'real-tier-stand-in')

  constructor(private readonly chroot = path.join(process.env.REAL_SKY_HOME ?? '/var/cache/real-sky', 'root')) {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    if (fs.existsSync(path.join(this.dir, 'srv.crt'))) return
    const sh = (args: string[]) => spawnSyncChecked('openssl', args, this.dir)
    sh(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650', '-subj', '/CN=real-tier stand-in CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-addext', 'subjectKeyIdentifier=hash'])
    sh(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=8.8.8.8'])
    fs.writeFileSync(path.join(this.dir, 'ext.cnf'), 'subjectAltName=IP:8.8.8.8,IP:1.1.1.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n')
    sh(['x509', '-req', '-in', 'srv.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.crt', '-days', '3650', '-extfile', 'ext.cnf'])
  }

  private bundlePath(): string {
    return path.join(this.chroot, 'etc', 'ssl', 'certs', 'ca-certificates.crt')
  }

  /** Runs `start` (a server start) with the stand-in CA in the chroot's bundle, and only then. */
  async withStandInCa<T>(start: () => Promise<T>): Promise<T> {
    const target = this.bundlePath()
    // A mount a crashed run left behind is removed first: the bundle is then the chroot's own again.
    while (fs.readFileSync('/proc/mounts', 'utf8').includes(` ${target} `)) await run('umount', [target])
    const bundle = path.join(this.dir, 'bundle.crt')
    fs.writeFileSync(bundle, Buffer.concat([fs.readFileSync(target), fs.readFileSync(path.join(this.dir, 'ca.crt'))]))
    const mounted = await run('mount', ['--bind', bundle, target])
    if (mounted.code !== 0) throw new Error(`could not bind-mount the stand-in CA bundle: ${mounted.stderr}`)
    try {
      return await start()
    } finally {
      await run('umount', [target])
    }
  }

  /** The two addresses on the server's loopback, and a responder there that `server stop` stops with it. */
  async standIn(port: number): Promise<void> {
    const state = path.join(process.env.REAL_SKY_STATE ?? '/var/lib/real-sky', `server-${port}`, '.real-sky')
    const pid = /^server=(\d+)/m.exec(fs.readFileSync(path.join(state, 'pids'), 'utf8'))?.[1]
    const id = fs.readFileSync(path.join(state, 'id'), 'utf8').trim()
    if (!pid) throw new Error(`no server pid for port ${port}`)
    const net = `--net=/proc/${pid}/ns/net`
    for (const ip of ['8.8.8.8', '1.1.1.1']) {
      const r = await run('nsenter', [net, 'ip', 'addr', 'replace', `${ip}/32`, 'dev', 'lo'])
      if (r.code !== 0) throw new Error(`could not add ${ip} in the server's network namespace: ${r.stderr}`)
    }
    // An earlier run's responder (a kept server) is replaced.
    const marker = `REAL_TIER_STAND_IN=${port}`
    for (const p of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        if (fs.readFileSync(`/proc/${p}/environ`, 'utf8').split('\0').includes(marker)) process.kill(Number(p), 'SIGKILL')
      } catch {
        // gone, or not ours to read
      }
    }
    const responder = path.join(this.dir, 'responder.mjs')
    fs.writeFileSync(
      responder,
      "import https from 'node:https'\nimport fs from 'node:fs'\nconst [cert, key, ...hosts] = process.argv.slice(2)\nconst opts = { cert: fs.readFileSync(cert), key: fs.readFileSync(key) }\nlet up = 0\nfor (const host of hosts) https.createServer(opts, (req, res) => { res.writeHead(200); res.end() }).listen(443, host, () => { if (++up === hosts.length) console.log('ready') })\n"
    )
    // The server's marker in its environment: `server stop` stops the responder with the server.
    const child = spawn('nsenter', [net, '--', process.execPath, responder, path.join(this.dir, 'srv.crt'), path.join(this.dir, 'srv.key'), '8.8.8.8', '1.1.1.1'], {
      env: { PATH: process.env.PATH, REAL_SKY_SERVER_ID: id, REAL_TIER_STAND_IN: String(port) },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const ready = await new Promise<boolean>((resolve) => {
      child.stdout.on('data', (c: Buffer) => c.toString().includes('ready') && resolve(true))
      child.on('exit', () => resolve(false))
      setTimeout(() => resolve(false), 30_000).unref()
    })
    if (!ready) throw new Error(`the internet stand-in did not start in the network namespace of server ${port}`)
    child.stdout.destroy()
    child.stderr.destroy()
    child.unref()
  }
}

/** openssl's few calls at set-up: synchronous is simplest, and they take milliseconds. */
function spawnSyncChecked(command: string, args: string[], cwd: string): void {
  const r = spawnSync(command, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
  if (r.status !== 0) throw new Error(`${command} ${args[0]} failed: ${r.stderr?.toString() ?? ''}`)
}

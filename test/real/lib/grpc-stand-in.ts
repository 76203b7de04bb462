import fs from 'node:fs'
import path from 'node:path'
import { ROOT, run } from './real-sky.js'

/**
 * The real-sky chroot lacks grpcio, a dependency of SkyPilot's API server (the tool installs Debian's
 * builds of SkyPilot's dependencies, and Debian's python3-grpcio is not among them). SkyPilot names
 * grpc.RpcError and grpc.FutureTimeoutError in the except clause of its jobs controller's
 * job-status check (jobs/utils.py get_job_status), next to asyncio.TimeoutError: on this loaded
 * 2-core machine that check times out, the clause is evaluated, the lazy `import grpc` fails, and
 * the managed job ends FAILED_CONTROLLER ("No module named 'grpc'") instead of being checked again.
 * CI saw all four managed jobs of one run end so, whatever they did.
 *
 * So the real-jobs tier's API servers get a stand-in (test/real/py/grpc-stand-in): the exception
 * classes and StatusCode that SkyPilot names, nothing else. SkyPilot makes no gRPC call to a
 * Slurm cluster (CloudVmRayResourceHandle.is_grpc_enabled_with_flag is false for Slurm), so the
 * stand-in changes nothing but that: an error SkyPilot handles is handled. It goes into the server's
 * user site-packages (the server's HOME is its state folder), which Python puts on sys.path only if
 * it exists when the interpreter starts: it is written before the server starts, and the server
 * started keeping that folder. The cluster's nodes (the Slurm user's HOME) never see it.
 */
const STAND_IN = path.join(ROOT, 'test', 'real', 'py', 'grpc-stand-in', 'grpc')

function chrootPythons(): string[] {
  const lib = path.join(process.env.REAL_SKY_HOME ?? '/var/cache/real-sky', 'root', 'usr', 'lib')
  return fs.readdirSync(lib).filter((d) => /^python3\.\d+$/.test(d))
}

/**
 * Gives the state folder (HOME) of the real-sky server on `port` the stand-in, before it starts: the
 * server must then be started with `keepState`. A stopped server's folder is emptied first, as
 * `server start` would do without `keepState`; a running one (REAL_TIER_KEEP_SERVERS) keeps its state.
 */
export async function plantGrpcStandIn(serverScript: string, port: number): Promise<void> {
  const home = path.join(process.env.REAL_SKY_STATE ?? '/var/lib/real-sky', `server-${port}`)
  // `server status --port`: exit 3 when no server of the tool runs there.
  const stopped = (await run(serverScript, ['status', '--port', String(port)])).code === 3
  if (stopped) fs.rmSync(home, { recursive: true, force: true })
  for (const python of chrootPythons()) fs.cpSync(STAND_IN, path.join(home, '.local', 'lib', python, 'site-packages', 'grpc'), { recursive: true })
}

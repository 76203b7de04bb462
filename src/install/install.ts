import fs from 'node:fs'
import path from 'node:path'
import * as core from '@actions/core'
import { UserError, errorMessage } from '../errors.js'
import { getExecOutput } from '@actions/exec'
import { runCaptured } from '../process.js'
import { versionArgs } from '../sky/args.js'
import { cacheKey, installCommands, isInstallable, PINNED_SKYPILOT_VERSION, venvLayout, type InstallRequest } from './plan.js'

/** How `sky` was made available: the summary and the benchmarks report it. */
export type InstallSource = 'path' | 'tool-cache' | 'cache' | 'installed'

export interface SkyInstall {
  sky: string
  version: string
  source: InstallSource
  /** Set after a fresh install: the post step saves it to the cache. */
  cacheToSave?: { key: string; paths: string[] }
}

/** Finds an executable on PATH without starting a process. */
export function which(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue
    const candidate = path.join(dir, name)
    try {
      fs.accessSync(candidate, fs.constants.X_OK)
      if (fs.statSync(candidate).isFile()) return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

export function parseSkyVersion(stdout: string): string | undefined {
  return /version\s+([0-9][\w.+-]*)/i.exec(stdout)?.[1]
}

/**
 * Makes `sky` of the wanted version available, cheapest first: one already on PATH, a venv left in
 * the tool cache (self-hosted runners), the Actions cache, then a fresh install.
 */
export async function ensureSky(req: InstallRequest, env: NodeJS.ProcessEnv): Promise<SkyInstall> {
  // A venv this action made holds the wanted version: no `sky --version` (seconds of Python start-up)
  // to learn what is already known. An earlier step put it on PATH too, so it is looked for first.
  const venv = venvLayout(req)
  if (readMarker(venv.marker, req)) {
    core.info(`Using SkyPilot ${req.version} from ${venv.dir}.`)
    core.addPath(path.dirname(venv.sky))
    return { sky: venv.sky, version: req.version, source: 'tool-cache' }
  }

  const onPath = which('sky', env)
  if (onPath) {
    // A sky call like the others (src/process.ts), with a timeout: seconds on a quiet machine,
    // minutes when Python's import of SkyPilot competes for the CPU.
    const result = await runCaptured(onPath, versionArgs(), { env, timeoutMs: 5 * 60_000 })
    const found = parseSkyVersion(result.stdout + result.stderr)
    if (result.code === 0 && found && (found === req.version || req.version === 'nightly')) {
      core.info(`Using sky ${found} found on PATH at ${onPath}.`)
      return { sky: onPath, version: found, source: 'path' }
    }
    const what = found ? `is ${found}` : `did not say its version (sky --version exit ${result.code}: ${result.stderr.trim().split('\n').slice(-1)[0] || 'no output'})`
    core.info(`sky on PATH (${onPath}) ${what}; SkyPilot ${req.version} is wanted, so it goes into its own virtualenv.`)
  }

  if (!isInstallable(req.version)) {
    throw new UserError(
      `SkyPilot ${req.version} is a development build, not a release on PyPI, so the action cannot install a client of that version${req.from === 'server' ? " (it is the API server's version)" : ''}. ` +
        "Set 'skypilot-version' to a released version within one minor of the server's (e.g. " +
        `${PINNED_SKYPILOT_VERSION}), or put a sky of that same build on PATH before this step.`
    )
  }

  const python = which('python3', env) ?? which('python', env)
  if (!python) throw new UserError('SkyPilot needs Python 3.9 to 3.13 on the runner, and none was found: add actions/setup-python before this step.')
  const pythonVersion = await detectPythonVersion(python, env)
  const key = cacheKey(req, pythonVersion)

  if ((await restoreCache(key, venv.dir)) && readMarker(venv.marker, req)) {
    core.info(`Restored SkyPilot ${req.version} from the cache (${key}).`)
    core.addPath(path.dirname(venv.sky))
    return { sky: venv.sky, version: req.version, source: 'cache' }
  }

  const uv = which('uv', env)
  const commands = installCommands(req, { uv, python })
  await core.group(`Install SkyPilot ${req.version}${req.extras.length ? ` [${req.extras.join(',')}]` : ''} with ${uv ? 'uv' : 'pip'}`, async () => {
    fs.rmSync(venv.dir, { recursive: true, force: true })
    fs.mkdirSync(path.dirname(venv.dir), { recursive: true })
    for (const [command, ...args] of commands) {
      core.info(`$ ${[command, ...args].join(' ')}`)
      // pip and uv give up stalled downloads themselves (socket timeouts of 15 s and 30 s).
      const result = await getExecOutput(command!, args, { env: env as Record<string, string>, silent: true, ignoreReturnCode: true })
      if (result.exitCode !== 0) {
        throw new UserError(
          `Installing SkyPilot failed (${path.basename(command!)} exit ${result.exitCode}): ${result.stderr.trim().split('\n').slice(-5).join(' ')}. ` +
            "Check 'skypilot-version' and 'skypilot-extras', and that the runner can reach PyPI."
        )
      }
    }
  })
  fs.writeFileSync(venv.marker, JSON.stringify({ version: req.version, extras: req.extras, python: pythonVersion }))
  core.addPath(path.dirname(venv.sky))
  return { sky: venv.sky, version: req.version, source: 'installed', cacheToSave: { key, paths: [venv.dir] } }
}

function readMarker(file: string, req: InstallRequest): boolean {
  try {
    const marker = JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: string; extras?: string[] }
    return marker.version === req.version && JSON.stringify(marker.extras ?? []) === JSON.stringify(req.extras) && fs.existsSync(path.join(path.dirname(file), 'bin', 'sky'))
  } catch {
    return false
  }
}

async function detectPythonVersion(python: string, env: NodeJS.ProcessEnv): Promise<string> {
  const result = await getExecOutput(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { env: env as Record<string, string>, silent: true, ignoreReturnCode: true })
  const version = result.stdout.trim()
  if (result.exitCode !== 0 || !/^\d+\.\d+$/.test(version)) throw new UserError(`Could not run ${python} to learn its version: ${result.stderr.trim() || `exit ${result.exitCode}`}.`)
  const minor = Number(version.split('.')[1])
  if (version.startsWith('3.') && (minor < 9 || minor > 13)) {
    throw new UserError(`SkyPilot supports Python 3.9 to 3.13; the runner's python3 is ${version}. Add actions/setup-python with python-version: '3.11' before this step.`)
  }
  return version
}

/** Cache restore is best effort: any failure is a warning, never a failed job. */
async function restoreCache(key: string, dir: string): Promise<boolean> {
  try {
    // Loaded only on this path: the cache client is the heaviest module of the bundle.
    const cache = await import('@actions/cache')
    if (!cache.isFeatureAvailable()) return false
    return (await cache.restoreCache([dir], key)) !== undefined
  } catch (error) {
    core.warning(`Restoring SkyPilot from the cache failed; installing instead. (${errorMessage(error)})`)
    return false
  }
}

/** Saves a fresh install for the next run. Best effort: a warning at worst. */
export async function saveCache(key: string, paths: string[]): Promise<void> {
  try {
    const cache = await import('@actions/cache')
    if (!cache.isFeatureAvailable()) return
    // saveCache logs and returns -1 on a failed upload instead of throwing.
    const id = await cache.saveCache(paths, key)
    if (id === -1) core.warning(`Saving SkyPilot to the cache did not succeed (see above); the next run installs it again.`)
    else core.info(`Saved SkyPilot to the cache as ${key}.`)
  } catch (error) {
    core.warning(`Saving SkyPilot to the cache failed; the next run installs it again. (${errorMessage(error)})`)
  }
}

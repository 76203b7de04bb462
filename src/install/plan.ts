import path from 'node:path'

/** SkyPilot release the action is tested against; the default when no API server says otherwise. */
export const PINNED_SKYPILOT_VERSION = '0.14.1'

export interface InstallRequest {
  version: string
  /** Where the version came from: an input, the API server, or the pinned default. */
  from?: 'input' | 'server' | 'pinned'
  extras: string[]
  toolCache: string
  os: string
  arch: string
}

export interface VenvLayout {
  dir: string
  sky: string
  python: string
  /** Written after a successful install; a venv without it is incomplete. */
  marker: string
}

/** Package spec for pip/uv: nightlies are a separate package. */
export function packageSpec(version: string, extras: string[]): string {
  const nightly = version === 'nightly' || /^1\.0\.0\.dev\d{8}$/.test(version)
  const name = nightly ? 'skypilot-nightly' : 'skypilot'
  const withExtras = extras.length > 0 ? `${name}[${extras.join(',')}]` : name
  return version === 'nightly' ? withExtras : `${withExtras}==${version}`
}

/**
 * Whether pip can install this version: releases (0.14.1, 0.14.0rc1, 0.14.1.post1) and nightlies
 * (`nightly`, 1.0.0.devYYYYMMDD as skypilot-nightly). A server built from source reports a version
 * like 1.0.0-dev0, which no index holds.
 */
export function isInstallable(version: string): boolean {
  return version === 'nightly' || /^1\.0\.0\.dev\d{8}$/.test(version) || /^\d+\.\d+(\.\d+)?((a|b|rc)\d+)?(\.post\d+)?$/.test(version)
}

export function extrasKey(extras: string[]): string {
  return extras.length > 0 ? extras.join('-') : 'none'
}

export function venvLayout(req: InstallRequest): VenvLayout {
  const dir = path.join(req.toolCache, 'skypilot', req.version, extrasKey(req.extras), req.arch, 'venv')
  return { dir, sky: path.join(dir, 'bin', 'sky'), python: path.join(dir, 'bin', 'python'), marker: path.join(dir, '.skypilot-action.json') }
}

/** Small and stable: version, extras, Python, OS and architecture; `v1` lets the layout change. */
export function cacheKey(req: InstallRequest, pythonVersion: string): string {
  return `skypilot-v1-${req.os}-${req.arch}-py${pythonVersion}-${req.version}-${extrasKey(req.extras)}`
}

/**
 * The installer commands, as argument arrays. uv when present (faster, and `--seed` gives the venv
 * pip, which a local API server needs to build wheels); else python's venv and pip. Never `uvx sky`:
 * that is an unrelated package.
 */
export function installCommands(req: InstallRequest, tools: { uv?: string; python: string }): string[][] {
  const venv = venvLayout(req)
  const spec = packageSpec(req.version, req.extras)
  if (tools.uv) {
    return [
      [tools.uv, 'venv', '--seed', '--quiet', '--python', tools.python, venv.dir],
      [tools.uv, 'pip', 'install', '--quiet', '--python', venv.python, spec]
    ]
  }
  return [
    [tools.python, '-m', 'venv', venv.dir],
    [venv.python, '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', spec]
  ]
}

import { describe, it, expect } from 'vitest'
import { PINNED_SKYPILOT_VERSION, cacheKey, isInstallable, extrasKey, installCommands, packageSpec, venvLayout, type InstallRequest } from '../../src/install/plan.js'

const req: InstallRequest = { version: '0.14.1', extras: ['aws', 'kubernetes'], toolCache: '/opt/tc', os: 'linux', arch: 'x64' }

describe('packageSpec', () => {
  it('pins a release, with and without extras', () => {
    expect(packageSpec('0.14.1', [])).toBe('skypilot==0.14.1')
    expect(packageSpec('0.14.1', ['aws', 'gcp'])).toBe('skypilot[aws,gcp]==0.14.1')
  })

  it('uses skypilot-nightly for nightly (unpinned) and for dated dev versions (pinned)', () => {
    expect(packageSpec('nightly', [])).toBe('skypilot-nightly')
    expect(packageSpec('nightly', ['aws'])).toBe('skypilot-nightly[aws]')
    expect(packageSpec('1.0.0.dev20250101', ['aws'])).toBe('skypilot-nightly[aws]==1.0.0.dev20250101')
  })

  it('the pinned version is a release', () => {
    expect(PINNED_SKYPILOT_VERSION).toMatch(/^\d+\.\d+\.\d+$/)
  })
})

describe('cacheKey', () => {
  it('holds version, extras, python, os and arch', () => {
    const key = cacheKey(req, '3.12')
    expect(key).toBe('skypilot-v1-linux-x64-py3.12-0.14.1-aws-kubernetes')
    for (const part of ['0.14.1', 'aws-kubernetes', 'py3.12', 'linux', 'x64']) expect(key).toContain(part)
  })

  it('changes with each part', () => {
    const base = cacheKey(req, '3.12')
    expect(cacheKey({ ...req, version: '0.14.0' }, '3.12')).not.toBe(base)
    expect(cacheKey({ ...req, extras: ['aws'] }, '3.12')).not.toBe(base)
    expect(cacheKey(req, '3.11')).not.toBe(base)
    expect(cacheKey({ ...req, os: 'macos' }, '3.12')).not.toBe(base)
    expect(cacheKey({ ...req, arch: 'arm64' }, '3.12')).not.toBe(base)
  })

  it('names no extras as none', () => {
    expect(extrasKey([])).toBe('none')
    expect(cacheKey({ ...req, extras: [] }, '3.12')).toContain('-none')
  })
})

describe('venvLayout', () => {
  it('lives in the tool cache by version, extras and arch', () => {
    expect(venvLayout(req)).toEqual({
      dir: '/opt/tc/skypilot/0.14.1/aws-kubernetes/x64/venv',
      sky: '/opt/tc/skypilot/0.14.1/aws-kubernetes/x64/venv/bin/sky',
      python: '/opt/tc/skypilot/0.14.1/aws-kubernetes/x64/venv/bin/python',
      marker: '/opt/tc/skypilot/0.14.1/aws-kubernetes/x64/venv/.skypilot-action.json'
    })
  })
})

describe('installCommands', () => {
  const venv = '/opt/tc/skypilot/0.14.1/aws-kubernetes/x64/venv'

  it('with uv: uv venv --seed, then uv pip install --python <venv python>', () => {
    expect(installCommands(req, { uv: '/bin/uv', python: '/usr/bin/python3' })).toEqual([
      ['/bin/uv', 'venv', '--seed', '--quiet', '--python', '/usr/bin/python3', venv],
      ['/bin/uv', 'pip', 'install', '--quiet', '--python', `${venv}/bin/python`, 'skypilot[aws,kubernetes]==0.14.1']
    ])
  })

  it('without uv: python -m venv, then the venv pip', () => {
    expect(installCommands(req, { python: 'python3' })).toEqual([
      ['python3', '-m', 'venv', venv],
      [`${venv}/bin/python`, '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', 'skypilot[aws,kubernetes]==0.14.1']
    ])
  })

  it('never uses uvx', () => {
    for (const tools of [{ uv: 'uv', python: 'python3' }, { python: 'python3' }]) {
      for (const cmd of installCommands(req, tools)) {
        expect(cmd[0]).not.toMatch(/uvx$/)
        expect(cmd).not.toContain('uvx')
        expect(cmd).not.toContain('tool')
      }
    }
  })
})

describe('isInstallable', () => {
  it.each(['0.14.1', '0.14', '0.14.0rc1', '0.14.1.post1', 'nightly', '1.0.0.dev20260624'])('%s is on PyPI', (v) => expect(isInstallable(v)).toBe(true))
  // A server built from source reports 1.0.0-dev0: no index holds it.
  it.each(['1.0.0-dev0', '1.0.0.dev0', '1.0.0-dev20260624'])('%s is not', (v) => expect(isInstallable(v)).toBe(false))
})

// The release workflow, the real-tier CI job and the Dependabot configuration: GitHub's own parser
// and language service, then the properties a release people can pin depends on. Each property is
// a function that lists problems, run on the real file and on a broken copy that it must catch;
// where a step's script decides something (tag, version, notes, the major tag), the script itself
// runs, with a stand-in for `gh`.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { PINNED_SKYPILOT_VERSION } from '../../src/install/plan.js'
import {
  ROOT,
  type Step,
  type Workflow,
  filterPatternMatches,
  languageServiceProblems,
  needsOf,
  onEvents,
  parserErrors,
  runStepScript,
  shaPinProblems,
  steps,
  usesLines
} from './lib.js'

const RELEASE = '.github/workflows/release.yml'
const CI = '.github/workflows/ci.yml'
const DEPENDABOT = '.github/dependabot.yml'
const FAKE_GH_DIR = join(ROOT, 'test/workflows/fixtures/release')
const read = (rel: string): string => readFileSync(join(ROOT, rel), 'utf8')
const releaseText = read(RELEASE)
const ciText = read(CI)
const release = parseYaml(releaseText) as Workflow

/** A copy of a text with one change, which must apply (else the negative case proves nothing). */
function broken(text: string, from: string | RegExp, to: string): string {
  const out = text.replace(from, to)
  if (out === text) throw new Error(`the change ${String(from)} did not apply`)
  return out
}

/** The lines of one job of a workflow's text (for checks that need comments). */
function jobText(text: string, id: string): string {
  const lines = text.split('\n')
  const start = lines.findIndex((l) => l === `  ${id}:`)
  if (start < 0) throw new Error(`no job ${id}`)
  const end = lines.findIndex((l, i) => i > start && /^ {2}[\w-]+:/.test(l))
  return lines.slice(start, end < 0 ? undefined : end).join('\n')
}

function stepNamed(doc: Workflow, name: RegExp): Step | undefined {
  for (const job of Object.values(doc.jobs)) {
    const found = steps(job).find((s) => name.test(String(s.name ?? '')))
    if (found) return found
  }
  return undefined
}

function writers(doc: Workflow): string[] {
  return Object.entries(doc.jobs)
    .filter(([, job]) => job.permissions === 'write-all' || job.permissions?.contents === 'write')
    .map(([id]) => id)
}

// ---------------------------------------------------------------------------------------------
// The properties

/** The workflow runs only for a pushed tag of the form vX.Y.Z. */
function triggerProblems(doc: Workflow): string[] {
  const problems: string[] = []
  const on = onEvents(doc)
  if (Object.keys(on).join(',') !== 'push') problems.push(`runs on ${Object.keys(on).join(', ')}, not only on push`)
  const push = on.push ?? {}
  for (const key of Object.keys(push)) if (key !== 'tags') problems.push(`push filters on ${key}`)
  const tags: string[] = push.tags ?? []
  for (const tag of ['v1.2.3', 'v0.1.0', 'v10.20.30']) {
    if (!tags.some((p) => filterPatternMatches(p, tag))) problems.push(`pushing ${tag} releases nothing`)
  }
  for (const tag of ['v1', 'v1.2', 'v1.2.3-rc.1', 'v1.2.3.4', '1.2.3', 'va.b.c', 'v1.2.3/x', 'latest']) {
    if (tags.some((p) => filterPatternMatches(p, tag))) problems.push(`pushing ${tag} starts a release`)
  }
  return problems
}

/** Read-only by default; one job may write, only contents, and it runs no project code. */
function permissionProblems(doc: Workflow): string[] {
  const problems: string[] = []
  if (JSON.stringify(doc.permissions) !== JSON.stringify({ contents: 'read' })) {
    problems.push(`workflow permissions are ${JSON.stringify(doc.permissions)}, not {contents: read}`)
  }
  for (const [id, job] of Object.entries(doc.jobs)) {
    const perms = job.permissions
    if (perms === undefined) continue
    if (typeof perms === 'string') {
      problems.push(`job ${id} has permissions: ${perms}`)
      continue
    }
    for (const [scope, level] of Object.entries(perms)) {
      if (level === 'write' && scope !== 'contents') problems.push(`job ${id} has ${scope}: write`)
    }
  }
  const ids = writers(doc)
  if (ids.length !== 1) problems.push(`${ids.length} jobs can write, not one`)
  for (const id of ids) {
    // A token that can write must never sit next to code from npm or the build.
    for (const step of steps(doc.jobs[id]!)) {
      if (step.uses && !step.uses.startsWith('actions/checkout@')) problems.push(`job ${id} can write and uses ${step.uses}`)
      if (typeof step.run === 'string' && /\b(npm|npx|node|yarn|pnpm)\b/.test(step.run)) problems.push(`job ${id} can write and runs project code: ${step.run.trim().split('\n')[0]}`)
    }
  }
  return problems
}

/** Nothing is published unless a job it needs checked the tag, dist/ and the tests. */
function verificationProblems(doc: Workflow): string[] {
  const problems: string[] = []
  for (const id of writers(doc)) {
    const runs = needsOf(doc.jobs[id]!)
      .flatMap((need) => steps(doc.jobs[need] ?? {}))
      .map((s) => (typeof s.run === 'string' ? s.run : ''))
    const builtAndCompared = runs.some((r) => /npm run build/.test(r) && /git diff --exit-code/.test(r) && /dist\//.test(r) && /src\/task\/generated\//.test(r))
    if (!builtAndCompared) problems.push(`job ${id} publishes without comparing dist/ and src/task/generated/ with a fresh build`)
    if (!runs.some((r) => r.trim() === 'npm test')) problems.push(`job ${id} publishes without running the tests`)
    if (!runs.some((r) => /GITHUB_REF_NAME/.test(r) && /package\.json/.test(r))) problems.push(`job ${id} publishes without comparing the tag with package.json`)
  }
  return problems
}

// ---------------------------------------------------------------------------------------------
// Running the steps' scripts

let repo: string
let headSha: string

beforeAll(() => {
  // `git rev-parse HEAD` in the move step needs a repository: a throwaway one with one commit.
  repo = mkdtempSync(join(tmpdir(), 'release-repo-'))
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo, encoding: 'utf8' }).trim()
  git('init', '-q')
  git('commit', '-q', '--allow-empty', '-m', 'release commit')
  headSha = git('rev-parse', 'HEAD')
})

afterAll(() => rmSync(repo, { recursive: true, force: true }))

interface GhRun {
  code: number | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  /** Every call the script made to `gh`. */
  calls: string[]
}

/** Runs a step's script with the fake `gh` (and Node) on PATH, as a tag push of `tag` would. */
function runWithGh(step: Step | undefined, tag: string, o: { cwd?: string; env?: Record<string, string> } = {}): GhRun {
  if (typeof step?.run !== 'string') throw new Error('no such step')
  const log = join(mkdtempSync(join(tmpdir(), 'gh-log-')), 'calls')
  writeFileSync(log, '')
  const r = runStepScript(step.run, {
    cwd: o.cwd ?? repo,
    env: {
      PATH: `${FAKE_GH_DIR}:${dirname(process.execPath)}:/usr/bin:/bin`,
      GITHUB_REF_NAME: tag,
      GITHUB_REPOSITORY: 'skypilot-org/skypilot-action',
      FAKE_GH_LOG: log,
      ...o.env
    }
  })
  const calls = readFileSync(log, 'utf8').split('\n').filter(Boolean)
  rmSync(dirname(log), { recursive: true, force: true })
  return { ...r, calls }
}

const API = 'repos/skypilot-org/skypilot-action/git'

/** What moving the major tag does for a release of v1.3.0 after v1.2.0: problems if it is not that. */
function majorTagProblems(doc: Workflow): string[] {
  const step = stepNamed(doc, /major tag/i)
  const job = Object.entries(doc.jobs).find(([, j]) => steps(j).includes(step!))
  if (!step || !job) return ['no step moves the major tag']
  if (!writers(doc).includes(job[0])) return [`the major tag moves in job ${job[0]}, which cannot write`]
  const r = runWithGh(step, 'v1.3.0', { env: { FAKE_GH_TAGS: 'v1 v1.2.0 v1.3.0' } })
  const move = `api -X PATCH ${API}/refs/tags/v1 -f sha=${headSha} -F force=true`
  return r.code === 0 && r.calls.includes(move) ? [] : [`v1 was not force-moved to the release commit (exit ${r.code}; calls: ${r.calls.join(' | ')}; ${r.stderr})`]
}

// ---------------------------------------------------------------------------------------------

describe.each([RELEASE, CI])("%s passes GitHub's own checks", (rel) => {
  test('workflow-parser: no errors', async () => {
    expect(await parserErrors(rel, read(rel))).toEqual([])
  })

  test('languageservice: no errors or warnings', async () => {
    expect(await languageServiceProblems(`file:///repo/${rel}`, read(rel))).toEqual([])
  })
})

test("GitHub's checks catch a broken release workflow", async () => {
  const needs = broken(releaseText, 'needs: verify', 'needs: verfy')
  expect((await parserErrors(RELEASE, needs)).map((e) => e.message).join('\n')).toMatch(/verfy/)
  const context = broken(releaseText, '${{ github.token }}', '${{ githb.token }}')
  const problems = [...(await parserErrors(RELEASE, context)), ...(await languageServiceProblems(`file:///repo/${RELEASE}`, context))]
  expect(problems.map((p) => p.message).join('\n')).toMatch(/githb/)
})

describe('release workflow', () => {
  test('runs only for a pushed vX.Y.Z tag', () => {
    expect(triggerProblems(release)).toEqual([])
  })

  test('the trigger check catches a looser or a wider trigger', () => {
    const loose = parseYaml(broken(releaseText, "'v[0-9]+.[0-9]+.[0-9]+'", "'v*'")) as Workflow
    expect(triggerProblems(loose)).toEqual(expect.arrayContaining(['pushing v1 starts a release', 'pushing v1.2.3-rc.1 starts a release']))
    const dispatch = parseYaml(broken(releaseText, /^on:\n/m, 'on:\n  workflow_dispatch:\n')) as Workflow
    expect(triggerProblems(dispatch)).toContain('runs on workflow_dispatch, push, not only on push')
    const branches = parseYaml(broken(releaseText, '  push:\n', '  push:\n    branches: [main]\n')) as Workflow
    expect(triggerProblems(branches)).toContain('push filters on branches')
  })

  test('reads by default; only the publishing job writes, only contents, and it runs no project code', () => {
    expect(permissionProblems(release)).toEqual([])
    expect(writers(release)).toEqual(['release'])
  })

  test('the permission check catches a token that can do too much', () => {
    const top = parseYaml(broken(releaseText, /^permissions:\n {2}contents: read/m, 'permissions:\n  contents: write')) as Workflow
    expect(permissionProblems(top)).toContain('workflow permissions are {"contents":"write"}, not {contents: read}')
    const all = parseYaml(broken(releaseText, /permissions:\n {6}contents: write.*/, 'permissions: write-all')) as Workflow
    expect(permissionProblems(all)).toContain('job release has permissions: write-all')
    const verifyWrites = parseYaml(broken(releaseText, /(timeout-minutes: 20\n)/, '$1    permissions:\n      contents: write\n')) as Workflow
    expect(permissionProblems(verifyWrites)).toContain('2 jobs can write, not one')
    const buildsWithWrite = parseYaml(broken(releaseText, /(- id: notes\n)/, '- run: npm ci\n      $1')) as Workflow
    expect(permissionProblems(buildsWithWrite)).toContain('job release can write and runs project code: npm ci')
  })

  test('publishes only after a job that checks the tag, dist/ against a fresh build, and the tests', () => {
    expect(verificationProblems(release)).toEqual([])
    expect(needsOf(release.jobs.release!)).toEqual(['verify'])
  })

  test('the verification check catches a release that skips the dist/ check or the job that runs it', () => {
    const noDist = parseYaml(broken(releaseText, 'git diff --exit-code', 'git diff')) as Workflow
    expect(verificationProblems(noDist)).toEqual(['job release publishes without comparing dist/ and src/task/generated/ with a fresh build'])
    const noNeeds = parseYaml(broken(releaseText, '    needs: verify\n', '')) as Workflow
    expect(verificationProblems(noNeeds)).toHaveLength(3)
  })

  test('every third-party action is pinned to a full commit SHA with its version', () => {
    const pins = usesLines(releaseText)
    expect(pins.length).toBeGreaterThanOrEqual(3)
    expect(shaPinProblems(pins)).toEqual([])
  })

  test('the pin check catches a tag, a short SHA and a SHA without its version', () => {
    const lines = usesLines(
      [
        '      - uses: actions/checkout@v4',
        '      - uses: actions/checkout@08eba0b # v4.3.0',
        '      - uses: actions/checkout@08eba0b27e820071cde6df949e0beb9ba4906955',
        '      - uses: ./',
        '      - uses: actions/checkout@08eba0b27e820071cde6df949e0beb9ba4906955 # v4.3.0'
      ].join('\n')
    )
    expect(shaPinProblems(lines)).toEqual([
      'line 1: actions/checkout@v4 is not pinned to a full commit SHA',
      'line 2: actions/checkout@08eba0b is not pinned to a full commit SHA',
      "line 3: actions/checkout@08eba0b27e820071cde6df949e0beb9ba4906955 has no '# vX.Y.Z' comment saying which version the SHA is"
    ])
  })
})

describe('release steps, run as the runner runs them', () => {
  const check = stepNamed(release, /tag is vX\.Y\.Z/)
  let pkgDir: string
  beforeAll(() => {
    pkgDir = mkdtempSync(join(tmpdir(), 'release-pkg-'))
    writeFileSync(join(pkgDir, 'package.json'), JSON.stringify({ name: 'skypilot-action', version: '1.4.0', type: 'module' }))
  })
  afterAll(() => rmSync(pkgDir, { recursive: true, force: true }))

  test('a vX.Y.Z tag that matches package.json goes ahead', () => {
    const r = runWithGh(check, 'v1.4.0', { cwd: pkgDir })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('Releasing v1.4.0 (package.json 1.4.0).')
  })

  test.each(['v1.4', 'v1.4.0-rc.1', 'v01.4.0', '1.4.0'])('the tag %s is refused', (tag) => {
    const r = runWithGh(check, tag, { cwd: pkgDir })
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(`::error::Tag '${tag}' is not a release tag vX.Y.Z (e.g. v1.2.3): nothing is released.`)
  })

  test('a tag that differs from package.json is refused, saying what to set', () => {
    const r = runWithGh(check, 'v1.5.0', { cwd: pkgDir })
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('::error file=package.json::package.json says version 1.4.0 but the tag is v1.5.0. Set "version": "1.5.0"')
  })

  const notes = stepNamed(release, /Release notes/)
  test("the notes are the tag's CHANGELOG.md section, without its heading, the next section or the links", () => {
    const temp = mkdtempSync(join(tmpdir(), 'notes-'))
    try {
      const r = runWithGh(notes, 'v1.0.0', { cwd: ROOT, env: { RUNNER_TEMP: temp } })
      expect(r.code).toBe(0)
      expect(r.outputs.from).toBe('changelog')
      const text = readFileSync(join(temp, 'release-notes.md'), 'utf8')
      expect(text).toContain('The first release.')
      expect(text).toContain('### Added')
      expect(text).not.toMatch(/^## /m)
      expect(text).not.toMatch(/^\[1\.0\.0\]: /m)
    } finally {
      rmSync(temp, { recursive: true, force: true })
    }
  })

  test('a tag without a CHANGELOG.md section gets generated notes, with a warning', () => {
    const r = runWithGh(notes, 'v9.9.9', { cwd: ROOT })
    expect(r.code).toBe(0)
    expect(r.outputs.from).toBe('generated')
    expect(r.stdout).toContain("::warning file=CHANGELOG.md::CHANGELOG.md has no section '## [9.9.9]'")
  })

  const create = stepNamed(release, /Create the GitHub release/)
  test('the release is created from the existing tag with the CHANGELOG notes, or generated ones', () => {
    const fromChangelog = runWithGh(create, 'v1.0.0', { env: { NOTES_FROM: 'changelog', RUNNER_TEMP: '/rt' } })
    expect(fromChangelog.calls).toEqual(['release view v1.0.0', 'release create v1.0.0 --verify-tag --title v1.0.0 --notes-file /rt/release-notes.md'])
    const generated = runWithGh(create, 'v1.0.1', { env: { NOTES_FROM: 'generated' } })
    expect(generated.calls).toEqual(['release view v1.0.1', 'release create v1.0.1 --verify-tag --title v1.0.1 --generate-notes'])
  })

  test('a re-run leaves an existing release as it is', () => {
    const r = runWithGh(create, 'v1.0.0', { env: { NOTES_FROM: 'changelog', FAKE_GH_RELEASES: 'v1.0.0' } })
    expect(r.code).toBe(0)
    expect(r.calls).toEqual(['release view v1.0.0'])
    expect(r.stdout).toContain('::notice::Release v1.0.0 exists already')
  })

  const move = stepNamed(release, /major tag/)
  test('the major tag is force-moved to the release commit', () => {
    expect(majorTagProblems(release)).toEqual([])
  })

  test('the first release of a major creates its tag', () => {
    const r = runWithGh(move, 'v2.0.0', { env: { FAKE_GH_TAGS: 'v1 v1.3.0 v2.0.0' } })
    expect(r.code).toBe(0)
    expect(r.calls).toContain(`api -X POST ${API}/refs -f ref=refs/tags/v2 -f sha=${headSha}`)
    expect(r.stdout).toContain(`::notice::v2 now points at v2.0.0 (${headSha}).`)
  })

  test('a fix to an older line does not pull the major tag back', () => {
    const r = runWithGh(move, 'v1.2.4', { env: { FAKE_GH_TAGS: 'v1 v1.2.3 v1.2.4 v1.3.0 v10.0.0' } })
    expect(r.code).toBe(0)
    expect(r.calls.filter((c) => / -X (PATCH|POST) /.test(c))).toEqual([])
    expect(r.stdout).toContain('::notice::v1 stays on v1.3.0, which is newer than v1.2.4.')
  })

  test('when the tags cannot be listed, nothing moves and the step fails', () => {
    const r = runWithGh(move, 'v1.2.4', { env: { FAKE_GH_TAGS: 'v1 v1.2.4 v1.3.0', FAKE_GH_FAIL: 'matching-refs' } })
    expect(r.code).not.toBe(0)
    expect(r.calls.filter((c) => / -X (PATCH|POST) /.test(c))).toEqual([])
  })

  test('a refused move fails the step, saying how to move the tag by hand', () => {
    const r = runWithGh(move, 'v1.3.0', { env: { FAKE_GH_TAGS: 'v1 v1.3.0', FAKE_GH_FAIL: '-X PATCH' } })
    expect(r.code).toBe(1)
    expect(r.stdout).toContain("::error::The release v1.3.0 is out, but v1 could not be moved to it. Move it by hand: git tag -f v1 'v1.3.0^{commit}' && git push -f origin v1")
  })

  test('the major-tag check catches a workflow that does not move it, or does not force it', () => {
    const without = parseYaml(broken(releaseText, /\n {6}- name: Move the major tag[\s\S]*$/, '\n')) as Workflow
    expect(majorTagProblems(without)).toEqual(['no step moves the major tag'])
    const unforced = parseYaml(broken(releaseText, ' -F force=true', '')) as Workflow
    expect(majorTagProblems(unforced)[0]).toMatch(/^v1 was not force-moved to the release commit/)
  })
})

describe('ci.yml real-tier job', () => {
  const ci = parseYaml(ciText) as Workflow
  const job = ci.jobs['real-tier']!
  const pinned = steps(job).find((s) => s.id === 'pinned')

  test('installs the version src/install/plan.ts pins, read from the file', () => {
    const r = runStepScript(String(pinned?.run), { cwd: ROOT })
    expect(r.code).toBe(0)
    expect(r.outputs.version).toBe(PINNED_SKYPILOT_VERSION)
  })

  test('fails with an annotation when the pin cannot be found', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pin-'))
    try {
      mkdirSync(join(dir, 'src/install'), { recursive: true })
      writeFileSync(join(dir, 'src/install/plan.ts'), "export const SKYPILOT_VERSION = '0.14.1'\n")
      const r = runStepScript(String(pinned?.run), { cwd: dir })
      expect(r.code).toBe(1)
      expect(r.stdout).toContain('::error file=src/install/plan.ts::No "export const PINNED_SKYPILOT_VERSION')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('REAL_SKY_VENV names the virtualenv where pip installed skypilot==<pin>', () => {
    const install = steps(job).find((s) => /pip install/.test(String(s.run)))
    expect(install?.env?.SKYPILOT_VERSION).toBe('${{ steps.pinned.outputs.version }}')
    // A stand-in python: `-m venv DIR` makes DIR/bin/{python,sky}; any other call is logged.
    const dir = mkdtempSync(join(tmpdir(), 'venv-'))
    try {
      const fake = join(dir, 'python')
      writeFileSync(
        fake,
        '#!/bin/bash\nif [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin"; cp "$0" "$3/bin/python"; printf \'#!/bin/bash\\necho "skypilot, version X"\\n\' > "$3/bin/sky"; chmod +x "$3/bin/sky"; exit 0; fi\necho "$0 $*" >> "$PY_LOG"\n'
      )
      chmodSync(fake, 0o755)
      const temp = join(dir, 'temp')
      mkdirSync(temp)
      const r = runStepScript(String(install?.run), { cwd: ROOT, env: { PATH: `${dir}:/usr/bin:/bin`, RUNNER_TEMP: temp, PY_LOG: join(dir, 'log'), SKYPILOT_VERSION: PINNED_SKYPILOT_VERSION } })
      expect(r.code, r.stderr).toBe(0)
      const venv = r.env.REAL_SKY_VENV!
      expect(venv.startsWith(temp)).toBe(true)
      expect(readFileSync(join(dir, 'log'), 'utf8')).toContain(`${venv}/bin/python -m pip install --disable-pip-version-check skypilot==${PINNED_SKYPILOT_VERSION}`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    // The same variable the real tier reads (test/real/lib/real-sky.ts).
    expect(read('test/real/lib/real-sky.ts')).toContain('process.env.REAL_SKY_VENV')
  })

  test("Python 3.11 with pip's cache keyed on the pin, on a hosted Ubuntu runner, then npm ci and npm run test:real", () => {
    expect(job['runs-on']).toBe('ubuntu-latest')
    const python = steps(job).find((s) => s.uses?.startsWith('actions/setup-python@'))
    expect(python?.with).toEqual({ 'python-version': '3.11', cache: 'pip', 'cache-dependency-path': 'src/install/plan.ts' })
    expect(steps(job).slice(-2).map((s) => s.run)).toEqual(['npm ci --no-audit --no-fund', 'npm run test:real'])
  })

  test('its actions are pinned to full commit SHAs, the same ones the release workflow uses', () => {
    const pins = usesLines(jobText(ciText, 'real-tier'))
    expect(shaPinProblems(pins)).toEqual([])
    const sha = new Map(usesLines(releaseText).map((p) => [p.uses.split('@')[0], p.uses]))
    for (const p of pins) if (sha.has(p.uses.split('@')[0])) expect(p.uses).toBe(sha.get(p.uses.split('@')[0]))
  })
})

// ---------------------------------------------------------------------------------------------
// Dependabot. No package with Dependabot's JSON schema works offline (the one on npm downloads it
// from SchemaStore at run time), so the structure is checked against the keys GitHub documents
// for dependabot.yml: unknown keys are errors, and the values this file uses are typed.

const anything = z.unknown().optional()
const group = z
  .strictObject({
    'applies-to': z.enum(['version-updates', 'security-updates']).optional(),
    'dependency-type': z.enum(['development', 'production']).optional(),
    patterns: z.array(z.string().min(1)).min(1).optional(),
    'exclude-patterns': z.array(z.string().min(1)).min(1).optional(),
    'update-types': z.array(z.enum(['major', 'minor', 'patch'])).min(1).optional(),
    'group-by': anything
  })
  .refine((g) => g['dependency-type'] || g.patterns || g['exclude-patterns'] || g['update-types'], 'a group needs dependency-type, patterns, exclude-patterns or update-types')
const update = z
  .strictObject({
    'package-ecosystem': z.enum([
      'bun', 'bundler', 'cargo', 'composer', 'devcontainers', 'docker', 'docker-compose', 'dotnet-sdk', 'elm', 'gitsubmodule',
      'github-actions', 'gomod', 'gradle', 'helm', 'maven', 'mix', 'npm', 'nuget', 'pip', 'pub', 'swift', 'terraform', 'uv'
    ]),
    directory: z.string().startsWith('/').optional(),
    directories: z.array(z.string().startsWith('/')).min(1).optional(),
    schedule: z.strictObject({
      interval: z.enum(['daily', 'weekly', 'monthly', 'quarterly', 'semiannually', 'yearly', 'cron']),
      day: z.enum(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']).optional(),
      time: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/).optional(),
      timezone: z.string().optional(),
      cronjob: z.string().optional()
    }),
    cooldown: z
      .strictObject({
        'default-days': z.int().min(0).optional(),
        'semver-major-days': z.int().min(0).optional(),
        'semver-minor-days': z.int().min(0).optional(),
        'semver-patch-days': z.int().min(0).optional(),
        include: z.array(z.string()).max(150).optional(),
        exclude: z.array(z.string()).max(150).optional()
      })
      .optional(),
    groups: z.record(z.string(), group).optional(),
    ignore: z
      .array(
        z.strictObject({
          'dependency-name': z.string().optional(),
          versions: z.array(z.string()).min(1).optional(),
          'update-types': z.array(z.enum(['version-update:semver-major', 'version-update:semver-minor', 'version-update:semver-patch'])).min(1).optional()
        })
      )
      .optional(),
    allow: anything,
    assignees: anything,
    'commit-message': anything,
    'exclude-paths': anything,
    'insecure-external-code-execution': anything,
    labels: anything,
    milestone: anything,
    'multi-ecosystem-group': anything,
    'open-pull-requests-limit': anything,
    patterns: anything,
    'pull-request-branch-name': anything,
    'rebase-strategy': anything,
    registries: anything,
    'target-branch': anything,
    vendor: anything,
    'versioning-strategy': anything
  })
  .refine((u) => (u.directory === undefined) !== (u.directories === undefined), 'give exactly one of directory and directories')
const dependabotSchema = z.strictObject({
  version: z.literal(2),
  updates: z.array(update).min(1),
  registries: anything,
  'enable-beta-ecosystems': anything,
  'multi-ecosystem-groups': anything
})

function dependabotProblems(text: string): string[] {
  const r = dependabotSchema.safeParse(parseYaml(text))
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
}

describe('dependabot.yml', () => {
  const text = read(DEPENDABOT)
  const config = parseYaml(text) as z.infer<typeof dependabotSchema>
  const npm = config.updates.find((u) => u['package-ecosystem'] === 'npm')

  test("has the structure and keys GitHub documents", () => {
    expect(dependabotProblems(text)).toEqual([])
  })

  test('the structure check catches a misspelt key, a wrong value, a wrong version and a missing directory', () => {
    expect(dependabotProblems(broken(text, 'cooldown:', 'cooldwon:'))[0]).toMatch(/cooldwon/)
    expect(dependabotProblems(broken(text, 'interval: weekly', 'interval: fortnightly'))[0]).toMatch(/^updates\.0\.schedule\.interval/)
    expect(dependabotProblems(broken(text, 'version: 2', 'version: 1'))[0]).toMatch(/^version/)
    expect(dependabotProblems(broken(text, '    directory: /\n', ''))).toEqual(['updates.0: give exactly one of directory and directories'])
    expect(dependabotProblems(broken(text, 'dependency-type: development\n        update-types: [minor, patch]', 'applies-to: version-updates'))).toEqual([
      'updates.0.groups.dev-tooling: a group needs dependency-type, patterns, exclude-patterns or update-types'
    ])
  })

  test('checks npm and the workflows’ actions weekly, from the repository root', () => {
    expect(config.updates.map((u) => [u['package-ecosystem'], u.directory, u.schedule.interval])).toEqual([
      ['npm', '/', 'weekly'],
      ['github-actions', '/', 'weekly']
    ])
  })

  test('groups the dev tooling, so its minor and patch updates come in one pull request', () => {
    const tooling = Object.values(npm?.groups ?? {}).find((g) => g['dependency-type'] === 'development')
    expect(tooling?.['update-types']).toEqual(['minor', 'patch'])
  })

  test('lets TypeScript majors through: the bundler (esbuild) does not build through it, and CI type-checks each update', () => {
    expect(npm?.ignore ?? []).not.toContainEqual(expect.objectContaining({ 'dependency-name': 'typescript' }))
    expect(JSON.parse(read('package.json')).devDependencies).toHaveProperty('esbuild')
    expect(JSON.parse(read('package.json')).devDependencies).not.toHaveProperty('@vercel/ncc')
  })
})

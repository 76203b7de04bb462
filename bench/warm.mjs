// 4. Warm start: a restored SkyPilot virtualenv in the tool cache and no `sky` on PATH must start no
// installer process; and the cold decision (dry run) must plan the uv / pip commands.
import fs from 'node:fs'
import path from 'node:path'
import { createFakeSky } from '../test/fake-sky/index.mjs'
import { RUNS, fmtMs, median, nodeBin, runStep, spread, tmpDir, writeExecutable } from './lib/common.mjs'
import { skyShim } from './lib/sky-shim.mjs'
import { TINY_TASK } from './overhead.mjs'

const INSTALLERS = ['uv', 'pip', 'pip3', 'python3', 'python']

/** Spies named like the installers, first on PATH: each logs its argv and fails. */
function spies(dir, log, names = INSTALLERS) {
  fs.mkdirSync(dir, { recursive: true })
  for (const name of names) writeExecutable(path.join(dir, name), `#!/bin/sh\necho "${name} $*" >> '${log}'\nexit 97\n`)
  return dir
}

/** A PATH with the spies and the runner's node first, then system dirs that hold no `sky`. */
function spyPath(spyDir) {
  const dirs = [spyDir, nodeBin(), '/usr/local/bin', '/usr/bin', '/bin']
  for (const d of dirs.slice(1)) if (fs.existsSync(path.join(d, 'sky'))) throw new Error(`warm: ${d}/sky exists; the benchmark needs a PATH without sky`)
  return dirs.join(path.delimiter)
}

const venvDir = (toolCache, version, extras) => path.join(toolCache, 'skypilot', version, extras.length ? extras.join('-') : 'none', 'x64', 'venv')

export async function benchWarm({ log }) {
  const root = tmpDir('warm')
  try {
    const spyLog = path.join(root, 'spies.log')
    fs.writeFileSync(spyLog, '')
    const spyDir = spies(path.join(root, 'spies'), spyLog)
    const noUvDir = spies(path.join(root, 'spies-no-uv'), spyLog, INSTALLERS.filter((n) => n !== 'uv'))

    // Cold decision first: no venv, no sky, dry run. It also says which version/extras the venv needs.
    const dry = async (dir) => {
      const r = await runStep('main', { inputs: { 'task-yaml': TINY_TASK, 'dry-run': 'true' }, env: { PATH: spyPath(dir) }, toolCache: path.join(root, 'empty-toolcache'), expectCode: 0 })
      return r.stdout.split('\n').filter((l) => /\b(uv|pip|venv)\b/.test(l) && !l.startsWith('::') && !l.trim().startsWith('#')).map((l) => l.trim())
    }
    const withUv = await dry(spyDir)
    const withPip = await dry(noUvDir)
    const coldSpawned = fs.readFileSync(spyLog, 'utf8').split('\n').filter(Boolean)
    log(`  dry run with uv:\n    ${withUv.join('\n    ')}\n  dry run without uv:\n    ${withPip.join('\n    ')}`)
    const spec = /(skypilot(?:-nightly)?(?:\[([^\]]*)\])?)==([\w.+-]+)/.exec(withUv.join('\n'))
    const version = spec?.[3] ?? '0.14.1'
    const extras = spec?.[2] ? spec[2].split(',') : []
    const coldOk = withUv.some((l) => /uv venv --seed/.test(l)) && withUv.some((l) => /uv pip install/.test(l)) && withPip.some((l) => /-m venv/.test(l)) && withPip.some((l) => /-m pip install/.test(l))

    // Warm: the venv "restored" in the tool cache, with the fake as bin/sky.
    const toolCache = path.join(root, 'toolcache')
    const venv = venvDir(toolCache, version, extras)
    const shim = skyShim({ dir: path.join(venv, 'bin') })
    fs.writeFileSync(path.join(venv, '.skypilot-action.json'), JSON.stringify({ version, extras, python: '3.11' }))
    const walls = []
    const own = []
    let source = ''
    for (let i = 0; i < RUNS; i++) {
      const s = createFakeSky()
      shim.reset()
      try {
        const env = { FAKE_SKY_HOME: s.home, PATH: spyPath(spyDir) }
        const main = await runStep('main', { inputs: { 'task-yaml': TINY_TASK }, env, toolCache, expectCode: 0 })
        const post = await runStep('post', { inputs: { 'task-yaml': TINY_TASK }, env, toolCache, runnerTemp: main.runnerTemp, state: main.state, expectCode: 0 })
        if (main.outputs.status !== 'SUCCEEDED') throw new Error(`warm: main status ${main.outputs.status}`)
        source = /Using SkyPilot [^\n]* from [^\n]*/.exec(main.stdout)?.[0] ?? '(source line not found)'
        const skyMs = shim.entries().reduce((t, e) => t + e.ms, 0)
        walls.push(main.wallMs + post.wallMs)
        own.push(main.wallMs + post.wallMs - skyMs)
        log(`  warm run ${i + 1}/${RUNS}: main ${main.wallMs.toFixed(0)} ms + post ${post.wallMs.toFixed(0)} ms, sky processes ${skyMs.toFixed(0)} ms`)
      } finally {
        s.cleanup()
      }
    }
    const spawned = fs.readFileSync(spyLog, 'utf8').split('\n').filter(Boolean).slice(coldSpawned.length)
    log(`  ${source.replace(root, '<tmp>')}`)
    return [
      { figure: 'Warm start (venv in tool cache, no sky on PATH): installer processes run', measured: `${spawned.length}${spawned.length ? ` (${spawned.slice(0, 3).join('; ')})` : ''}`, goal: '0', met: spawned.length === 0 },
      { figure: '  warm start main + post wall / own work (minus sky), medians', measured: `${fmtMs(median(walls))} / ${fmtMs(median(own))} ${spread(own)}`, goal: 'info', met: null },
      {
        figure: 'Cold decision (dry run, no venv, no sky): plan lists the installer commands',
        measured: `uv: \`${short(withUv)}\`; no uv: \`${short(withPip)}\`; processes run: ${coldSpawned.length}`,
        goal: 'uv venv + uv pip install; else venv + pip',
        met: coldOk && coldSpawned.length === 0
      }
    ]
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
}

const short = (lines) => lines.map((l) => l.replace(/^\$ /, '').replace(/\S*\/venv\b/g, '<venv>').replace(/(^|\s)\/\S*\/(uv|python3?|pip3?)\b/g, '$1$2').replace(/ --quiet| --disable-pip-version-check| --no-input/g, '')).join(' && ')

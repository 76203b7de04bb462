import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { ROOT } from '../helpers/runner.js'

describe('README', () => {
  it('documents every input with its default and every output, as action.yml declares them', () => {
    // Exits 1 when the tables differ from action.yml.
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'readme-tables.mjs'), '--check'], { stdio: 'pipe' })
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
    const action = parse(fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8'))
    for (const name of Object.keys(action.inputs)) expect(readme).toContain(`| \`${name}\` |`)
    for (const name of Object.keys(action.outputs)) expect(readme).toContain(`| \`${name}\` |`)
  })

  it('opens with the set-up commands of a fresh clone', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
    const firstBlock = readme.slice(readme.indexOf('```sh'), readme.indexOf('```', readme.indexOf('```sh') + 5))
    expect(firstBlock).toContain('npm ci')
    expect(firstBlock).toContain('npm run local')
    expect(firstBlock).toContain('npm test')
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
    expect(pkg.scripts.local).toBeTruthy()
    expect(pkg.scripts.test).toContain('vitest')
  })

  it('npm run local runs the built action in dry-run on an example task, with no SkyPilot installed', () => {
    const env = { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' }
    const out = execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'run-local.mjs')], { env, cwd: ROOT, encoding: 'utf8' })
    expect(out).toContain('status=DRY_RUN')
    expect(out).toMatch(/sky launch -y -c \S+ --down -i 10 --env DATA_BUCKET_NAME=local-demo-bucket/)
    expect(out).toContain('SkyPilot dry run: valid')
  })

  it("tests run on the runner's Node major (24, from node_modules), as the README says", () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24)
    const action = parse(fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8'))
    expect(action.runs.using).toBe('node24')
  })
})

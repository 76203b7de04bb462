#!/usr/bin/env node
// Builds what the runner runs: the generated task validators, then one ncc bundle per entry
// (dist/main for the step, dist/post for the post step). Deterministic, so CI can check that the
// committed dist/ is exactly what this makes.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')
const ncc = path.join(root, 'node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js')

function run(args, what) {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) {
    console.error(`build: ${what} failed`)
    process.exit(r.status ?? 1)
  }
}

run([path.join(root, 'scripts', 'gen-task-schema.mjs')], 'task schema generation')
for (const entry of ['main', 'post']) {
  const out = path.join(root, 'dist', entry)
  fs.rmSync(out, { recursive: true, force: true })
  run([ncc, 'build', `src/${entry}.ts`, '-o', `dist/${entry}`, '--minify', '--target', 'es2022', '--license', 'licenses.txt', '--quiet'], `ncc ${entry}`)
}

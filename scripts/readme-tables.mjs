#!/usr/bin/env node
// Keeps README.md's tables of inputs and outputs equal to action.yml (one source of truth).
//   node scripts/readme-tables.mjs          rewrite the tables in README.md
//   node scripts/readme-tables.mjs --check  exit 1 if README.md is out of date
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')
const action = parse(fs.readFileSync(path.join(root, 'action.yml'), 'utf8'))
const readmePath = path.join(root, 'README.md')
const flat = (text) => String(text).replace(/\s+/g, ' ').trim().replace(/\|/g, '\\|')

export function tables() {
  const inputs = ['| input | default | what it does |', '|---|---|---|']
  for (const [name, spec] of Object.entries(action.inputs)) {
    const def = spec.default === undefined || spec.default === '' ? '' : `\`${spec.default}\``
    inputs.push(`| \`${name}\` | ${def} | ${flat(spec.description)} |`)
  }
  const outputs = ['| output | what it holds |', '|---|---|']
  for (const [name, spec] of Object.entries(action.outputs)) outputs.push(`| \`${name}\` | ${flat(spec.description)} |`)
  return { inputs: inputs.join('\n'), outputs: outputs.join('\n') }
}

function replaceBetween(text, marker, body) {
  const start = `<!-- ${marker}:start -->`
  const end = `<!-- ${marker}:end -->`
  const i = text.indexOf(start)
  const j = text.indexOf(end)
  if (i < 0 || j < i) throw new Error(`README.md lacks the ${start} ... ${end} markers`)
  return `${text.slice(0, i + start.length)}\n${body}\n${text.slice(j)}`
}

const readme = fs.readFileSync(readmePath, 'utf8')
const t = tables()
const updated = replaceBetween(replaceBetween(readme, 'inputs', t.inputs), 'outputs', t.outputs)
if (process.argv.includes('--check')) {
  if (updated !== readme) {
    console.error('README.md tables differ from action.yml: run `node scripts/readme-tables.mjs`')
    process.exit(1)
  }
} else if (updated !== readme) {
  fs.writeFileSync(readmePath, updated)
  console.log('README.md tables updated from action.yml')
}

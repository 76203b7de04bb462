#!/usr/bin/env node
// Generates src/task/generated/validators.js: standalone Ajv validators for
// SkyPilot's task, resources, storage, service and volume-mount schemas, so
// the action never compiles a JSON schema at run time.
//
// SkyPilot validates every one of these schemas with a jsonschema
// Draft7Validator extended with `case_insensitive_enum` (sky/utils/validator.py),
// whatever `$schema` says. So do we: `$schema` is stripped and one draft-07 Ajv
// instance compiles them all. (The keywords the schemas use mean the same in
// draft-07 and 2020-12: no $ref, $defs, prefixItems or dependent*.)
//
// Python-only inline flags such as `(?i:aws|gcp)` are rewritten into plain
// JavaScript (`(?:[aA][wW][sS]|...)`) because Node < 23 cannot compile them.
//
// Deterministic: the same schema file gives byte-identical output.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import Ajv, { _ } from 'ajv'
import standaloneCode from 'ajv/dist/standalone/index.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const schemaFile = join(root, 'src/task/sky-task-schema.json')
const outDir = join(root, 'src/task/generated')

/** Validator export name for each schema in sky-task-schema.json. */
export const EXPORTS = {
  task_schema: 'validateTaskSchema',
  resources_schema: 'validateResourcesSchema',
  storage_schema: 'validateStorageSchema',
  service_schema: 'validateServiceSchema',
  volume_mount_schema: 'validateVolumeMountSchema'
}

/**
 * Rewrites Python inline case-insensitive groups `(?i:...)` into JavaScript.
 * Letters inside the group become `[xX]` classes (or gain their other case
 * inside a character class). Any other Python-only construct is refused so
 * that a new one in a future schema fails the build instead of the run.
 */
export function pythonPatternToJs(pattern) {
  let out = ''
  let i = 0
  // Stack of open groups: true when the group is case-insensitive.
  const groups = []
  const insensitive = () => groups.includes(true)
  const swapCase = (ch) => (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase())
  while (i < pattern.length) {
    const c = pattern[i]
    if (c === '\\') {
      out += pattern.slice(i, i + 2)
      i += 2
      continue
    }
    if (c === '[') {
      // Read the whole class: [^...], a leading ] is literal, escapes kept.
      let j = i + 1
      if (pattern[j] === '^') j++
      if (pattern[j] === ']') j++
      while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1
      const open = pattern[i + 1] === '^' ? '[^' : '['
      const body = pattern.slice(i + open.length, j)
      if (insensitive() && /[a-zA-Z]/.test(body)) {
        // Same class with the letters' other case added: [a-c] -> [a-cA-C].
        let swapped = ''
        for (let k = 0; k < body.length; k++) {
          if (body[k] === '\\') { swapped += body.slice(k, k + 2); k++; continue }
          swapped += /[a-zA-Z]/.test(body[k]) ? swapCase(body[k]) : body[k]
        }
        out += open + body + swapped + ']'
      } else {
        out += pattern.slice(i, j + 1)
      }
      i = j + 1
      continue
    }
    if (c === '(') {
      if (pattern.startsWith('(?i:', i)) {
        groups.push(true)
        out += '(?:'
        i += 4
        continue
      }
      if (pattern[i + 1] === '?') {
        const next = pattern[i + 2]
        const lookbehind = next === '<' && (pattern[i + 3] === '=' || pattern[i + 3] === '!')
        if (next !== ':' && next !== '=' && next !== '!' && !lookbehind) {
          throw new Error(`Unsupported Python regex construct at ${i} in ${JSON.stringify(pattern)}`)
        }
      }
      groups.push(false)
      out += c
      i++
      continue
    }
    if (c === ')') {
      groups.pop()
      out += c
      i++
      continue
    }
    if (/[a-zA-Z]/.test(c) && insensitive()) {
      out += `[${c.toLowerCase()}${c.toUpperCase()}]`
      i++
      continue
    }
    out += c
    i++
  }
  return out
}

/** Deep copy of a schema with `$schema` removed and patterns made JS-safe. */
export function prepareSchema(node) {
  if (Array.isArray(node)) return node.map(prepareSchema)
  if (node === null || typeof node !== 'object') return node
  const copy = {}
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema') continue
    if (key === 'pattern' && typeof value === 'string') {
      copy[key] = pythonPatternToJs(value)
      new RegExp(copy[key], 'u') // fail the build, not the run
    } else if (key === 'patternProperties' && value && typeof value === 'object') {
      copy[key] = Object.fromEntries(
        Object.entries(value).map(([p, s]) => [pythonPatternToJs(p), prepareSchema(s)])
      )
    } else if (key === 'properties' && value && typeof value === 'object') {
      copy[key] = Object.fromEntries(Object.entries(value).map(([p, s]) => [p, prepareSchema(s)]))
    } else {
      copy[key] = prepareSchema(value)
    }
  }
  return copy
}

/** SkyPilot's own keyword: a string enum compared without case. */
const caseInsensitiveEnum = {
  keyword: 'case_insensitive_enum',
  type: 'string',
  schemaType: 'array',
  error: {
    message: ({ schema }) => _`${'must be one of (any case): ' + schema.join(', ')}`,
    params: ({ schemaCode }) => _`{allowedValues: ${schemaCode}}`
  },
  code(cxt) {
    // schemaCode is the enum array itself (standalone keeps it as a const).
    cxt.fail(_`!${cxt.schemaCode}.some((v) => v.toLowerCase() === ${cxt.data}.toLowerCase())`)
  }
}

export function generate(schemaText) {
  const schemas = JSON.parse(schemaText)
  const ajv = new Ajv({
    allErrors: true,
    verbose: true, // errors carry parentSchema: the keys an object accepts, for "Did you mean"
    strict: false,
    code: { source: true, esm: true, lines: true, optimize: 1 },
    keywords: [caseInsensitiveEnum]
  })
  const refs = {}
  for (const [key, name] of Object.entries(EXPORTS)) {
    if (!schemas[key]) throw new Error(`${key} missing from the schema file`)
    ajv.addSchema(prepareSchema(schemas[key]), key)
    refs[name] = key
  }
  let code = standaloneCode(ajv, refs)
  // Standalone output may reach into Ajv's runtime with require(); inline the
  // helpers it uses so the file is pure ESM with no dependency.
  code = code.replace(
    /require\("ajv\/dist\/runtime\/ucs2length"\)\.default/g,
    'ucs2length'
  )
  if (/require\(/.test(code)) {
    throw new Error('Generated validators still require() a module: inline it in gen-task-schema.mjs')
  }
  const helpers = code.includes('ucs2length')
    ? '\n// Length in Unicode code points, as JSON Schema counts it.\nfunction ucs2length(str) { return [...str].length }\n'
    : ''
  const header = '// GENERATED by scripts/gen-task-schema.mjs from src/task/sky-task-schema.json. Do not edit.\n/* eslint-disable */\n'
  return header + code + helpers
}

export function declarations() {
  const lines = [
    '// GENERATED by scripts/gen-task-schema.mjs. Do not edit.',
    "import type { ErrorObject } from 'ajv'",
    '',
    'export interface GeneratedValidator {',
    '  (data: unknown): boolean',
    '  errors?: ErrorObject[] | null',
    '}',
    ''
  ]
  for (const name of Object.values(EXPORTS)) lines.push(`export declare const ${name}: GeneratedValidator`)
  return lines.join('\n') + '\n'
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const code = generate(readFileSync(schemaFile, 'utf8'))
  mkdirSync(outDir, { recursive: true })
  writeFileSync(join(outDir, 'validators.js'), code)
  writeFileSync(join(outDir, 'validators.d.ts'), declarations())
  console.log(`gen-task-schema: wrote ${join('src/task/generated', 'validators.js')} (${code.length} bytes)`)
}

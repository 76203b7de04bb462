// Reads task YAML the way SkyPilot does (PyYAML safe_load_all: YAML 1.1,
// merge keys, only plain data) while keeping positions, and refuses hostile
// input: oversized text, alias bombs, tags that build non-JSON values.
import { LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseAllDocuments } from 'yaml'
import type { Document, Node } from 'yaml'

export const MAX_TASK_BYTES = 1024 * 1024
export const MAX_ALIAS_COUNT = 100

export interface Position {
  line: number
  column: number
}

export interface Problem {
  message: string
  line?: number
  column?: number
}

/** A path into a parsed document: map keys and sequence indexes. */
export type Path = readonly (string | number)[]

export interface ParsedDocument {
  /** Plain JSON-like value of the document; null for an empty document. */
  value: unknown
  /** Position of the node at `path` (of its key when `key` is set). */
  locate(path: Path, key?: boolean): Position | undefined
}

export interface ParseResult {
  documents: ParsedDocument[]
  problems: Problem[]
}

const PLAIN_TAGS = new Set(
  ['str', 'int', 'float', 'bool', 'null', 'map', 'seq', 'merge'].map((t) => `tag:yaml.org,2002:${t}`)
)

export function withLine(message: string, pos: Position | undefined): Problem {
  return pos ? { message: `${message} (line ${pos.line})`, line: pos.line, column: pos.column } : { message }
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '').trim()
}

export function parseTaskYaml(text: string): ParseResult {
  const bytes = Buffer.byteLength(text, 'utf8')
  if (bytes > MAX_TASK_BYTES) {
    const mib = (bytes / (1024 * 1024)).toFixed(1)
    return {
      documents: [],
      problems: [
        {
          message:
            `The task YAML is ${mib} MiB; the limit is 1 MiB. Move large data out of the task file ` +
            '(into file_mounts, or a script in the workdir).'
        }
      ]
    }
  }
  const lineCounter = new LineCounter()
  const pos = (offset: number | undefined): Position | undefined => {
    if (offset === undefined) return undefined
    const p = lineCounter.linePos(offset)
    return { line: p.line, column: p.col }
  }
  let docs: Document.Parsed[]
  try {
    docs = [...parseAllDocuments(text, { version: '1.1', lineCounter, uniqueKeys: true, prettyErrors: true })]
  } catch (err) {
    return { documents: [], problems: [{ message: `The task YAML could not be read: ${String(err)}. Simplify it.` }] }
  }
  const problems: Problem[] = []
  const documents: ParsedDocument[] = []
  for (const doc of docs) {
    const before = problems.length
    for (const error of doc.errors) {
      const at = error.linePos?.[0]
      const where = at ? ` (line ${at.line}, column ${at.col})` : ''
      if (/call stack/i.test(error.message)) {
        problems.push({ message: 'The task YAML is nested too deeply to read. Flatten it.' })
        continue
      }
      const hint = error.code === 'DUPLICATE_KEY' ? 'Remove or rename one of the duplicate keys.' : 'Fix the YAML syntax there.'
      problems.push({
        message: `YAML error${where}: ${firstLine(error.message)}. ${hint}`,
        ...(at ? { line: at.line, column: at.col } : {})
      })
    }
    if (problems.length > before) continue
    const tagProblem = checkPlainData(doc.contents, pos)
    if (tagProblem) {
      problems.push(tagProblem)
      continue
    }
    let value: unknown
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
    } catch (err) {
      const message =
        err instanceof RangeError
          ? 'The task YAML is nested too deeply to read. Flatten it.'
          : /alias/i.test(String(err))
            ? `The task YAML expands YAML aliases (*name) more than ${MAX_ALIAS_COUNT} times, as a "billion laughs" ` +
              'attack does. Write the values out instead of nesting aliases.'
            : `The task YAML could not be read: ${String(err)}. Simplify it.`
      problems.push({ message })
      continue
    }
    documents.push({ value: value ?? null, locate: (path, key) => locate(doc, path, key, pos) })
  }
  return { documents, problems }
}

/** Refuses tags and implicit types (timestamps, binary, sets) that safe_load data cannot hold as JSON. */
function checkPlainData(root: unknown, pos: (offset: number | undefined) => Position | undefined): Problem | undefined {
  const stack: unknown[] = [root]
  while (stack.length > 0) {
    const node = stack.pop()
    if (node === null || node === undefined || isAlias(node)) continue
    if (isPair(node)) {
      stack.push(node.value, node.key)
      continue
    }
    if (!isScalar(node) && !isMap(node) && !isSeq(node)) continue
    const n = node as Node
    if (n.tag !== undefined && !PLAIN_TAGS.has(n.tag)) {
      return withLine(
        `YAML tag '${n.tag.replace('tag:yaml.org,2002:', '!!')}' is not allowed in a task: SkyPilot reads tasks with ` +
          'safe_load, which only builds strings, numbers, booleans, null, lists and maps. Remove the tag',
        pos(n.range?.[0])
      )
    }
    if (isScalar(node)) {
      const v = node.value
      if (node.source === '<<') continue // merge key, which safe_load supports
      if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        const shown = node.source ?? String(v)
        return withLine(
          `The value '${shown}' is read as a ${v instanceof Date ? 'timestamp' : 'non-text value'}, which a task ` +
            `cannot hold. Quote it: '${shown}'`,
          pos(node.range?.[0])
        )
      }
      continue
    }
    const items = (node as { items: unknown[] }).items
    for (let i = items.length - 1; i >= 0; i--) stack.push(items[i])
  }
  return undefined
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return key.value === null ? 'null' : String(key.value)
  return undefined
}

function locate(
  doc: Document.Parsed,
  path: Path,
  key: boolean | undefined,
  pos: (offset: number | undefined) => Position | undefined
): Position | undefined {
  let node: unknown = doc.contents
  let last: unknown = node
  for (let i = 0; i < path.length; i++) {
    if (isAlias(node)) node = node.resolve(doc)
    const segment = path[i]
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(segment))
      if (!pair) break
      if (key && i === path.length - 1) return pos((pair.key as Node | null)?.range?.[0])
      last = pair.value ?? pair.key
      node = pair.value
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment]
      if (item === undefined) break
      last = item
      node = item
    } else {
      break
    }
  }
  return pos((last as Node | null)?.range?.[0])
}

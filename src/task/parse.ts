// Reads task YAML the way SkyPilot does (PyYAML safe_load_all: YAML 1.1 as PyYAML resolves it,
// merge keys, only plain data) while keeping positions, and refuses hostile input: oversized
// text, alias bombs, absurd nesting. The `yaml` package parses; pyyaml.ts builds the values.
import { LineCounter, parseAllDocuments } from 'yaml'
import type { Document } from 'yaml'
import { ConstructError, TooDeep, TooLarge, buildDocument, firstDuplicateKey } from './pyyaml.js'
import { pyStr, type PyEntry, type PyNode } from './python.js'

export const MAX_TASK_BYTES = 1024 * 1024
/** Deepest nesting read. PyYAML itself gives up somewhere between 500 and 1000 levels. */
export const MAX_DEPTH = 500
/** Most values a document may expand to through aliases (a "billion laughs" guard); a 1 MiB file holds far fewer. */
export const MAX_EXPANDED_NODES = 1_000_000

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

/**
 * A value PyYAML builds that JSON cannot hold (a date, bytes, a set, a pair of an ordered map).
 * SkyPilot turns it into text where it stringifies (envs, secrets) and its schema refuses it
 * wherever a type is required.
 */
export class PyOpaque {
  constructor(readonly py: PyNode) {}
  /** How a message names it: "the date 2024-01-01". */
  describe(): string {
    const what = { date: 'date', datetime: 'timestamp', bytes: 'binary value', set: 'set', tuple: 'pair' }[this.py.type as string] ?? this.py.type
    return `the ${what} ${pyStr(this.py)}`
  }
}

export interface ParsedDocument {
  /** JSON-like value of the document (map keys are Python's str() of the keys); null for an empty document. */
  value: unknown
  /** The document as the Python values PyYAML builds. */
  py: PyNode
  /** Position of the node at `path` (of its key when `key` is set). */
  locate(path: Path, key?: boolean): Position | undefined
  /** Position of a node of `py`. */
  at(node: PyNode | undefined): Position | undefined
}

export interface ParseResult {
  documents: ParsedDocument[]
  problems: Problem[]
  /**
   * The first duplicate key, which SkyPilot refuses when it loads a task or a pipeline (but not
   * a job group, whose loader does not look for duplicates).
   */
  duplicateKey?: Problem
}

export function withLine(message: string, pos: Position | undefined): Problem {
  return pos ? { message: `${message} (line ${pos.line})`, line: pos.line, column: pos.column } : { message }
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '').trim()
}

/** Defines a key without going through a setter (`__proto__` is a key like any other here). */
function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true })
}

/**
 * The JSON-like view of a Python value: what the schema validators and the rest of the action
 * see. Map keys are Python's str() of the keys; values JSON cannot hold are PyOpaque.
 */
export function toJson(py: PyNode): unknown {
  switch (py.type) {
    case 'str':
      return py.value
    case 'int':
      return Number(py.value)
    case 'float':
    case 'bool':
      return py.value
    case 'NoneType':
      return null
    case 'list':
      return py.items.map(toJson)
    case 'dict': {
      const out: Record<string, unknown> = {}
      for (const { key, value } of py.entries) setKey(out, pyStr(key), toJson(value))
      return out
    }
    default:
      return new PyOpaque(py)
  }
}

/** The node at `path`, through dicts (by the str() of their keys; the last one wins, as in `value`) and lists. */
export function pyAt(root: PyNode, path: Path): { node?: PyNode; key?: PyNode; last: PyNode } {
  let node: PyNode | undefined = root
  let key: PyNode | undefined
  let last: PyNode = root
  for (const segment of path) {
    if (node?.type === 'dict') {
      const entry: PyEntry | undefined = [...node.entries].reverse().find((e) => pyStr(e.key) === String(segment))
      if (!entry) return { last }
      key = entry.key
      node = entry.value
    } else if ((node?.type === 'list' || node?.type === 'tuple') && typeof segment === 'number') {
      const item: PyNode | undefined = node.items[segment]
      if (!item) return { last }
      key = undefined
      node = item
    } else {
      return { last }
    }
    last = node
  }
  return { node, ...(key ? { key } : {}), last }
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
    // Nothing is resolved by the `yaml` package (failsafe: every scalar stays text, no known
    // tags): pyyaml.ts resolves and builds every value as PyYAML does.
    docs = [
      ...parseAllDocuments(text, { version: '1.1', schema: 'failsafe', resolveKnownTags: false, uniqueKeys: false, lineCounter, prettyErrors: true })
    ]
  } catch (err) {
    const message = err instanceof RangeError ? 'The task YAML is nested too deeply to read. Flatten it.' : `The task YAML could not be read: ${String(err)}. Simplify it.`
    return { documents: [], problems: [{ message }] }
  }
  const problems: Problem[] = []
  const documents: ParsedDocument[] = []
  let duplicateKey: Problem | undefined
  for (const doc of docs) {
    const before = problems.length
    for (const error of doc.errors) {
      const at = error.linePos?.[0]
      const where = at ? ` (line ${at.line}, column ${at.col})` : ''
      if (/call stack/i.test(error.message)) {
        const message = 'The task YAML is nested too deeply to read. Flatten it.'
        if (!problems.some((p) => p.message === message)) problems.push({ message })
        continue
      }
      problems.push({
        message: `YAML error${where}: ${firstLine(error.message)}. Fix the YAML syntax there.`,
        ...(at ? { line: at.line, column: at.col } : {})
      })
    }
    if (problems.length > before) continue
    let py: PyNode
    try {
      py = buildDocument(doc, { maxDepth: MAX_DEPTH, maxNodes: MAX_EXPANDED_NODES })
    } catch (err) {
      if (err instanceof ConstructError) problems.push(withLine(err.message, pos(err.offset)))
      else if (err instanceof TooDeep || err instanceof RangeError) problems.push({ message: `The task YAML is nested more than ${MAX_DEPTH} levels deep, too deeply to read. Flatten it.` })
      else if (err instanceof TooLarge) {
        problems.push({
          message:
            'The task YAML expands YAML aliases (*name) into more than a million values, as a "billion laughs" attack does. ' +
            'Write the values out instead of nesting aliases.'
        })
      } else throw err
      continue
    }
    if (!duplicateKey) {
      const dup = firstDuplicateKey(doc)
      if (dup) {
        const first = pos(dup.firstOffset)
        duplicateKey = withLine(
          `Duplicate key '${dup.key}'${first ? ` (also on line ${first.line})` : ''}: SkyPilot refuses a task with a key given twice. Remove or rename one of them`,
          pos(dup.offset)
        )
      }
    }
    documents.push({
      value: toJson(py),
      py,
      at: (node) => pos(node?.offset),
      locate: (path, key) => {
        const found = pyAt(py, path)
        if (key && found.node && found.key) return pos(found.key.offset)
        // A value written as nothing (`key:`) may have no position of its own: use its key's.
        return pos(found.node?.offset ?? found.key?.offset ?? found.last.offset)
      }
    })
  }
  return { documents, problems, ...(duplicateKey ? { duplicateKey } : {}) }
}

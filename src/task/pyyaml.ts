// Builds the Python values that PyYAML's safe_load builds (SkyPilot reads tasks with it), from the
// `yaml` package's syntax tree. The `yaml` package parses; it is told to resolve nothing (every
// scalar stays text) and this module resolves plain scalars with PyYAML's own resolver regexes
// (YAML 1.1 as PyYAML implements it, which differs from the `yaml` package's YAML 1.1 schema:
// `.` and `1e5` are text, `.5` and `1_000.5` are floats, `<<` and `=` mean something) and
// constructs values with PyYAML's SafeConstructor rules (merge keys, explicit tags, dict keys).
import { isAlias, isMap, isPair, isScalar, isSeq, Scalar } from 'yaml'
import type { Document, Node, YAMLMap, YAMLSeq } from 'yaml'
import { keyIdentity, type PyEntry, type PyNode } from './python.js'

const T = 'tag:yaml.org,2002:'

/** PyYAML's implicit resolvers (yaml/resolver.py), in the order it tries them. */
const IMPLICIT: [string, RegExp][] = [
  ['bool', /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/],
  [
    'float',
    /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/
  ],
  ['int', /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/],
  ['merge', /^(?:<<)$/],
  ['null', /^(?:~|null|Null|NULL|)$/],
  [
    'timestamp',
    /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/
  ],
  ['value', /^(?:=)$/]
]

/** SafeConstructor.timestamp_regexp: how a timestamp's parts are read. */
const TIMESTAMP =
  /^([0-9][0-9][0-9][0-9])-([0-9][0-9]?)-([0-9][0-9]?)(?:(?:[Tt]|[ \t]+)([0-9][0-9]?):([0-9][0-9]):([0-9][0-9])(?:\.([0-9]*))?(?:[ \t]*(Z|([-+])([0-9][0-9]?)(?::([0-9][0-9]))?))?)?$/

/** A value PyYAML refuses to build (ConstructorError, ValueError...): the load fails. */
export class ConstructError extends Error {
  constructor(
    message: string,
    readonly offset?: number
  ) {
    super(message)
  }
}

/** The tag PyYAML resolves a plain scalar to (the type it gets without an explicit tag). */
export function resolvePlain(text: string): string {
  for (const [tag, re] of IMPLICIT) if (re.test(text)) return tag
  return 'str'
}

function fail(message: string, node: Node | null | undefined): never {
  throw new ConstructError(message, node?.range?.[0])
}

const shortTag = (tag: string): string => (tag.startsWith(T) ? `!!${tag.slice(T.length)}` : tag)

function unknownTag(tag: string, node: Node): never {
  return fail(
    `YAML tag '${shortTag(tag)}' is not allowed in a task: SkyPilot reads tasks with safe_load, which only builds text, ` +
      'numbers, booleans, null, dates, lists and maps. Remove the tag',
    node
  )
}

function pyInt(text: string, node: Node): bigint {
  let value = text.replace(/_/g, '')
  const negative = value.startsWith('-')
  if (value.startsWith('-') || value.startsWith('+')) value = value.slice(1)
  const sign = negative ? -1n : 1n
  const parse = (digits: string, base: number, prefix: string): bigint => {
    const valid = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ }[base as 2 | 8 | 10 | 16]
    if (!valid.test(digits)) fail(`'${text}' is read as a whole number (base ${base}) but it has no valid digits, so SkyPilot cannot load the task. Quote it to make it text: '${text}'`, node)
    return BigInt(prefix + digits)
  }
  if (value === '0') return 0n
  if (value.startsWith('0b')) return sign * parse(value.slice(2), 2, '0b')
  if (value.startsWith('0x')) return sign * parse(value.slice(2), 16, '0x')
  if (value.startsWith('0')) return sign * parse(value, 8, '0o')
  if (value.includes(':')) {
    let total = 0n
    let base = 1n
    for (const part of value.split(':').reverse()) {
      total += parse(part, 10, '') * base
      base *= 60n
    }
    return sign * total
  }
  return sign * parse(value, 10, '')
}

function pyFloat(text: string, node: Node): number {
  let value = text.replace(/_/g, '').toLowerCase()
  const sign = value.startsWith('-') ? -1 : 1
  if (value.startsWith('-') || value.startsWith('+')) value = value.slice(1)
  if (value === '.inf') return sign * Infinity
  if (value === '.nan') return NaN
  const number = (part: string): number => {
    // float() of what the resolver let through (or an explicit !!float): digits, one dot, an exponent.
    if (!/^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[-+]?[0-9]+)?$/.test(part.trim())) fail(`'${text}' is tagged as a decimal number but is not one, so SkyPilot cannot load the task. Fix the value or remove the tag`, node)
    return Number(part.trim())
  }
  if (value.includes(':')) {
    let total = 0
    let base = 1
    for (const part of value.split(':').reverse()) {
      total += number(part) * base
      base *= 60
    }
    return sign * total
  }
  return sign * number(value)
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

function timestamp(text: string, node: Node): PyNode {
  const bad = (why: string): never =>
    fail(`'${text}' is read as a date (a YAML 1.1 timestamp), but ${why}, so SkyPilot cannot load the task. Quote it to make it text: '${text}'`, node)
  const m = TIMESTAMP.exec(text)
  if (!m) fail(`'${text}' is tagged as a timestamp but is not one, so SkyPilot cannot load the task. Fix the value or remove the tag`, node)
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])]
  if (year < 1 || year > 9999) bad(`year ${year} is out of range`)
  if (month < 1 || month > 12) bad('month must be in 1..12')
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  if (day < 1 || day > (month === 2 && leap ? 29 : (DAYS[month - 1] as number))) bad('day is out of range for month')
  if (m[4] === undefined) return { type: 'date', year, month, day }
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6])]
  if (hour > 23) bad('hour must be in 0..23')
  if (minute > 59) bad('minute must be in 0..59')
  if (second > 59) bad('second must be in 0..59')
  const microsecond = m[7] ? Number(m[7].slice(0, 6).padEnd(6, '0')) : 0
  let tzMinutes: number | undefined
  if (m[9]) {
    tzMinutes = (Number(m[10]) * 60 + Number(m[11] ?? 0)) * (m[9] === '-' ? -1 : 1)
    if (Math.abs(tzMinutes) >= 24 * 60) bad('its UTC offset is 24 hours or more')
  } else if (m[8]) {
    tzMinutes = 0
  }
  return { type: 'datetime', year, month, day, hour, minute, second, microsecond, ...(tzMinutes !== undefined ? { tzMinutes } : {}) }
}

function binary(text: string, node: Node): PyNode {
  const clean = text.replace(/[^A-Za-z0-9+/=]/g, '')
  if (clean.replace(/=+$/, '').length % 4 === 1) fail('The !!binary value is not valid base64, so SkyPilot cannot load the task. Fix the value or remove the tag', node)
  return { type: 'bytes', value: new Uint8Array(Buffer.from(clean, 'base64')) }
}

/** The tag PyYAML gives a node: its explicit tag, or what the resolver makes of a plain scalar. */
function tagOf(node: Node): string {
  const tag = node.tag
  if (isScalar(node)) {
    if (tag && tag !== '!') return tag
    // PyYAML resolves a scalar tagged with the non-specific '!' by its text even when quoted.
    if (tag !== '!' && node.type !== Scalar.PLAIN) return `${T}str`
    return T + resolvePlain(String(node.value))
  }
  if (tag && tag !== '!') return tag
  return isMap(node) ? `${T}map` : `${T}seq`
}

export interface BuildLimits {
  /** Deepest nesting accepted (PyYAML's recursion gives up between 500 and 1000 levels). */
  maxDepth: number
  /** Most nodes the document may expand to, aliases included: a "billion laughs" guard. */
  maxNodes: number
}

export class TooDeep extends Error {}
export class TooLarge extends Error {}

/**
 * Where each alias points: the latest anchor of its name before it, as YAML says. One walk in
 * document order (the `yaml` package's own Alias.resolve searches the document every time).
 */
function aliasTargets(doc: Document.Parsed): Map<unknown, Node | undefined> {
  const anchors = new Map<string, Node>()
  const targets = new Map<unknown, Node | undefined>()
  const stack: unknown[] = [doc.contents]
  while (stack.length > 0) {
    const n = stack.pop()
    if (!n) continue
    if (isAlias(n)) {
      targets.set(n, anchors.get(n.source))
      continue
    }
    if (isPair(n)) {
      stack.push(n.value, n.key)
      continue
    }
    const anchor = (n as Node).anchor
    if (anchor) anchors.set(anchor, n as Node)
    if (isMap(n) || isSeq(n)) for (let i = n.items.length - 1; i >= 0; i--) stack.push(n.items[i])
  }
  return targets
}

/** How many nodes the document holds once every alias is expanded (memoized: a bomb costs nothing to measure). */
function expandedSize(doc: Document.Parsed, targets: Map<unknown, Node | undefined>, limits: BuildLimits): number {
  const memo = new Map<unknown, number>()
  const inProgress = new Set<unknown>()
  const size = (n: unknown, depth: number): number => {
    if (depth > limits.maxDepth) throw new TooDeep()
    if (!n) return 1
    if (isAlias(n)) return size(targets.get(n), depth)
    if (isPair(n)) return size(n.key, depth) + size(n.value, depth)
    if (!isMap(n) && !isSeq(n)) return 1
    const known = memo.get(n)
    if (known !== undefined) return known
    // A recursive structure: building it reports the problem.
    if (inProgress.has(n)) return 1
    inProgress.add(n)
    let total = 1
    for (const item of n.items) {
      total += size(item, depth + 1)
      if (total > limits.maxNodes) break
    }
    inProgress.delete(n)
    memo.set(n, total)
    return total
  }
  return size(doc.contents, 0)
}

/**
 * Builds the Python value of one document. Throws ConstructError where PyYAML refuses, TooDeep
 * or TooLarge for hostile nesting or alias expansion.
 */
export function buildDocument(doc: Document.Parsed, limits: BuildLimits): PyNode {
  const targets = aliasTargets(doc)
  if (expandedSize(doc, targets, limits) > limits.maxNodes) throw new TooLarge()
  const onStack = new Set<Node>()

  const deref = (node: unknown): Node | null => {
    if (!isAlias(node)) return (node as Node | null) ?? null
    const target = targets.get(node)
    if (!target) fail(`The YAML alias *${node.source} has no anchor before it. Define &${node.source} first`, node)
    return target
  }

  /** PyYAML's flatten_mapping: merged pairs first (earlier sources win), then the map's own. */
  const flatten = (map: YAMLMap, depth: number): { key: Node | null; value: Node | null; keyNode: unknown }[] => {
    const merged: { key: Node | null; value: Node | null; keyNode: unknown }[] = []
    const own: { key: Node | null; value: Node | null; keyNode: unknown }[] = []
    for (const pair of map.items) {
      const key = deref(pair.key)
      const value = deref(pair.value)
      if (key && isScalar(key) && tagOf(key) === `${T}merge`) {
        if (value && isMap(value)) merged.push(...flatten(value, depth + 1))
        else if (value && isSeq(value)) {
          const parts: (typeof merged)[] = []
          for (const item of value.items) {
            const sub = deref(item)
            if (!sub || !isMap(sub)) fail('A merge key (<<) lists something that is not a map. Merge only maps (<<: *name or <<: [*a, *b])', sub ?? value)
            parts.push(flatten(sub, depth + 1))
          }
          for (const part of parts.reverse()) merged.push(...part)
        } else fail('A merge key (<<) needs a map or a list of maps after it. Merge only maps (<<: *name or <<: [*a, *b])', value ?? key)
        continue
      }
      own.push({ key, value, keyNode: pair.key })
    }
    return [...merged, ...own]
  }

  const build = (raw: unknown, depth: number, asKey = false): PyNode => {
    if (depth > limits.maxDepth) throw new TooDeep()
    const node = deref(raw)
    if (!node) return { type: 'NoneType' }
    const offset = node.range?.[0]
    const tag = tagOf(node)
    if (isScalar(node)) {
      const text = String(node.value ?? '')
      const value = ((): PyNode => {
        switch (tag) {
          case `${T}str`:
            return { type: 'str', value: text }
          case `${T}null`:
            return { type: 'NoneType' }
          case `${T}bool`: {
            const b = ({ yes: true, no: false, true: true, false: false, on: true, off: false } as Record<string, boolean>)[text.toLowerCase()]
            if (b === undefined) fail(`'${text}' is tagged !!bool but is not a YAML boolean. Write true or false, or remove the tag`, node)
            return { type: 'bool', value: b }
          }
          case `${T}int`:
            return { type: 'int', value: pyInt(text, node) }
          case `${T}float`:
            return { type: 'float', value: pyFloat(text, node) }
          case `${T}timestamp`:
            return timestamp(text, node)
          case `${T}binary`:
            return binary(text, node)
          case `${T}value`:
            // `=` is only meaningful as a key (where it stays the text '='); as a value PyYAML has no constructor.
            if (asKey) return { type: 'str', value: text }
            return fail("'=' alone is YAML 1.1's special 'value' key, which PyYAML (and so SkyPilot) cannot load as a value. Quote it: '='", node)
          case `${T}merge`:
            return fail("'<<' alone is YAML 1.1's merge key, which PyYAML (and so SkyPilot) cannot load as a value. Quote it: '<<'", node)
          case `${T}map`:
          case `${T}omap`:
          case `${T}pairs`:
          case `${T}set`:
            return fail(`The tag ${shortTag(tag)} needs a map, not a single value. Remove the tag`, node)
          case `${T}seq`:
            return fail(`The tag !!seq needs a list, not a single value. Remove the tag`, node)
          default:
            return unknownTag(tag, node)
        }
      })()
      return { ...value, offset }
    }
    if (onStack.has(node)) fail('A YAML alias refers to a node that contains it (a recursive structure), which a task cannot hold. Write the values out', node)
    onStack.add(node)
    try {
      if (isSeq(node)) {
        const seq = node as YAMLSeq
        if (tag === `${T}seq`) return { type: 'list', items: seq.items.map((i) => build(i, depth + 1)), offset }
        if (tag === `${T}omap` || tag === `${T}pairs`) {
          const items = seq.items.map((item): PyNode => {
            const sub = deref(item)
            if (!sub || !isMap(sub)) fail(`Each item of ${shortTag(tag)} must be a single 'key: value'. Fix the list or remove the tag`, sub ?? node)
            if (sub.items.length !== 1) fail(`Each item of ${shortTag(tag)} must be a single 'key: value', found ${sub.items.length}. Fix the list or remove the tag`, sub)
            const pair = sub.items[0]
            return { type: 'tuple', items: [build(pair?.key, depth + 2, true), build(pair?.value, depth + 2)], offset: sub.range?.[0] }
          })
          return { type: 'list', items, offset }
        }
        if (tag === `${T}map` || tag === `${T}set`) fail(`The tag ${shortTag(tag)} needs a map, not a list. Remove the tag`, node)
        if (tag === `${T}str`) fail('The tag !!str needs a single value, not a list. Remove the tag', node)
        return unknownTag(tag, node)
      }
      if (isMap(node)) {
        if (tag === `${T}seq` || tag === `${T}omap` || tag === `${T}pairs`) fail(`The tag ${shortTag(tag)} needs a list, not a map. Remove the tag`, node)
        if (tag !== `${T}map` && tag !== `${T}set`) {
          if (tag === `${T}str`) fail('The tag !!str needs a single value, not a map. Remove the tag', node)
          unknownTag(tag, node)
        }
        const entries: PyEntry[] = []
        const index = new Map<string, number>()
        for (const { key, value, keyNode } of flatten(node as YAMLMap, depth)) {
          const k = build(key, depth + 1, true)
          const id = keyIdentity(k)
          if (id === undefined) fail('A key is a list or a map, which PyYAML (and so SkyPilot) cannot use as a key. Use a text key', key ?? (keyNode as Node))
          const v = tag === `${T}set` ? ({ type: 'NoneType' } as PyNode) : build(value, depth + 1)
          const at = index.get(id)
          // A Python dict keeps the first key and takes the last value.
          if (at !== undefined) (entries[at] as PyEntry).value = v
          else {
            index.set(id, entries.length)
            entries.push({ key: k, value: v })
          }
        }
        if (tag === `${T}set`) return { type: 'set', items: entries.map((e) => e.key), offset }
        return { type: 'dict', entries, offset }
      }
    } finally {
      onStack.delete(node)
    }
    return fail('This YAML node cannot be read. Simplify it', node)
  }

  return build(doc.contents, 0)
}

/**
 * Duplicate keys the way SkyPilot's check_no_duplicate_keys finds them: keys compared by their
 * text as written (so `1` and `01` differ, `a` and `"a"` do not), merge keys (`<<`) included,
 * non-text keys skipped. Returns the first duplicate in document order.
 */
export function firstDuplicateKey(doc: Document.Parsed): { key: string; offset?: number; firstOffset?: number } | undefined {
  const targets = aliasTargets(doc)
  const deref = (n: unknown): Node | null => (isAlias(n) ? (targets.get(n) ?? null) : ((n as Node | null) ?? null))
  const visited = new Set<unknown>()
  const walk = (raw: unknown): ReturnType<typeof firstDuplicateKey> => {
    const node = deref(raw)
    if (!node || visited.has(node)) return undefined
    visited.add(node)
    if (isMap(node)) {
      const seen = new Map<string, number | undefined>()
      for (const pair of node.items) {
        if (!isPair(pair)) continue
        const key = deref(pair.key)
        if (key && isScalar(key)) {
          const text = String(key.value ?? '')
          const at = (pair.key as Node | null)?.range?.[0]
          if (seen.has(text)) return { key: text, offset: at, firstOffset: seen.get(text) }
          seen.set(text, at)
        }
        // Like SkyPilot's walk, a key that is not a scalar is not looked into.
        const inValue = walk(pair.value)
        if (inValue) return inValue
      }
    } else if (isSeq(node)) {
      for (const item of node.items) {
        const found = walk(item)
        if (found) return found
      }
    }
    return undefined
  }
  return walk(doc.contents)
}

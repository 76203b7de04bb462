// Python's own text conversions that SkyPilot's behaviour depends on: str() and repr() of the
// values PyYAML builds (SkyPilot turns env and secret values into text with str()), and the
// parsing of numbers by float() and int() (resources fields are read with them).

/** A Python value as PyYAML's SafeLoader builds it, with where it came from in the YAML text. */
export type PyValue =
  | { type: 'str'; value: string }
  | { type: 'int'; value: bigint }
  | { type: 'float'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'NoneType' }
  | { type: 'date'; year: number; month: number; day: number }
  | { type: 'datetime'; year: number; month: number; day: number; hour: number; minute: number; second: number; microsecond: number; tzMinutes?: number }
  | { type: 'bytes'; value: Uint8Array }
  | { type: 'set'; items: PyNode[] }
  | { type: 'tuple'; items: PyNode[] }
  | { type: 'list'; items: PyNode[] }
  | { type: 'dict'; entries: PyEntry[] }

export type PyNode = PyValue & {
  /** Offset of the node in the YAML text. */
  offset?: number
}

export interface PyEntry {
  key: PyNode
  value: PyNode
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0')

/** Python's repr() of a float: the shortest text that reads back the same, in Python's layout. */
export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan'
  if (x === Infinity) return 'inf'
  if (x === -Infinity) return '-inf'
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0'
  // toExponential() without a precision gives the shortest round-trip digits, as Python's repr does.
  const [mantissa, exp] = x.toExponential().split('e') as [string, string]
  const negative = mantissa.startsWith('-')
  const digits = mantissa.replace('-', '').replace('.', '')
  const exponent = Number(exp)
  const decpt = exponent + 1 // position of the decimal point after the first digit
  let out: string
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) out = `0.${'0'.repeat(-decpt)}${digits}`
    else if (decpt >= digits.length) out = `${digits}${'0'.repeat(decpt - digits.length)}.0`
    else out = `${digits.slice(0, decpt)}.${digits.slice(decpt)}`
  } else {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
    out = `${m}e${exponent < 0 ? '-' : '+'}${pad(Math.abs(exponent))}`
  }
  return negative ? `-${out}` : out
}

/** Characters str.isprintable() refuses: other (C*) and separators (Z*) except the ASCII space. */
const NOT_PRINTABLE = /[\p{C}\p{Z}]/u

/** Python's repr() of a str. */
export function strRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'"
  let out = quote
  for (const ch of s) {
    const code = ch.codePointAt(0) as number
    if (ch === quote || ch === '\\') out += `\\${ch}`
    else if (ch === '\n') out += '\\n'
    else if (ch === '\r') out += '\\r'
    else if (ch === '\t') out += '\\t'
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`
    else if (ch !== ' ' && NOT_PRINTABLE.test(ch)) {
      out += code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : code <= 0xffff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\U${code.toString(16).padStart(8, '0')}`
    } else out += ch
  }
  return out + quote
}

function bytesRepr(b: Uint8Array): string {
  const text = Array.from(b, (c) => String.fromCharCode(c)).join('')
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'"
  let out = `b${quote}`
  for (const c of b) {
    const ch = String.fromCharCode(c)
    if (ch === quote || ch === '\\') out += `\\${ch}`
    else if (ch === '\n') out += '\\n'
    else if (ch === '\r') out += '\\r'
    else if (ch === '\t') out += '\\t'
    else if (c < 0x20 || c >= 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`
    else out += ch
  }
  return out + quote
}

/** datetime.timedelta's repr() for a UTC offset in minutes. */
function timedeltaRepr(minutes: number): string {
  const seconds = minutes * 60
  if (seconds === 0) return 'datetime.timedelta(0)'
  const days = Math.floor(seconds / 86400)
  const rest = seconds - days * 86400
  const parts = [days !== 0 ? `days=${days}` : '', rest !== 0 ? `seconds=${rest}` : ''].filter(Boolean)
  return `datetime.timedelta(${parts.join(', ')})`
}

function offsetText(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+'
  const m = Math.abs(minutes)
  return `${sign}${pad(Math.floor(m / 60))}:${pad(m % 60)}`
}

/** Python's str() of a value: what SkyPilot makes of an env or secret value (`str(v)`). */
export function pyStr(v: PyValue): string {
  switch (v.type) {
    case 'str':
      return v.value
    case 'date':
      return `${pad(v.year, 4)}-${pad(v.month)}-${pad(v.day)}`
    case 'datetime': {
      const base = `${pad(v.year, 4)}-${pad(v.month)}-${pad(v.day)} ${pad(v.hour)}:${pad(v.minute)}:${pad(v.second)}`
      const micro = v.microsecond ? `.${pad(v.microsecond, 6)}` : ''
      return base + micro + (v.tzMinutes !== undefined ? offsetText(v.tzMinutes) : '')
    }
    default:
      return pyRepr(v)
  }
}

/** Python's repr() of a value (how str() shows the items of a list or dict). */
export function pyRepr(v: PyValue): string {
  switch (v.type) {
    case 'str':
      return strRepr(v.value)
    case 'int':
      return v.value.toString()
    case 'float':
      return floatRepr(v.value)
    case 'bool':
      return v.value ? 'True' : 'False'
    case 'NoneType':
      return 'None'
    case 'date':
      return `datetime.date(${v.year}, ${v.month}, ${v.day})`
    case 'datetime': {
      const fields = [v.year, v.month, v.day, v.hour, v.minute]
      if (v.second || v.microsecond) fields.push(v.second)
      if (v.microsecond) fields.push(v.microsecond)
      const tz = v.tzMinutes === undefined ? '' : `, tzinfo=${v.tzMinutes === 0 ? 'datetime.timezone.utc' : `datetime.timezone(${timedeltaRepr(v.tzMinutes)})`}`
      return `datetime.datetime(${fields.join(', ')}${tz})`
    }
    case 'bytes':
      return bytesRepr(v.value)
    case 'list':
      return `[${v.items.map(pyRepr).join(', ')}]`
    case 'tuple':
      return v.items.length === 1 ? `(${pyRepr(v.items[0] as PyValue)},)` : `(${v.items.map(pyRepr).join(', ')})`
    case 'set':
      // Python orders a set by hash (random for text across processes): insertion order is as good a guess as any.
      return v.items.length === 0 ? 'set()' : `{${v.items.map(pyRepr).join(', ')}}`
    case 'dict':
      return `{${v.entries.map((e) => `${pyRepr(e.key)}: ${pyRepr(e.value)}`).join(', ')}}`
  }
}

/** Python's float() of a text: surrounding whitespace, `_` between digits, inf and nan allowed. */
export function parsePyFloat(text: string): number | undefined {
  const s = text.trim()
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(s)
  if (special) {
    if (special[2]!.toLowerCase() === 'nan') return NaN
    return special[1] === '-' ? -Infinity : Infinity
  }
  const digits = '[0-9](?:_?[0-9])*'
  const re = new RegExp(`^[+-]?(?:${digits}(?:\\.(?:${digits})?)?|\\.${digits})(?:[eE][+-]?${digits})?$`)
  if (!re.test(s)) return undefined
  return Number(s.replace(/_/g, ''))
}

/** Python's int() of a text in base 10: surrounding whitespace, a sign and `_` between digits. */
export function parsePyInt(text: string): bigint | undefined {
  const s = text.trim()
  if (!/^[+-]?[0-9](?:_?[0-9])*$/.test(s)) return undefined
  return BigInt(s.replace(/_/g, ''))
}

/** A key as Python's dict tells keys apart: 1, 1.0 and True are the same key. */
export function keyIdentity(v: PyValue): string | undefined {
  switch (v.type) {
    case 'str':
      return `s:${v.value}`
    case 'int':
      return `n:${v.value.toString()}`
    case 'bool':
      return `n:${v.value ? 1 : 0}`
    case 'float':
      return Number.isInteger(v.value) ? `n:${BigInt(v.value).toString()}` : `n:${floatRepr(v.value)}`
    case 'NoneType':
      return 'none'
    case 'date':
    case 'datetime':
    case 'bytes':
      return `${v.type}:${pyRepr(v)}`
    case 'tuple': {
      const parts = v.items.map(keyIdentity)
      return parts.every((p) => p !== undefined) ? `t:${parts.join('\u0000')}` : undefined
    }
    default:
      return undefined // list, dict, set: unhashable
  }
}

/** Python's truthiness (`if x:`). */
export function truthy(v: PyValue | undefined): boolean {
  if (!v) return false
  switch (v.type) {
    case 'str':
      return v.value !== ''
    case 'int':
      return v.value !== 0n
    case 'float':
      return v.value !== 0
    case 'bool':
      return v.value
    case 'NoneType':
      return false
    case 'bytes':
      return v.value.length > 0
    case 'list':
    case 'tuple':
    case 'set':
      return v.items.length > 0
    case 'dict':
      return v.entries.length > 0
    default:
      return true
  }
}

/** `d.get(key)` of a Python dict with a text key; undefined when absent or `d` is not a dict. */
export function dictGet(d: PyValue | undefined, key: string): PyNode | undefined {
  if (d?.type !== 'dict') return undefined
  return d.entries.find((e) => e.key.type === 'str' && e.key.value === key)?.value
}

/** The entry of a text key, for its position. */
export function dictEntry(d: PyValue | undefined, key: string): PyEntry | undefined {
  if (d?.type !== 'dict') return undefined
  return d.entries.find((e) => e.key.type === 'str' && e.key.value === key)
}

/** A value that is None or absent. */
export function isNone(v: PyValue | undefined): boolean {
  return v === undefined || v.type === 'NoneType'
}

/** Python's isinstance(v, int), which counts booleans. */
export function isPyInt(v: PyValue | undefined): v is Extract<PyValue, { type: 'int' | 'bool' }> {
  return v?.type === 'int' || v?.type === 'bool'
}

/** A number as a JS number (int, bool or float). */
export function pyNumber(v: PyValue): number | undefined {
  if (v.type === 'int') return Number(v.value)
  if (v.type === 'float') return v.value
  if (v.type === 'bool') return v.value ? 1 : 0
  return undefined
}

/** str.isalnum() on one character: Unicode letters and numbers. */
export const isAlnum = (ch: string): boolean => /^[\p{L}\p{N}]$/u.test(ch)

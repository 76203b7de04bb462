/**
 * Job outputs: a job sets one by printing a line `skypilot-output NAME=VALUE` on its stdout. This
 * reads those lines from the log the action already relays, chunk by chunk, without holding the log.
 *
 * Only SkyPilot's own line prefixes may stand before the word (sky/skylet/log_lib.py prints
 * `streaming_prefix + line`; the prefixes come from sky/backends/task_codegen.py through Ray, and
 * from sky/skylet/executor/slurm.py, both in the same forms), optionally coloured:
 *   (setup pid=1234)                      setup, head node
 *   (setup pid=1234, ip=10.0.0.2)         setup, another node
 *   (task, pid=1234) / (train, pid=1234)  run on a single-node cluster (the task's name, or `task`)
 *   (head, rank=0, pid=1234)              run on a multi-node cluster, head
 *   (worker1, rank=1, pid=1234, ip=...)   run on a multi-node cluster, a worker
 * Managed jobs (`sky jobs logs`) and `sky logs` replay the same lines. A line without a prefix is
 * accepted as well (other backends, and the job's own output replayed bare). Anything else before
 * the word (an `echo` of the marker in a script listing, a timestamp) makes the line plain text.
 */

const WORD = 'skypilot-output '
const WORD_BYTES = Buffer.from(WORD)
const NEWLINE = 0x0a

/** SGR colour codes (`ESC [ ... m`), as colorama and Ray put around the prefix. */
const SGR = '(?:\\u001b\\[[0-9;]*m)*'
/** A SkyPilot task name (sky/task.py _VALID_NAME_REGEX). */
const TASK_NAME = '[a-zA-Z0-9]+(?:[._-]{1,2}[a-zA-Z0-9]+)*'
const IP = '(?:, ip=[0-9A-Fa-f.:]+)?'
const PREFIX =
  `\\((?:setup pid=\\d+${IP}|${TASK_NAME}, pid=\\d+${IP}|(?:head|worker\\d+), rank=\\d+, pid=\\d+${IP})\\)`
/** An output name, as the `job-outputs` input accepts it. */
const NAME = '[A-Za-z_][A-Za-z0-9_-]{0,63}'
const MARKER_LINE = new RegExp(`^${SGR}(?:${PREFIX}${SGR} ${SGR})?skypilot-output (${NAME})=(.*)$`, 's')

/**
 * Size limits. GitHub holds a job's outputs to 1 MB in total, and each value here can appear three
 * times over: as its own step output, inside `job-outputs` (JSON) and inside `results`/`best`.
 * Values are counted as their JSON-encoded UTF-8 bytes (escaping included), so 3 x 192 KiB stays
 * well under 1 MB with room for the action's other outputs. 64 KiB per value is far above any
 * metric or path and still lets a small JSON blob through.
 */
export const MAX_VALUE_BYTES = 64 * 1024
export const MAX_TOTAL_BYTES = 192 * 1024
/** The start of a line that can still hold the word: the longest prefix, colours and the word. */
const HEAD_BYTES = 1024
/** The longest line kept while waiting for its end: a head and the longest value allowed. */
const MAX_LINE_BYTES = HEAD_BYTES + MAX_VALUE_BYTES + 64

export type MarkerEvent =
  | { kind: 'set'; name: string; value: string }
  /** A name not in `job-outputs`: reported once per reader; the caller makes it a notice. */
  | { kind: 'undeclared'; name: string }
  /** A value refused; `reason` never holds the value. */
  | { kind: 'refused'; name: string; reason: 'secret' | 'too-long' | 'total' }

/**
 * What the readers of one step share: the total of their current values is held to
 * MAX_TOTAL_BYTES, whichever task set them (a fan-out's values all end up in `results`).
 */
export class OutputBudget {
  private used = 0

  constructor(readonly limit = MAX_TOTAL_BYTES) {}

  /** Takes `bytes` in place of `previous`; false (and nothing taken) when it would not fit. */
  take(bytes: number, previous: number): boolean {
    if (this.used - previous + bytes > this.limit) return false
    this.used += bytes - previous
    return true
  }
}

export interface MarkerReaderOptions {
  /** The names from `job-outputs`: the whole contract. */
  declared: readonly string[]
  /** Values no output may equal or contain (the step's secrets, tokens). Empty ones are ignored. */
  secrets?: readonly string[]
  budget?: OutputBudget
  onEvent?: (event: MarkerEvent) => void
}

/** Encoded size of a value as it will sit inside a JSON output. */
function jsonBytes(value: string): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8')
}

/**
 * Reads `skypilot-output NAME=VALUE` lines from chunks of a log. Lines may be split across chunks,
 * end in CRLF or LF; memory stays flat (at most one partial line of MAX_LINE_BYTES is kept).
 * Feed it the raw stream (before any line prefix the relay adds), then call end().
 */
export class MarkerReader {
  private readonly declared: Set<string>
  private readonly secrets: string[]
  private readonly budget: OutputBudget
  private readonly values = new Map<string, string>()
  private readonly sizes = new Map<string, number>()
  private readonly reported = new Set<string>()
  /** The unfinished last line: its first bytes, at most MAX_LINE_BYTES. */
  private partial: Buffer[] = []
  private partialBytes = 0
  /** The unfinished line is over the limit: only its head is kept, and it is a too-long value. */
  private overlong = false
  /** The unfinished line cannot be a marker: skip to its end. */
  private skipping = false

  constructor(private readonly options: MarkerReaderOptions) {
    this.declared = new Set(options.declared)
    this.secrets = secretNeedles(options.secrets ?? [])
    this.budget = options.budget ?? new OutputBudget()
  }

  /** The values set so far (last value wins), in the order the names were first set. */
  get outputs(): Record<string, string> {
    return Object.fromEntries(this.values)
  }

  /** Bytes held for the unfinished line (bounded by MAX_LINE_BYTES whatever the log). */
  get bufferedBytes(): number {
    return this.partialBytes
  }

  push(chunk: Buffer | string): void {
    if (this.declared.size === 0) return
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk
    let start = 0
    if (this.partialBytes > 0 || this.skipping || this.overlong) {
      const nl = buf.indexOf(NEWLINE)
      if (nl < 0) {
        this.keep(buf)
        return
      }
      this.keep(buf.subarray(0, nl))
      this.finishPartial()
      start = nl + 1
    }
    const last = buf.lastIndexOf(NEWLINE)
    if (last >= start) this.scanLines(buf, start, last)
    if (last + 1 < buf.length) this.keep(buf.subarray(Math.max(start, last + 1)))
  }

  /**
   * Forgets every value (and gives their room back to the budget): a retried launch runs the job
   * again, and values a failed attempt printed are not the run's.
   */
  reset(): void {
    for (const size of this.sizes.values()) this.budget.take(0, size)
    this.values.clear()
    this.sizes.clear()
    this.partial = []
    this.partialBytes = 0
    this.skipping = false
    this.overlong = false
  }

  /** The log ended: a last line without a newline still counts. */
  end(): void {
    if (this.partialBytes > 0 || this.overlong) this.finishPartial()
    this.partial = []
    this.partialBytes = 0
    this.skipping = false
    this.overlong = false
  }

  /** Complete lines in buf[from, to): only those holding the word are decoded and parsed. */
  private scanLines(buf: Buffer, from: number, to: number): void {
    let at = buf.indexOf(WORD_BYTES, from)
    while (at >= 0 && at < to) {
      const lineStart = at === 0 ? 0 : buf.lastIndexOf(NEWLINE, at - 1) + 1
      const lineEnd = buf.indexOf(NEWLINE, at)
      // The word must sit in the line's head; a deeper occurrence is plain text.
      if (at - Math.max(lineStart, from) <= HEAD_BYTES) {
        if (lineEnd - lineStart > MAX_LINE_BYTES) this.tooLong(buf.subarray(lineStart, lineStart + HEAD_BYTES + NAME_SPACE))
        else this.line(buf.subarray(Math.max(lineStart, from), lineEnd))
      }
      at = buf.indexOf(WORD_BYTES, lineEnd + 1)
    }
  }

  /** Keeps part of the unfinished line, as little as possible. */
  private keep(piece: Buffer): void {
    if (this.skipping || this.overlong || piece.length === 0) return
    const before = this.partialBytes
    if (before + piece.length > MAX_LINE_BYTES) {
      // Keep only the head, to name the output in the refusal.
      const head = Buffer.concat([...this.partial, piece.subarray(0, HEAD_BYTES + NAME_SPACE)]).subarray(0, HEAD_BYTES + NAME_SPACE)
      this.partial = [Buffer.from(head)]
      this.partialBytes = head.length
      if (head.indexOf(WORD_BYTES) < 0) this.skip()
      else this.overlong = true
      return
    }
    // Copied: the caller's chunk buffer may be reused once push() returns.
    this.partial.push(Buffer.from(piece))
    this.partialBytes += piece.length
    // Once the line is longer than a head, look once: without the word there it cannot be a marker.
    const headEnd = HEAD_BYTES + WORD.length
    if (before <= headEnd && this.partialBytes > headEnd) {
      const head = Buffer.concat(this.partial)
      this.partial = [head]
      if (head.subarray(0, headEnd).indexOf(WORD_BYTES) < 0) this.skip()
    }
  }

  private skip(): void {
    this.skipping = true
    this.partial = []
    this.partialBytes = 0
  }

  private finishPartial(): void {
    if (!this.skipping) {
      const line = Buffer.concat(this.partial)
      if (this.overlong) this.tooLong(line)
      else this.line(line)
    }
    this.partial = []
    this.partialBytes = 0
    this.skipping = false
    this.overlong = false
  }

  private tooLong(head: Buffer): void {
    const m = MARKER_LINE.exec(head.toString('utf8'))
    if (!m) return
    const name = m[1]!
    if (!this.declared.has(name)) return this.undeclared(name)
    this.options.onEvent?.({ kind: 'refused', name, reason: 'too-long' })
  }

  private line(raw: Buffer): void {
    let text = raw.toString('utf8')
    if (text.endsWith('\r')) text = text.slice(0, -1)
    const m = MARKER_LINE.exec(text)
    if (!m) return
    const name = m[1]!
    const value = m[2]!
    if (!this.declared.has(name)) return this.undeclared(name)
    if (this.secrets.some((s) => value.includes(s))) {
      this.options.onEvent?.({ kind: 'refused', name, reason: 'secret' })
      return
    }
    const bytes = jsonBytes(value)
    if (bytes > MAX_VALUE_BYTES + 2) {
      this.options.onEvent?.({ kind: 'refused', name, reason: 'too-long' })
      return
    }
    if (!this.budget.take(bytes, this.sizes.get(name) ?? 0)) {
      this.options.onEvent?.({ kind: 'refused', name, reason: 'total' })
      return
    }
    this.sizes.set(name, bytes)
    this.values.set(name, value)
    this.options.onEvent?.({ kind: 'set', name, value })
  }

  private undeclared(name: string): void {
    // A name that holds a secret is not repeated in a notice.
    if (this.reported.has(name) || this.secrets.some((s) => name.includes(s))) return
    this.reported.add(name)
    this.options.onEvent?.({ kind: 'undeclared', name })
  }
}

/** Enough bytes after the head to read a whole name and its `=`. */
const NAME_SPACE = 80

/**
 * The strings a value may not contain: each secret, and each line of a multi-line secret (a value
 * is one line, so it could only hold a line of it). Lines shorter than 4 characters are left out,
 * as the runner's masking leaves them (they would refuse common values for no protection).
 */
function secretNeedles(secrets: readonly string[]): string[] {
  const needles = new Set<string>()
  for (const s of secrets) {
    if (!s) continue
    needles.add(s)
    if (/[\r\n]/.test(s)) for (const line of s.split(/\r?\n/)) if (line.trim().length >= 4) needles.add(line.trim())
  }
  return [...needles]
}

/** What a notice or warning says about an event; never the value. */
export function describeMarkerEvent(event: MarkerEvent, where?: string): string {
  const from = where ? `${where}: ` : ''
  if (event.kind === 'set') return `${from}job output ${event.name} set.`
  if (event.kind === 'undeclared') {
    return `${from}the job printed 'skypilot-output ${event.name}=...', but '${event.name}' is not in 'job-outputs': ignored. Add it to 'job-outputs' to make it a step output.`
  }
  if (event.reason === 'secret') return `${from}the value of job output ${event.name} contains a secret: refused (not set, not shown).`
  if (event.reason === 'too-long') return `${from}the value of job output ${event.name} is over ${MAX_VALUE_BYTES / 1024} KiB: refused. Print a path or a summary instead, and keep the data in a bucket.`
  return `${from}job output ${event.name} would take the step's job outputs over ${MAX_TOTAL_BYTES / 1024} KiB in total (GitHub holds a job's outputs to 1 MB): refused. Print paths or summaries instead.`
}

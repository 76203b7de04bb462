import { describe, expect, it } from 'vitest'
import { MAX_TOTAL_BYTES, MAX_VALUE_BYTES, MarkerReader, OutputBudget, describeMarkerEvent, type MarkerEvent } from '../../src/results/markers.js'

function read(log: string | Buffer | (string | Buffer)[], declared = ['val_loss', 'accuracy', 'model_path'], secrets: string[] = []) {
  const events: MarkerEvent[] = []
  const reader = new MarkerReader({ declared, secrets, onEvent: (e) => events.push(e) })
  for (const chunk of Array.isArray(log) ? log : [log]) reader.push(chunk)
  reader.end()
  return { outputs: reader.outputs, events, reader }
}

const CYAN = '\u001b[36m'
const RESET = '\u001b[0m'

describe('the line prefixes SkyPilot puts before a job\'s output', () => {
  // The forms of sky/backends/task_codegen.py (Ray) and sky/skylet/executor/slurm.py.
  it.each([
    ['setup on the head', '(setup pid=2841) '],
    ['setup on a worker', '(setup pid=2841, ip=10.128.0.7) '],
    ['run, single node, default name', '(task, pid=3120) '],
    ['run, single node, task name', '(train-gpu.v2, pid=3120) '],
    ['run, multi-node head', '(head, rank=0, pid=3120) '],
    ['run, multi-node worker', '(worker1, rank=1, pid=3121, ip=10.128.0.8) '],
    ['coloured as Ray prints it', `${CYAN}(task, pid=3120)${RESET} `],
    ['coloured as the Slurm executor prints it', `${CYAN}(head, rank=0, pid=7)${RESET} `],
    ['no prefix', '']
  ])('%s', (_what, prefix) => {
    const { outputs } = read(`Epoch 3/3\n${prefix}skypilot-output val_loss=0.4213\n`)
    expect(outputs).toEqual({ val_loss: '0.4213' })
  })

  it.each([
    ['an echo of the marker', 'echo skypilot-output val_loss=1\n'],
    ['a script listing', '(task, pid=1) + echo skypilot-output val_loss=1\n'],
    ['the action\'s own fan-out prefix', '[lr0.01] skypilot-output val_loss=1\n'],
    ['an unknown prefix', '(evil) skypilot-output val_loss=1\n'],
    ['a prefix without a pid', '(task) skypilot-output val_loss=1\n'],
    ['two prefixes', '(task, pid=1) (task, pid=2) skypilot-output val_loss=1\n'],
    ['two spaces', '(task, pid=1)  skypilot-output val_loss=1\n'],
    ['a timestamp', '2024-01-01 12:00:00 skypilot-output val_loss=1\n'],
    ['no space after the word', 'skypilot-outputval_loss=1\n'],
    ['a tab instead of the space', 'skypilot-output\tval_loss=1\n'],
    ['no =', 'skypilot-output val_loss\n'],
    ['a name that is no output name', 'skypilot-output val loss=1\n']
  ])('%s is plain text', (_what, line) => {
    const { outputs, events } = read(line)
    expect(outputs).toEqual({})
    expect(events).toEqual([])
  })
})

describe('values', () => {
  it('the value is the rest of the line, kept as it is (spaces, =, quotes, unicode)', () => {
    const { outputs } = read('(task, pid=1) skypilot-output model_path=s3://b/run 1/model=final "x" ✓  \n')
    expect(outputs.model_path).toBe('s3://b/run 1/model=final "x" ✓  ')
  })

  it('an empty value is a value', () => {
    expect(read('skypilot-output accuracy=\n').outputs).toEqual({ accuracy: '' })
  })

  it('CRLF line ends are not part of the value', () => {
    expect(read('skypilot-output val_loss=0.5\r\nskypilot-output accuracy=0.9\r\n').outputs).toEqual({ val_loss: '0.5', accuracy: '0.9' })
  })

  it('the last value wins, from setup, run or any node', () => {
    const log = ['(setup pid=1) skypilot-output val_loss=9\n', '(head, rank=0, pid=2) skypilot-output val_loss=0.7\n', '(worker1, rank=1, pid=3, ip=10.0.0.2) skypilot-output val_loss=0.6\n'].join('')
    expect(read(log).outputs).toEqual({ val_loss: '0.6' })
  })

  it('a last line without a newline counts once the log ends', () => {
    expect(read('x\nskypilot-output val_loss=0.3').outputs).toEqual({ val_loss: '0.3' })
  })
})

describe('chunks', () => {
  const log = `noise ${'x'.repeat(300)}\n${CYAN}(task, pid=31)${RESET} skypilot-output model_path=gs://bücket/ёлка/model.pt\r\nmore\n(task, pid=31) skypilot-output val_loss=0.125\n`

  it('a marker split at any byte (inside the word, a UTF-8 character, the CRLF) is read whole', () => {
    const bytes = Buffer.from(log, 'utf8')
    for (let cut = 1; cut < bytes.length; cut++) {
      const { outputs } = read([bytes.subarray(0, cut), bytes.subarray(cut)])
      expect(outputs, `cut at ${cut}`).toEqual({ model_path: 'gs://bücket/ёлка/model.pt', val_loss: '0.125' })
    }
  })

  it('one byte at a time', () => {
    const bytes = Buffer.from(log, 'utf8')
    const chunks = [...bytes].map((b) => Buffer.from([b]))
    expect(read(chunks).outputs).toEqual({ model_path: 'gs://bücket/ёлка/model.pt', val_loss: '0.125' })
  })

  it('does not depend on the caller keeping its chunk buffers', () => {
    const reader = new MarkerReader({ declared: ['val_loss'] })
    const buf = Buffer.alloc(64)
    const first = Buffer.from('skypilot-output val_')
    first.copy(buf)
    reader.push(buf.subarray(0, first.length))
    buf.fill(0x41) // the stream reuses its buffer
    reader.push('loss=2\n')
    expect(reader.outputs).toEqual({ val_loss: '2' })
  })
})

describe('the declared names are the whole contract', () => {
  it('an undeclared name changes nothing and is reported once', () => {
    const { outputs, events } = read('skypilot-output status=SUCCEEDED\nskypilot-output status=FAILED\nskypilot-output val_loss=1\n')
    expect(outputs).toEqual({ val_loss: '1' })
    expect(events.filter((e) => e.kind === 'undeclared')).toEqual([{ kind: 'undeclared', name: 'status' }])
    expect(describeMarkerEvent(events[0]!, 'lr0.01')).toBe(
      "lr0.01: the job printed 'skypilot-output status=...', but 'status' is not in 'job-outputs': ignored. Add it to 'job-outputs' to make it a step output."
    )
  })

  it('with no names declared, nothing is read and nothing reported', () => {
    const { outputs, events } = read('skypilot-output val_loss=1\n', [])
    expect(outputs).toEqual({})
    expect(events).toEqual([])
  })
})

describe('secrets', () => {
  const secret = 'hf_AbCdEf0123456789'

  it('a value equal to or containing a secret is refused, and never echoed', () => {
    const { outputs, events } = read(`skypilot-output model_path=${secret}\nskypilot-output accuracy=token:${secret}!\nskypilot-output val_loss=0.1\n`, undefined, [secret])
    expect(outputs).toEqual({ val_loss: '0.1' })
    const refused = events.filter((e) => e.kind === 'refused')
    expect(refused).toEqual([
      { kind: 'refused', name: 'model_path', reason: 'secret' },
      { kind: 'refused', name: 'accuracy', reason: 'secret' }
    ])
    for (const e of refused) expect(describeMarkerEvent(e)).not.toContain(secret)
    expect(describeMarkerEvent(refused[0]!)).toBe('the value of job output model_path contains a secret: refused (not set, not shown).')
  })

  it('a refused value leaves the earlier value in place', () => {
    const { outputs } = read(`skypilot-output val_loss=0.5\nskypilot-output val_loss=${secret}\n`, undefined, [secret])
    expect(outputs).toEqual({ val_loss: '0.5' })
  })

  it('a line of a multi-line secret (a key file) is refused too', () => {
    const key = '-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END KEY-----'
    const { outputs } = read('skypilot-output model_path=MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n', undefined, [key])
    expect(outputs).toEqual({})
  })

  it('an undeclared name holding a secret is not repeated in a notice', () => {
    const { events } = read(`skypilot-output ${'x' + 'secretname'}=1\n`, ['val_loss'], ['secretname'])
    expect(events).toEqual([])
  })

  it('empty secrets refuse nothing', () => {
    expect(read('skypilot-output val_loss=1\n', undefined, ['']).outputs).toEqual({ val_loss: '1' })
  })
})

describe('size limits', () => {
  it(`a value over ${MAX_VALUE_BYTES / 1024} KiB is refused, whole or split across chunks`, () => {
    const big = `skypilot-output model_path=${'a'.repeat(MAX_VALUE_BYTES + 1)}\n`
    for (const chunks of [[big], [big.slice(0, 1000), big.slice(1000, 40_000), big.slice(40_000)]]) {
      const { outputs, events } = read(['skypilot-output model_path=ok\n', ...chunks])
      expect(outputs).toEqual({ model_path: 'ok' })
      expect(events.at(-1)).toEqual({ kind: 'refused', name: 'model_path', reason: 'too-long' })
    }
  })

  it('a value just under the limit is kept', () => {
    const value = 'b'.repeat(MAX_VALUE_BYTES - 10)
    expect(read(`skypilot-output model_path=${value}\n`).outputs.model_path).toBe(value)
  })

  it('a far longer line (a marker or not) keeps memory bounded and the next line is read', () => {
    for (const head of ['skypilot-output model_path=', 'progress ']) {
      const events: MarkerEvent[] = []
      const reader = new MarkerReader({ declared: ['model_path', 'val_loss'], onEvent: (e) => events.push(e) })
      reader.push(head)
      const chunk = Buffer.alloc(1 << 20, 0x7a)
      let peak = 0
      for (let i = 0; i < 32; i++) {
        reader.push(chunk)
        peak = Math.max(peak, reader.bufferedBytes)
      }
      reader.push('\nskypilot-output val_loss=0.2\n')
      reader.end()
      expect(peak).toBeLessThan(MAX_VALUE_BYTES + 4096)
      expect(reader.outputs).toEqual({ val_loss: '0.2' })
      expect(events.filter((e) => e.kind === 'refused')).toEqual(head.startsWith('skypilot') ? [{ kind: 'refused', name: 'model_path', reason: 'too-long' }] : [])
    }
  })

  it('the total of a step\'s values is held to the budget, shared by its readers (fan-out)', () => {
    const budget = new OutputBudget()
    const events: MarkerEvent[] = []
    const value = 'c'.repeat(60 * 1024)
    const readers = [0, 1, 2, 3].map(() => new MarkerReader({ declared: ['model_path'], budget, onEvent: (e) => events.push(e) }))
    for (const r of readers) r.push(`skypilot-output model_path=${value}\n`)
    // 3 x 60 KiB fit in 192 KiB; the fourth does not.
    expect(readers.map((r) => Object.keys(r.outputs).length)).toEqual([1, 1, 1, 0])
    expect(events.at(-1)).toEqual({ kind: 'refused', name: 'model_path', reason: 'total' })
    expect(describeMarkerEvent(events.at(-1)!)).toMatch(/192 KiB in total/)
    // Replacing a value frees its old size: the first reader's smaller value lets the fourth in.
    readers[0]!.push('skypilot-output model_path=small\n')
    readers[3]!.push(`skypilot-output model_path=${value}\n`)
    expect(readers[3]!.outputs.model_path).toBe(value)
    expect(MAX_TOTAL_BYTES).toBe(192 * 1024)
  })

  it('reset() forgets a failed attempt\'s values and frees their room', () => {
    const budget = new OutputBudget(100)
    const reader = new MarkerReader({ declared: ['a', 'b'], budget })
    reader.push(`skypilot-output a=${'x'.repeat(60)}\nskypilot-output b=1\n`)
    reader.reset()
    expect(reader.outputs).toEqual({})
    reader.push(`skypilot-output a=${'y'.repeat(90)}\n`)
    expect(reader.outputs).toEqual({ a: 'y'.repeat(90) })
  })
})

it('a big log without markers is read quickly', () => {
  const reader = new MarkerReader({ declared: ['val_loss'] })
  const line = '(task, pid=3120) step 1200/5000 loss=0.4411 lr=3e-4 throughput=812 samples/s\n'
  const chunk = Buffer.from(line.repeat(Math.ceil(65536 / line.length)))
  const started = performance.now()
  let bytes = 0
  while (bytes < 256 << 20) {
    reader.push(chunk)
    bytes += chunk.length
  }
  reader.push('(task, pid=3120) skypilot-output val_loss=0.44\n')
  reader.end()
  const ms = performance.now() - started
  expect(reader.outputs).toEqual({ val_loss: '0.44' })
  // 256 MiB: native byte searches only, well under a second on a slow machine.
  expect(ms).toBeLessThan(3000)
})

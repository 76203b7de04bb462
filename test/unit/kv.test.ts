import { describe, it, expect } from 'vitest'
import { parseKeyValues } from '../../src/kv.js'

describe('parseKeyValues: KEY=VALUE lines', () => {
  it('reads lines, skips comments and blank lines', () => {
    const { values, problems } = parseKeyValues('# a comment\nA=1\n\n  # indented comment\nB_2=two\n', "'envs'")
    expect(problems).toEqual([])
    expect(values).toEqual({ A: '1', B_2: 'two' })
  })

  it('keeps everything after the first = (including = and inner spaces)', () => {
    const { values, problems } = parseKeyValues('URL=https://x.test/?a=b&c=d\nMSG=hello big world\nEMPTY=', "'envs'")
    expect(problems).toEqual([])
    expect(values).toEqual({ URL: 'https://x.test/?a=b&c=d', MSG: 'hello big world', EMPTY: '' })
  })

  it('handles CRLF line endings without leaving a carriage return in values', () => {
    const { values, problems } = parseKeyValues('A=1\r\nB=two words\r\n', "'envs'")
    expect(problems).toEqual([])
    expect(values).toEqual({ A: '1', B: 'two words' })
    expect(values.A).not.toContain('\r')
  })

  it('trims the key around =', () => {
    const { values } = parseKeyValues('A = 1', "'envs'")
    expect(Object.keys(values)).toEqual(['A'])
  })

  it('keeps shell metacharacters verbatim as one value', () => {
    const text = 'EVIL=$(rm -rf /)\nTICKS=`whoami`\nQUOTES="double" and \'single\''
    const { values, problems } = parseKeyValues(text, "'envs'")
    expect(problems).toEqual([])
    expect(values).toEqual({ EVIL: '$(rm -rf /)', TICKS: '`whoami`', QUOTES: `"double" and 'single'` })
  })

  it('reports a line without = with its line number and how to fix it', () => {
    const { values, problems } = parseKeyValues('A=1\njust text\n', "'envs'")
    expect(values).toEqual({ A: '1' })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toContain("'envs', line 2")
    expect(problems[0]).toContain('KEY=VALUE')
  })

  it('reports a line starting with =', () => {
    const { problems } = parseKeyValues('=value', "'envs'")
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/line 1: expected KEY=VALUE/)
  })

  it.each(['1ABC', 'A-B', 'A.B', 'MY KEY', 'É'])('rejects the invalid name %j', (key) => {
    const { values, problems } = parseKeyValues(`${key}=x`, "'envs'")
    expect(values).toEqual({})
    expect(problems).toHaveLength(1)
    expect(problems[0]).toContain('is not a valid name')
    expect(problems[0]).toContain('[a-zA-Z_][a-zA-Z0-9_]*')
  })

  it('reports a duplicate and keeps the first value', () => {
    const { values, problems } = parseKeyValues('A=1\nA=2', "'secrets'")
    expect(values).toEqual({ A: '1' })
    expect(problems).toEqual(["'secrets': 'A' is given twice; keep one."])
  })

  it('returns nothing for empty or whitespace text', () => {
    expect(parseKeyValues('', 'x')).toEqual({ values: {}, problems: [] })
    expect(parseKeyValues('  \n \n', 'x')).toEqual({ values: {}, problems: [] })
  })

  it('reports every problem at once', () => {
    const { problems } = parseKeyValues('1A=x\nnope\nB=1\nB=2', "'envs'")
    expect(problems).toHaveLength(3)
  })
})

describe('parseKeyValues: JSON and YAML maps', () => {
  it('reads a JSON map', () => {
    const { values, problems } = parseKeyValues('{"A": "1", "B": "x=y z"}', "'envs'")
    expect(problems).toEqual([])
    expect(values).toEqual({ A: '1', B: 'x=y z' })
  })

  it('casts JSON numbers, booleans and null to strings', () => {
    const { values, problems } = parseKeyValues('{"N": 3, "F": 0.5, "T": true, "Z": null}', "'envs'")
    expect(problems).toEqual([])
    expect(values).toEqual({ N: '3', F: '0.5', T: 'true', Z: '' })
  })

  it('reads a YAML map and casts numbers and booleans to strings', () => {
    const { values, problems } = parseKeyValues('LR: 0.01\nEPOCHS: 10\nDEBUG: false\nNAME: run one\n', "'envs'")
    expect(problems).toEqual([])
    expect(values).toEqual({ LR: '0.01', EPOCHS: '10', DEBUG: 'false', NAME: 'run one' })
    for (const v of Object.values(values)) expect(typeof v).toBe('string')
  })

  it('reads a YAML map with a leading comment', () => {
    const { values, problems } = parseKeyValues('# settings\nA: 1\n', "'envs'")
    expect(problems).toEqual([])
    expect(values).toEqual({ A: '1' })
  })

  it('treats KEY=a:b as a KEY=VALUE line, not as YAML', () => {
    const { values, problems } = parseKeyValues('URL=http://h:80', "'envs'")
    expect(problems).toEqual([])
    expect(values).toEqual({ URL: 'http://h:80' })
  })

  it('keeps shell metacharacters verbatim in a map value', () => {
    const { values, problems } = parseKeyValues(JSON.stringify({ CMD: '$(rm -rf /); `id` "q" \'s\'' }), "'envs'")
    expect(problems).toEqual([])
    expect(values).toEqual({ CMD: '$(rm -rf /); `id` "q" \'s\'' })
  })

  it('rejects nested values, saying to give a string', () => {
    const { values, problems } = parseKeyValues('{"A": {"x": 1}, "B": [1, 2], "C": "ok"}', "'envs'")
    expect(values).toEqual({ C: 'ok' })
    expect(problems).toEqual([
      "'envs': the value of 'A' is a map; give a string.",
      "'envs': the value of 'B' is a list; give a string."
    ])
  })

  it('rejects invalid names in a map', () => {
    const { values, problems } = parseKeyValues('{"BAD-NAME": "1", "OK": "2"}', "'envs'")
    expect(values).toEqual({ OK: '2' })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toContain("'BAD-NAME' is not a valid name")
  })

  it('reports duplicate keys in a map as a parse problem', () => {
    const { values, problems } = parseKeyValues('A: 1\nA: 2\n', "'envs'")
    expect(values).toEqual({})
    expect(problems).toHaveLength(1)
    expect(problems[0]).toContain('not valid YAML/JSON')
  })

  it('refuses YAML aliases', () => {
    const { values, problems } = parseKeyValues('A: &x hello\nB: *x\n', "'envs'")
    expect(values).toEqual({})
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^'envs': not valid YAML\/JSON/)
    expect(problems[0]).toContain('KEY=VALUE lines')
  })

  it('reports broken JSON with how to write it', () => {
    const { problems } = parseKeyValues('{"A": ', "'envs'")
    expect(problems).toHaveLength(1)
    expect(problems[0]).toContain('not valid YAML/JSON')
    expect(problems[0]).toContain('{"KEY": "value"}')
  })

  it('reports a JSON list as not a map', () => {
    // A list starting with '[' is not detected as a map; it is read as a line and reported.
    const { values, problems } = parseKeyValues('["A"]', "'envs'")
    expect(values).toEqual({})
    expect(problems).toHaveLength(1)
  })
})

// The caps, written into the task that SkyPilot runs, so that they hold after the runner has gone:
// as the job's own metadata (SkyPilot keeps a task's `_metadata` with the job and shows it in
// `sky queue -o json` and `sky jobs queue -v -o json`, next to the job's `submitted_at`: a later
// `mode: collect` and the janitor read the cap there, counted from SkyPilot's own submission time),
// and as the backend's own wall-clock limit where SkyPilot exposes one in a task's `config:`
// (Slurm: the allocation's `--time`; Kubernetes: the pod's activeDeadlineSeconds).
//
// The task is written out again from the values PyYAML builds of it, in a form PyYAML reads back
// to the very same values (JSON-like flow style, Python's own float text), so nothing else of it
// changes. A task holding a value that form cannot carry (a date, binary data, a non-text key) is
// not rewritten: the caps then hold only while the runner watches, and the caller says so.
import { splitDag } from './dag.js'
import { parseTaskYaml } from './parse.js'
import { floatRepr, type PyEntry, type PyNode } from './python.js'

/** Where the caps sit in a task's `_metadata` (and so in the job records' `metadata`). */
export const CAPS_METADATA_KEY = 'skypilot_action_caps'

export interface CapsStamp {
  maxDurationS?: number
  maxCostUsd?: number
  /** Slurm `--time` in minutes (the allocation's wall-clock limit). */
  slurmTimeMinutes?: number
  /** The pod's activeDeadlineSeconds on Kubernetes. */
  podDeadlineS?: number
}

/** The task text with the caps written in, or why it could not be. */
export function stampTask(text: string, stamp: CapsStamp): { text: string } | { why: string } {
  const parsed = parseTaskYaml(text)
  if (parsed.problems.length > 0) return { why: 'the task YAML could not be read again' }
  const dag = splitDag(parsed)
  const taskDocs = new Set(dag.tasks.map((t) => t.doc))
  const out: string[] = []
  for (const doc of parsed.documents) {
    let py = doc.py
    if (taskDocs.has(doc) && py.type === 'dict') py = stampDoc(py, stamp)
    const emitted = emit(py)
    if (typeof emitted !== 'string') return { why: `it holds ${emitted.why}, which the rewritten task could not carry unchanged` }
    out.push(emitted)
  }
  return { text: `${out.join('\n---\n')}\n` }
}

const str = (value: string): PyNode => ({ type: 'str', value })
const int = (value: number): PyNode => ({ type: 'int', value: BigInt(Math.round(value)) })

function stampDoc(task: Extract<PyNode, { type: 'dict' }>, stamp: CapsStamp): PyNode {
  const caps: PyEntry[] = []
  if (stamp.maxDurationS !== undefined) caps.push({ key: str('max_duration_s'), value: int(stamp.maxDurationS) })
  if (stamp.maxCostUsd !== undefined) caps.push({ key: str('max_cost_usd'), value: { type: 'float', value: stamp.maxCostUsd } })
  let out: PyNode = task
  if (caps.length > 0) out = setIn(out, ['_metadata', CAPS_METADATA_KEY], { type: 'dict', entries: caps }, true)
  // The user's own limits win: theirs is never replaced.
  if (stamp.slurmTimeMinutes !== undefined) out = setIn(out, ['config', 'slurm', 'sbatch_options', 'time'], int(stamp.slurmTimeMinutes), false)
  if (stamp.podDeadlineS !== undefined) out = setIn(out, ['config', 'kubernetes', 'pod_config', 'spec', 'activeDeadlineSeconds'], int(stamp.podDeadlineS), false)
  return out
}

/** A copy of `node` with `value` at `path` (dicts made on the way); an existing value is kept unless `replace`. */
function setIn(node: PyNode, path: string[], value: PyNode, replace: boolean): PyNode {
  const [head, ...rest] = path as [string, ...string[]]
  const dict: Extract<PyNode, { type: 'dict' }> = node.type === 'dict' ? node : { type: 'dict', entries: [] }
  // `t.get`-style lookups read the last of equal keys; a missing or None value is replaced by a dict.
  const index = dict.entries.findLastIndex((e) => e.key.type === 'str' && e.key.value === head)
  const current = index >= 0 ? dict.entries[index]!.value : undefined
  let next: PyNode
  if (rest.length === 0) next = current !== undefined && current.type !== 'NoneType' && !replace ? current : value
  else next = setIn(current && current.type === 'dict' ? current : { type: 'dict', entries: [] }, rest, value, replace)
  if (current !== undefined && current.type !== 'dict' && current.type !== 'NoneType' && rest.length > 0) return node
  const entries = [...dict.entries]
  if (index >= 0) entries[index] = { key: entries[index]!.key, value: next }
  else entries.push({ key: str(head), value: next })
  return { type: 'dict', entries }
}

/**
 * YAML text that PyYAML's safe loader reads back to exactly `node`: flow collections, strings in
 * JSON's double quotes (a subset of YAML's), ints in full, floats as Python writes them with the
 * dot YAML 1.1 needs (`1.0e+21`, `.inf`, `.nan`).
 */
function emit(node: PyNode): string | { why: string } {
  switch (node.type) {
    case 'str':
      if (/[\ud800-\udfff]/.test(node.value.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''))) return { why: 'a string with a lone surrogate' }
      return JSON.stringify(node.value)
    case 'int':
      return node.value.toString()
    case 'float': {
      if (Number.isNaN(node.value)) return '.nan'
      if (!Number.isFinite(node.value)) return node.value > 0 ? '.inf' : '-.inf'
      const repr = floatRepr(node.value)
      return repr.includes('.') ? repr : repr.replace('e', '.0e')
    }
    case 'bool':
      return node.value ? 'true' : 'false'
    case 'NoneType':
      return 'null'
    case 'list': {
      const items: string[] = []
      for (const item of node.items) {
        const e = emit(item)
        if (typeof e !== 'string') return e
        items.push(e)
      }
      return `[${items.join(', ')}]`
    }
    case 'dict': {
      const entries: string[] = []
      for (const { key, value } of node.entries) {
        if (key.type !== 'str') return { why: `a key that is not text (${key.type})` }
        const v = emit(value)
        if (typeof v !== 'string') return v
        entries.push(`${JSON.stringify(key.value)}: ${v}`)
      }
      return `{${entries.join(', ')}}`
    }
    default:
      return { why: `a ${node.type} value` }
  }
}

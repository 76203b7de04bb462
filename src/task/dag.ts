// Splits the YAML documents of a task file into tasks the way SkyPilot's loaders do
// (sky/utils/dag_utils.py): one task, a pipeline (a chain, optionally after a header with
// `name` and `execution: serial`) or a job group (a header with `execution: parallel`, then
// named jobs), with the header and job checks those loaders make.
import { withLine, type ParseResult, type ParsedDocument, type Problem } from './parse.js'
import { dictEntry, dictGet, isAlnum, isNone, pyStr, truthy, type PyNode } from './python.js'

export type DagKind = 'task' | 'chain' | 'job-group'

export interface TaskDoc {
  doc: ParsedDocument
  /** The task's config: a Python dict. */
  py: Extract<PyNode, { type: 'dict' }>
  /** A job's name (job groups). */
  jobName?: string
}

export interface Dag {
  kind: DagKind
  /** Pipeline or job-group name from the header, or the single task's name. */
  name?: string
  tasks: TaskDoc[]
  problems: Problem[]
}

/** `sky/skylet/constants.py` TIME_PATTERN_SECONDS: termination delays. */
const TIME_SECONDS = /^[0-9]+(s|m|h|d|w|S|M|H|D|W)?$/

const describeDoc = (py: PyNode): string =>
  py.type === 'list' ? 'a list' : py.type === 'str' ? `the text '${py.value.slice(0, 40)}'` : `the value ${pyStr(py).slice(0, 40)}`

/** Job and job-group names: letters, digits, '-' and '_' (str.isalnum() counts any Unicode letter). */
const isJobName = (name: string): boolean => [...name].every((c) => isAlnum(c) || c === '-' || c === '_')

export function splitDag(parsed: ParseResult): Dag {
  const docs = parsed.documents
  const problems: Problem[] = []
  const first = docs[0]
  const header = first?.py

  // dag_utils._is_job_group_configs: two documents or more, the first saying `execution: parallel`.
  if (docs.length >= 2 && header?.type === 'dict' && dictGet(header, 'execution')?.type === 'str' && pyStr(dictGet(header, 'execution') as PyNode) === 'parallel') {
    return jobGroup(docs, problems)
  }
  if (parsed.duplicateKey) problems.push(parsed.duplicateKey)
  for (const [i, d] of docs.entries()) {
    if (d.py.type !== 'dict' && d.py.type !== 'NoneType') {
      problems.push(
        withLine(
          `The task YAML must be a map of keys (name, resources, setup, run, ...); document ${i + 1} is ${describeDoc(d.py)}. Write the task as 'key: value' lines`,
          d.at(d.py)
        )
      )
    }
  }
  if (problems.length > 0) return { kind: 'task', tasks: [], problems }
  if (!docs.some((d) => truthy(d.py))) {
    problems.push({
      message:
        'The task YAML is empty or holds no task definition, which SkyPilot refuses. Add at least a `run:` (or `setup:`) field.'
    })
    return { kind: 'task', tasks: [], problems }
  }

  // dag_utils._load_chain_dag: a first document holding only `name` (and `execution`) is a header.
  let name: string | undefined
  let taskDocs = docs
  const keys = header?.type === 'dict' ? header.entries.map((e) => (e.key.type === 'str' ? e.key.value : undefined)) : []
  const isHeader = header?.type === 'dict' && keys.includes('name') && keys.every((k) => k === 'name' || k === 'execution')
  if (isHeader && first) {
    const nameValue = dictGet(header, 'name')
    if (nameValue?.type === 'str') name = nameValue.value
    const execution = dictGet(header, 'execution')
    if (!isNone(execution) && !(execution?.type === 'str' && execution.value === 'serial')) {
      problems.push(
        withLine(
          `Invalid execution mode for a pipeline: '${pyStr(execution as PyNode)}'. Use 'execution: serial' (or omit it) for a pipeline, or 'execution: parallel' with at least one job after the header for a job group`,
          first.at(dictEntry(header, 'execution')?.key)
        )
      )
    }
    taskDocs = docs.slice(1)
    if (taskDocs.length === 0) {
      // A header alone still makes one task, named after it.
      return { kind: 'task', ...(name !== undefined ? { name } : {}), tasks: [{ doc: first, py: { type: 'dict', entries: [{ key: { type: 'str', value: 'name' }, value: nameValue ?? { type: 'NoneType' } }] } }], problems }
    }
  }
  const tasks: TaskDoc[] = []
  for (const d of taskDocs) if (d.py.type === 'dict') tasks.push({ doc: d, py: d.py })
  if (tasks.length === 0) {
    // SkyPilot loads this as a pipeline of no task, which `sky launch` and `sky jobs launch` then fail on.
    problems.push(withLine("The task YAML has a pipeline header and no task after it. Add a task after '---' (at least a `run:` field), or remove the header", first?.at(header)))
  }
  if (!isHeader && tasks.length === 1 && tasks[0]?.py) {
    const taskName = dictGet(tasks[0].py, 'name')
    if (taskName?.type === 'str') name = taskName.value
  }
  return { kind: tasks.length > 1 ? 'chain' : 'task', ...(name !== undefined ? { name } : {}), tasks, problems }
}

/** dag_utils._load_job_group: a header with a valid name, then jobs each with a unique valid name. */
function jobGroup(docs: ParsedDocument[], problems: Problem[]): Dag {
  const headerDoc = docs[0] as ParsedDocument
  const header = headerDoc.py as Extract<PyNode, { type: 'dict' }>
  const at = (key: string): ReturnType<ParsedDocument['at']> => headerDoc.at(dictEntry(header, key)?.value ?? header)
  const nameValue = dictGet(header, 'name')
  let name: string | undefined
  if (!dictEntry(header, 'name')) {
    problems.push(withLine("The job-group header (the document with 'execution: parallel') has no 'name'. Add 'name: my-group' to it", headerDoc.at(header)))
  } else if (nameValue?.type !== 'str' || nameValue.value === '' || !isJobName(nameValue.value)) {
    problems.push(
      withLine(
        `Invalid job group name: ${nameValue ? `'${pyStr(nameValue)}'` : 'none'}. Use letters, digits, '-' and '_' only (e.g. 'train-group')`,
        at('name')
      )
    )
  } else {
    name = nameValue.value
  }

  const tasks: TaskDoc[] = []
  const jobNames = new Set<string>()
  docs.slice(1).forEach((d, i) => {
    if (d.py.type === 'NoneType') return
    if (d.py.type !== 'dict') {
      problems.push(withLine(`Job ${i + 1} of the job group must be a map of keys (name, resources, run, ...); it is ${describeDoc(d.py)}. Write it as 'key: value' lines`, d.at(d.py)))
      return
    }
    const jobName = dictGet(d.py, 'name')
    if (isNone(jobName)) {
      problems.push(withLine(`Job ${i + 1} of the job group has no 'name'. Give each job a name: 'name: trainer'`, d.at(d.py)))
      return
    }
    const text = jobName?.type === 'str' ? jobName.value : undefined
    if (text === undefined || !isJobName(text)) {
      problems.push(withLine(`Invalid job name: '${pyStr(jobName as PyNode)}'. Use letters, digits, '-' and '_' only (e.g. 'trainer')`, d.at(jobName)))
      return
    }
    if (jobNames.has(text)) {
      problems.push(withLine(`Two jobs of the job group are named '${text}'. Give each job its own name`, d.at(jobName)))
      return
    }
    jobNames.add(text)
    tasks.push({ doc: d, py: d.py, jobName: text })
  })
  if (tasks.length === 0 && problems.length === 0) {
    // SkyPilot loads a job group of no job, which `sky jobs launch` then fails on.
    problems.push(withLine("The job group has a header and no job after it. Add at least one job after '---' (with 'name' and 'run')", headerDoc.at(header)))
  }

  const primary = dictGet(header, 'primary_tasks')
  if (!isNone(primary)) {
    if (primary?.type !== 'list') {
      problems.push(withLine(`primary_tasks must be a list of job names, got ${pyStr(primary as PyNode)}. Write it as a list: [trainer]`, at('primary_tasks')))
    } else {
      for (const item of primary.items) {
        if (item.type !== 'str') problems.push(withLine(`primary_tasks entries must be job names (text), got ${pyStr(item)}. Quote it`, headerDoc.at(item)))
        else if (!jobNames.has(item.value)) {
          problems.push(withLine(`primary_tasks names '${item.value}', which is not a job of the group (jobs: ${[...jobNames].sort().join(', ') || 'none'}). Fix the name`, headerDoc.at(item)))
        }
      }
    }
  }

  const delay = dictGet(header, 'termination_delay')
  if (!isNone(delay)) {
    const checkDuration = (value: PyNode, what: string): void => {
      if (!TIME_SECONDS.test(pyStr(value))) {
        problems.push(withLine(`Invalid time duration for ${what}: '${pyStr(value)}'. Write a whole number with an optional unit s, m, h, d or w (e.g. 30s, 5m)`, headerDoc.at(value)))
      }
    }
    if (delay?.type === 'str' || delay?.type === 'int' || delay?.type === 'bool') checkDuration(delay, 'termination_delay')
    else if (delay?.type === 'dict') {
      for (const { key, value } of delay.entries) {
        if (key.type !== 'str' || !(value.type === 'str' || value.type === 'int' || value.type === 'bool')) {
          problems.push(withLine(`termination_delay must map job names (text) to durations (text or a number), got ${pyStr(key)}: ${pyStr(value)}. Fix that entry`, headerDoc.at(key)))
          continue
        }
        if (key.value !== 'default' && !jobNames.has(key.value)) {
          problems.push(withLine(`termination_delay names '${key.value}', which is not a job of the group (jobs: ${[...jobNames].sort().join(', ') || 'none'}, or 'default'). Fix the name`, headerDoc.at(key)))
          continue
        }
        checkDuration(value, `termination_delay['${key.value}']`)
      }
    } else {
      problems.push(withLine(`termination_delay must be a duration (e.g. 30s) or a map of job names to durations, got ${pyStr(delay as PyNode)}. Fix it`, at('termination_delay')))
    }
  }
  // Header keys other than name, execution, primary_tasks and termination_delay SkyPilot ignores
  // (with a warning); so does the action.
  return { kind: 'job-group', ...(name !== undefined ? { name } : {}), tasks, problems }
}

import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { UserError } from '../errors.js'
import type { TaskSource } from '../inputs.js'
import { getExecOutput } from '@actions/exec'
import { MAX_TASK_BYTES } from './parse.js'

/** A task YAML made ready for `sky`: its text, a file path, and the directory sky runs in. */
export interface ResolvedTask {
  /** Absolute path of the YAML file handed to sky. */
  path: string
  text: string
  /** Where relative paths in the task (workdir, file_mounts) are resolved: sky's working directory. */
  cwd: string
  /** Path for annotations, relative to the workspace; absent when the file is not in the repository. */
  annotationFile?: string
  /** How the summary names the task. */
  label: string
  /** A directory made under RUNNER_TEMP for this task, removed by the post step. */
  tempDir?: string
}


export interface SourceContext {
  workspace: string
  temp: string
}

/** Where a source would come from, without touching disk or network: for dry-run and the summary. */
export function describeSource(source: TaskSource): string {
  switch (source.kind) {
    case 'workspace':
      return source.task
    case 'directory':
      return `${source.basePath}/${source.task}`
    case 'git':
      return `${redactUrl(source.url)}${source.ref ? `@${source.ref}` : ''}: ${source.task}`
    case 'inline':
      return 'inline task-yaml'
  }
}

/** Resolves a task source; a git source is fetched shallowly under RUNNER_TEMP. */
export async function resolveTask(source: TaskSource, ctx: SourceContext): Promise<ResolvedTask> {
  switch (source.kind) {
    case 'workspace': {
      const file = insideRoot(ctx.workspace, source.task, "'task'")
      return fromFile(file, ctx.workspace, ctx.workspace, source.task)
    }
    case 'directory': {
      const base = insideRoot(ctx.workspace, source.basePath, "'base-path'")
      if (!fs.statSync(base, { throwIfNoEntry: false })?.isDirectory()) {
        throw new UserError(`'base-path' ${source.basePath} is not a directory in the workspace. Check the path, and that actions/checkout ran first.`)
      }
      const file = insideRoot(base, source.task, "'task'")
      return fromFile(file, base, ctx.workspace, describeSource(source))
    }
    case 'git': {
      const dir = path.join(ctx.temp, 'skypilot-action', `src-${randomUUID().slice(0, 8)}`)
      await fetchGit(source.url, source.ref, dir)
      const file = insideRoot(dir, source.task, "'task'")
      const resolved = fromFile(file, dir, undefined, describeSource(source))
      return { ...resolved, tempDir: dir }
    }
    case 'inline': {
      if (Buffer.byteLength(source.yaml) > MAX_TASK_BYTES) throw new UserError(`'task-yaml' is larger than ${MAX_TASK_BYTES} bytes; keep a task small and put data in buckets or file_mounts.`)
      const dir = path.join(ctx.temp, 'skypilot-action', `inline-${randomUUID().slice(0, 8)}`)
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
      const file = path.join(dir, 'task.yaml')
      fs.writeFileSync(file, source.yaml, { mode: 0o600 })
      return { path: file, text: source.yaml, cwd: ctx.workspace, label: 'inline task-yaml', tempDir: dir }
    }
  }
}

/**
 * Resolves `rel` under `root` and refuses anything that leaves it, by `..` or by a symlink: a
 * workflow must not be able to hand sky a file from elsewhere on the runner.
 */
export function insideRoot(root: string, rel: string, what: string): string {
  const realRoot = fs.realpathSync(root)
  const candidate = path.resolve(realRoot, rel)
  if (!isWithin(realRoot, candidate)) throw new UserError(`${what} '${rel}' points outside ${root}; give a path inside it.`)
  let real: string
  try {
    real = fs.realpathSync(candidate)
  } catch {
    throw new UserError(`${what} '${rel}' does not exist under ${root}. Check the path (relative to ${root}), and that actions/checkout ran first.`)
  }
  if (!isWithin(realRoot, real)) throw new UserError(`${what} '${rel}' is a link to a file outside ${root}; refusing to read it. Give a path inside it (copy the file in rather than linking to it).`)
  return real
}

function isWithin(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate)
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))
}

function fromFile(file: string, cwd: string, workspace: string | undefined, label: string): ResolvedTask {
  const stat = fs.statSync(file)
  if (!stat.isFile()) throw new UserError(`'task' ${label} is not a file; give the path of the task YAML file.`)
  if (stat.size > MAX_TASK_BYTES) throw new UserError(`'task' ${label} is larger than ${MAX_TASK_BYTES} bytes; a task YAML should be small: move large data out of it (into file_mounts, or a script in the workdir).`)
  const text = fs.readFileSync(file, 'utf8')
  const annotationFile = workspace ? path.relative(fs.realpathSync(workspace), file) : undefined
  return { path: file, text, cwd, annotationFile, label }
}

/**
 * Shallow fetch of one ref (branch, tag or commit) into `dir`. `git fetch origin REF` works for
 * all three where `clone --branch` does not take a commit.
 */
async function fetchGit(url: string, ref: string | undefined, dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  const env = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'echo', GCM_INTERACTIVE: 'never' }
  const git = (args: string[]) => getExecOutput('git', args, { cwd: dir, env, silent: true, ignoreReturnCode: true })
  const steps: string[][] = [
    ['init', '-q'],
    ['remote', 'add', 'origin', url],
    // A stalled transfer (under 1 KB/s for a minute) is given up by git itself.
    ['-c', 'protocol.ext.allow=never', '-c', 'http.lowSpeedLimit=1000', '-c', 'http.lowSpeedTime=60', 'fetch', '-q', '--depth', '1', '--no-tags', 'origin', ref || 'HEAD'],
    ['-c', 'advice.detachedHead=false', 'checkout', '-q', 'FETCH_HEAD']
  ]
  for (const args of steps) {
    const result = await git(args)
    if (result.exitCode !== 0) {
      const detail = redactText(result.stderr.trim().split('\n').slice(-3).join(' '), url)
      throw new UserError(
        `Could not fetch ${redactUrl(url)}${ref ? ` at '${ref}'` : ''} (git ${args.find((a) => !a.startsWith('-') && !a.includes('=')) ?? args[0]}: ${detail || `exit ${result.exitCode}`}). ` +
          "Check the URL and the ref ('base-path' and 'git-ref'), and that the runner can reach it (private repositories need a deploy key or token set up before this step)."
      )
    }
  }
}

export function redactUrl(url: string): string {
  return url.replace(/^([a-z+]+:\/\/)[^/@]*@/i, '$1***@')
}

function redactText(text: string, url: string): string {
  return text.split(url).join(redactUrl(url))
}

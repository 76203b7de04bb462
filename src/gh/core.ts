import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/**
 * The runner's protocol for an action: inputs from env, file commands (GITHUB_OUTPUT, GITHUB_STATE,
 * GITHUB_ENV, GITHUB_PATH, GITHUB_STEP_SUMMARY) and workflow commands on stdout. The same names and
 * semantics as @actions/core, whose current major loads an HTTP client (undici, ~75 ms) at import
 * for OIDC this action never uses: that alone was half the action's start-up budget.
 */

export interface InputOptions {
  required?: boolean
  trimWhitespace?: boolean
}

export function getInput(name: string, options: InputOptions = {}): string {
  const value = process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? ''
  if (options.required && !value) throw new Error(`Input required and not supplied: ${name}`)
  return options.trimWhitespace === false ? value : value.trim()
}

function escapeData(value: string): string {
  return value.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}

function escapeProperty(value: string): string {
  return escapeData(value).replace(/:/g, '%3A').replace(/,/g, '%2C')
}

function issue(command: string, message = '', properties: Record<string, string | number | undefined> = {}): void {
  const props = Object.entries(properties)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`)
    .join(',')
  const line = `::${command}${props ? ` ${props}` : ''}::${escapeData(message)}${os.EOL}`
  // While relayed output has commands stopped, one of ours resumes them for its own line only.
  if (stopToken) process.stdout.write(`${lineBreak()}::${stopToken}::${os.EOL}${line}::stop-commands::${stopToken}${os.EOL}`)
  else process.stdout.write(`${lineBreak()}${line}`)
  midLine = false
}

/*
 * Relayed output (a task's log) is not ours: a line in it that looks like a workflow command
 * (`::add-mask::`, `::error::`, `::set-output`) must stay text. While any relay runs, the runner's
 * command processing is stopped with a random token; several relays (fan-out) share one stop.
 */
let stopToken: string | undefined
let relays = 0
/** The last relayed write ended inside a line: a command must start on a line of its own. */
let midLine = false

function lineBreak(): string {
  return midLine ? os.EOL : ''
}

export function stopCommands(): void {
  if (relays++ === 0) {
    stopToken = randomUUID()
    process.stdout.write(`${lineBreak()}::stop-commands::${stopToken}${os.EOL}`)
    midLine = false
  }
}

export function resumeCommands(): void {
  if (relays === 0) return
  if (--relays === 0) {
    process.stdout.write(`${lineBreak()}::${stopToken}::${os.EOL}`)
    stopToken = undefined
    midLine = false
  }
}

/** Writes relayed output to stdout, remembering whether it ended mid-line. Returns write()'s backpressure flag. */
export function relay(chunk: Buffer | string): boolean {
  if (chunk.length === 0) return true
  const last = typeof chunk === 'string' ? chunk.charCodeAt(chunk.length - 1) : chunk[chunk.length - 1]
  midLine = last !== 10
  return process.stdout.write(chunk)
}

/** `name<<DELIM` blocks with a random delimiter, so a value can never end the block early. */
function fileCommand(envName: string, key: string, value: string): boolean {
  const file = process.env[envName]
  if (!file) return false
  const delimiter = `ghadelimiter_${randomUUID()}`
  fs.appendFileSync(file, `${key}<<${delimiter}${os.EOL}${value}${os.EOL}${delimiter}${os.EOL}`, 'utf8')
  return true
}

export function setOutput(name: string, value: string): void {
  if (!fileCommand('GITHUB_OUTPUT', name, value)) issue('set-output', value, { name })
}

export function saveState(name: string, value: string): void {
  if (!fileCommand('GITHUB_STATE', name, value)) issue('save-state', value, { name })
}

export function getState(name: string): string {
  return process.env[`STATE_${name}`] ?? ''
}

export function exportVariable(name: string, value: string): void {
  process.env[name] = value
  if (!fileCommand('GITHUB_ENV', name, value)) issue('set-env', value, { name })
}

export function addPath(dir: string): void {
  const file = process.env.GITHUB_PATH
  if (file) fs.appendFileSync(file, `${dir}${os.EOL}`, 'utf8')
  else issue('add-path', dir)
  process.env.PATH = `${dir}${path.delimiter}${process.env.PATH ?? ''}`
}

export function setSecret(secret: string): void {
  issue('add-mask', secret)
}

export function isDebug(): boolean {
  return process.env.RUNNER_DEBUG === '1'
}

export function debug(message: string): void {
  issue('debug', message)
}

export function info(message: string): void {
  process.stdout.write(`${lineBreak()}${message}${os.EOL}`)
  midLine = false
}

export interface AnnotationProperties {
  title?: string
  file?: string
  startLine?: number
  startColumn?: number
}

function annotation(kind: 'error' | 'warning' | 'notice', message: string, props: AnnotationProperties = {}): void {
  issue(kind, message, { title: props.title, file: props.file, line: props.startLine, col: props.startColumn })
}

export const error = (message: string, props?: AnnotationProperties): void => annotation('error', message, props)
export const warning = (message: string, props?: AnnotationProperties): void => annotation('warning', message, props)
export const notice = (message: string, props?: AnnotationProperties): void => annotation('notice', message, props)

export function startGroup(name: string): void {
  issue('group', name)
}

export function endGroup(): void {
  issue('endgroup')
}

export async function group<T>(name: string, fn: () => Promise<T>): Promise<T> {
  startGroup(name)
  try {
    return await fn()
  } finally {
    endGroup()
  }
}

export function setFailed(message: string): void {
  process.exitCode = 1
  error(message)
}

/** Appends markdown to the step's summary (GITHUB_STEP_SUMMARY); a no-op outside the runner. */
export function appendSummary(markdown: string): void {
  const file = process.env.GITHUB_STEP_SUMMARY
  if (!file) return
  fs.appendFileSync(file, markdown.endsWith('\n') ? markdown : `${markdown}\n`, 'utf8')
}

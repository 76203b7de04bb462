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
  process.stdout.write(`::${command}${props ? ` ${props}` : ''}::${escapeData(message)}${os.EOL}`)
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
  process.stdout.write(`${message}${os.EOL}`)
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

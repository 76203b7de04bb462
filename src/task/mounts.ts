// Env substitution into file_mounts, service, workdir and volumes (sky/task.py
// _fill_in_env_vars), and the checks SkyPilot makes on file_mounts entries when it loads a task
// (Task.from_yaml_config, sky/data/storage.py Storage.from_yaml_config and Storage.__init__).
import { dictEntry, dictGet, floatRepr, isNone, keyIdentity, pyStr, truthy, type PyEntry, type PyNode } from './python.js'
import type { Report } from './resources.js'

/** `$NAME` and `${NAME}`, as SkyPilot finds them. */
const ENV_REF = /\$\{?\b([a-zA-Z_][a-zA-Z0-9_]*)\b\}?/g

type Dict = Extract<PyNode, { type: 'dict' }>

/** Python's json.dumps of a string (ensure_ascii): the text SkyPilot substitutes in. */
function jsonString(s: string): string {
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    const ch = s[i] as string
    if (ch === '"') out += '\\"'
    else if (ch === '\\') out += '\\\\'
    else if (ch === '\n') out += '\\n'
    else if (ch === '\r') out += '\\r'
    else if (ch === '\t') out += '\\t'
    else if (ch === '\b') out += '\\b'
    else if (ch === '\f') out += '\\f'
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, '0')}`
    else out += ch
  }
  return out
}

export class FillError extends Error {
  constructor(
    message: string,
    readonly node?: PyNode
  ) {
    super(message)
  }
}

/**
 * _fill_in_env_vars: SkyPilot dumps the value to JSON, replaces `$NAME` / `${NAME}` of known
 * names in the text, and reads the JSON back. So keys become text ('true', '1'), tuples become
 * lists, dates and other non-JSON values fail, and a value with a quote or a backslash can break
 * the JSON. Throws FillError where SkyPilot fails.
 */
export function fillEnvVars(node: PyNode, vars: ReadonlyMap<string, string>): PyNode {
  const fillText = (s: string, at: PyNode): string => {
    const dumped = jsonString(s)
    const replaced = dumped.replace(ENV_REF, (m, name: string) => vars.get(name) ?? m)
    if (replaced === dumped) return s
    try {
      return JSON.parse(`"${replaced}"`) as string
    } catch {
      throw new FillError(
        `After putting the envs in, '${s}' is no longer valid for SkyPilot, which substitutes envs into the JSON text of this section: an env value it uses holds a quote, a backslash or a control character. Change that env value`,
        at
      )
    }
  }
  const keyText = (k: PyNode): string => {
    switch (k.type) {
      case 'str':
        return k.value
      case 'int':
        return k.value.toString()
      case 'float':
        return Number.isNaN(k.value) ? 'NaN' : k.value === Infinity ? 'Infinity' : k.value === -Infinity ? '-Infinity' : floatRepr(k.value)
      case 'bool':
        return k.value ? 'true' : 'false'
      case 'NoneType':
        return 'null'
      default:
        throw new FillError(`The key ${pyStr(k)} cannot be written as JSON, which SkyPilot does with this section. Use a text key`, k)
    }
  }
  const walk = (n: PyNode): PyNode => {
    const offset = n.offset !== undefined ? { offset: n.offset } : {}
    switch (n.type) {
      case 'str':
        return { type: 'str', value: fillText(n.value, n), ...offset }
      case 'list':
      case 'tuple':
        return { type: 'list', items: n.items.map(walk), ...offset }
      case 'dict': {
        const entries: PyEntry[] = []
        const index = new Map<string, number>()
        for (const e of n.entries) {
          const key: PyNode = { type: 'str', value: fillText(keyText(e.key), e.key), ...(e.key.offset !== undefined ? { offset: e.key.offset } : {}) }
          const value = walk(e.value)
          const id = keyIdentity(key) as string
          const at = index.get(id)
          if (at !== undefined) (entries[at] as PyEntry).value = value
          else {
            index.set(id, entries.length)
            entries.push({ key, value })
          }
        }
        return { type: 'dict', entries, ...offset }
      }
      case 'date':
      case 'datetime':
      case 'bytes':
      case 'set':
        throw new FillError(`${pyStr(n)} (a ${n.type}) cannot be written as JSON, which SkyPilot does with this section. Quote it to make it text`, n)
      default:
        return n
    }
  }
  return walk(node)
}

export interface MountsContext {
  report: Report
  /** Runs the storage JSON schema on a storage map; false (after reporting) when it does not pass. */
  storageSchema: (storage: Dict, dst: string) => boolean
}

/**
 * Checks `file_mounts` (after env substitution). Returns the volumes that `store: volume` entries
 * add to the task's resources, as SkyPilot builds them.
 */
export function checkFileMounts(ctx: MountsContext, fileMounts: Dict): PyNode[] {
  const volumes: PyNode[] = []
  for (const { key, value: src } of fileMounts.entries) {
    const dst = pyStr(key)
    if (src.type === 'str') continue
    if (src.type !== 'dict') {
      ctx.report(
        `file_mounts.${dst}: must be a source path or URL (text) or a storage map (name, source, store, mode), got ${isNone(src) ? 'nothing' : pyStr(src)}. Give it a value`,
        isNone(src) ? key : src
      )
      continue
    }
    const store = dictGet(src, 'store')
    if (store?.type === 'str' && store.value === 'volume') {
      const entries: PyEntry[] = [{ key: { type: 'str', value: 'path' }, value: { type: 'str', value: dst } }]
      const name = dictGet(src, 'name')
      if (truthy(name)) entries.push({ key: { type: 'str', value: 'name' }, value: name as PyNode })
      entries.push({ key: { type: 'str', value: 'auto_delete' }, value: { type: 'bool', value: !truthy(dictGet(src, 'persistent')) } })
      const config = dictEntry(src, 'config')
      if (config && config.value.type !== 'dict') {
        ctx.report(`file_mounts.${dst}.config: must be a map of volume settings, got ${pyStr(config.value)}. Fix it or remove it`, config.value)
        continue
      }
      if (config?.value.type === 'dict') entries.push(...config.value.entries)
      volumes.push({ type: 'dict', entries, ...(src.offset !== undefined ? { offset: src.offset } : {}) })
      continue
    }
    if (!ctx.storageSchema(src, dst)) continue
    checkStorage(ctx.report, src, dst)
  }
  return volumes
}

/** Storage.__init__: `type` and `config.mount_cached` need mode MOUNT_CACHED, `config.mount` needs MOUNT. */
function checkStorage(report: Report, storage: Dict, dst: string): void {
  const mode = dictGet(storage, 'mode')
  const modeName = mode?.type === 'str' ? mode.value.toUpperCase() : 'MOUNT'
  const type = dictGet(storage, 'type')
  if (type?.type === 'str' && modeName !== 'MOUNT_CACHED') {
    report(`file_mounts.${dst}: 'type' needs 'mode: MOUNT_CACHED' (the mode is ${modeName}). Set the mode, or remove type`, type)
  }
  const config = dictGet(storage, 'config')
  const mountCached = dictGet(config, 'mount_cached')
  if (mountCached && !isNone(mountCached) && modeName !== 'MOUNT_CACHED') {
    report(`file_mounts.${dst}.config.mount_cached: needs 'mode: MOUNT_CACHED' (the mode is ${modeName}). Set the mode, or remove mount_cached`, mountCached)
  }
  const mount = dictGet(config, 'mount')
  if (mount && !isNone(mount) && modeName !== 'MOUNT') {
    report(`file_mounts.${dst}.config.mount: needs 'mode: MOUNT' (the mode is ${modeName}). Set the mode, or remove config.mount`, mount)
  }
}

// The checks SkyPilot makes on `resources:` beyond its JSON schema when it loads a task
// (sky/resources.py Resources.from_yaml_config, _from_yaml_config_single and Resources.__init__,
// sky/utils/resources_utils.py, sky/utils/infra_utils.py), on the Python values PyYAML builds.
// Checks that need a cloud, a catalog or the network (regions, instance types, images) are
// SkyPilot's own at launch and are not repeated here.
import type { Path } from './parse.js'
import { dictEntry, isNone, parsePyFloat, parsePyInt, pyStr, truthy, type PyEntry, type PyNode } from './python.js'

/** Reports a problem at a node (message without the position, which the caller adds). */
export type Report = (message: string, node?: PyNode) => void

/** Runs the resources JSON schema on a config; false (after reporting) when it does not pass. */
export type SchemaCheck = (config: PyNode, path: Path) => boolean

type Dict = Extract<PyNode, { type: 'dict' }>

/** `sky/utils/resources_utils.py` DiskTier and NetworkTier values. */
const DISK_TIERS = ['low', 'medium', 'high', 'ultra', 'best']
const NETWORK_TIERS = ['standard', 'best']
/** `sky/skylet/constants.py` MEMORY_SIZE_UNITS, in SkyPilot's order. */
const MEMORY_UNITS: [string, number][] = [
  ['kb', 2 ** 10],
  ['ki', 2 ** 10],
  ['mb', 2 ** 20],
  ['mi', 2 ** 20],
  ['gb', 2 ** 30],
  ['gi', 2 ** 30],
  ['tb', 2 ** 40],
  ['ti', 2 ** 40],
  ['pb', 2 ** 50],
  ['pi', 2 ** 50]
]
/** Accelerators named by memory (`40GB+`, `nvidia:80GB:8`): SkyPilot looks the devices up in its catalog. */
const ACCELERATOR_MEMORY = /^[0-9]+[GgMmTt][Bb]\+?$/
/** `sky/provision/kubernetes/utils.py` GKE_TPU_ACCELERATOR_TO_GENERATION: TPUs that run on GKE. */
const GKE_TPUS = new Set(['tpu-v4-podslice', 'tpu-v5-lite-device', 'tpu-v5-lite-podslice', 'tpu-v5p-slice', 'tpu-v6e-slice'])

const str = (s: string): PyNode => ({ type: 'str', value: s })
const entryMap = (d: Dict): Map<string, PyEntry> => new Map(d.entries.filter((e) => e.key.type === 'str').map((e) => [(e.key as { value: string }).value, e]))
const dictOf = (m: Map<string, PyEntry>): Dict => ({ type: 'dict', entries: [...m.values()] })

/** Python's str.isdigit() for the ASCII digits a port is written with. */
const isDigits = (s: string): boolean => /^[0-9]+$/.test(s)

/**
 * resources_utils.parse_memory_resource: a number (in GB) or a number with a unit (KB ... PB),
 * optionally with '+' (and the internal 'x'). Returns the number of GB, or undefined when
 * SkyPilot refuses the text.
 */
export function parseMemory(text: string, { integer, allowPlus, allowX }: { integer: boolean; allowPlus: boolean; allowX: boolean }): number | undefined {
  let s = text
  if (s.endsWith('+')) {
    if (!allowPlus) return undefined
    s = s.slice(0, -1)
  }
  if (s.endsWith('x')) {
    if (!allowX) return undefined
    s = s.slice(0, -1)
  }
  const read = (t: string): number | undefined => (integer ? (parsePyInt(t) !== undefined ? Number(parsePyInt(t)) : undefined) : parsePyFloat(t))
  const plain = read(s)
  if (plain !== undefined) return plain
  const lower = s.toLowerCase()
  for (const [unit, multiplier] of MEMORY_UNITS) {
    if (!lower.endsWith(unit)) continue
    const value = read(lower.slice(0, -unit.length))
    if (value === undefined) continue
    const gb = (value * multiplier) / 2 ** 30
    if (integer && !Number.isInteger(gb)) continue
    return gb
  }
  return undefined
}

/** The problem with a `ports` entry, as resources_utils.simplify_ports finds it, or undefined. */
function portProblem(token: string): string | undefined {
  const bad = (p: string): boolean => !isDigits(p) || Number(p) < 1 || Number(p) > 65535
  if (isDigits(token)) return bad(token) ? `Invalid port ${token}. Use a port number between 1 and 65535` : undefined
  const range = token.split('-')
  if (range.length !== 2 || bad(range[0] as string) || bad(range[1] as string) || Number(range[0]) > Number(range[1])) {
    return `Invalid port range ${token}. Write it as "from-to" with from <= to (e.g. 8000-8010), each between 1 and 65535`
  }
  return undefined
}

export interface ResourcesContext {
  report: Report
  schema: SchemaCheck
}

/** Keys renamed from the alias the user wrote (`gpus`), so messages can name what is in the file. */
export const ALIAS_WRITTEN = new WeakMap<PyNode, string>()

/** Resources._apply_resource_config_aliases: `gpus` is `accelerators`; both at once is refused. */
function applyAliases(ctx: ResourcesContext, config: Map<string, PyEntry>): boolean {
  const gpus = config.get('gpus')
  if (!gpus) return true
  if (config.has('accelerators')) {
    ctx.report("Both 'gpus' and 'accelerators' are set. Keep only one of them", gpus.key)
    return false
  }
  config.delete('gpus')
  const key: PyNode = { type: 'str', value: 'accelerators', ...(gpus.key.offset !== undefined ? { offset: gpus.key.offset } : {}) }
  ALIAS_WRITTEN.set(key, 'gpus')
  config.set('accelerators', { key, value: gpus.value })
  return true
}

/**
 * Resources.from_yaml_config on `resources:` (a dict, after the task loader put `hooks` and
 * `volumes` in it), with the candidates `any_of` / `ordered` and several accelerators make.
 */
export function checkResources(ctx: ResourcesContext, resources: Dict, path: Path): void {
  fromYamlConfig(ctx, entryMap(resources), path)
}

function fromYamlConfig(ctx: ResourcesContext, config: Map<string, PyEntry>, path: Path): void {
  if (!applyAliases(ctx, config)) return
  for (const group of ['any_of', 'ordered']) {
    const list = config.get(group)?.value
    if (list?.type !== 'list') continue
    const items: PyNode[] = []
    for (const item of list.items) {
      if (item.type !== 'dict') {
        items.push(item)
        continue
      }
      const m = entryMap(item)
      if (!applyAliases(ctx, m)) return
      items.push({ ...dictOf(m), ...(item.offset !== undefined ? { offset: item.offset } : {}) })
    }
    const entry = config.get(group) as PyEntry
    config.set(group, { key: entry.key, value: { ...list, items } })
  }
  // `hooks` comes from the task's `config.hooks`, which has its own schema; the resources schema has no `hooks`.
  const hooks = config.get('hooks')
  config.delete('hooks')
  if (!ctx.schema(dictOf(config), path)) return
  if (hooks) config.set('hooks', hooks)

  const anyOf = config.get('any_of')
  const ordered = config.get('ordered')
  config.delete('any_of')
  config.delete('ordered')
  if (anyOf && !isNone(anyOf.value) && ordered && !isNone(ordered.value)) {
    ctx.report("Both 'any_of' and 'ordered' are set in resources. Keep one of them", ordered.key)
    return
  }

  const accEntry = config.get('accelerators')
  let accelerators: { name: string; node: PyNode }[] | undefined
  let preferenceOrder = false
  let byMemory = false
  const accName = `resources.${(accEntry && ALIAS_WRITTEN.get(accEntry.key)) ?? 'accelerators'}`
  if (config.size > 0 && accEntry && !isNone(accEntry.value)) {
    const acc = accEntry.value
    const named: { text: string; node: PyNode }[] =
      acc.type === 'str'
        ? [{ text: acc.value, node: acc }]
        : acc.type === 'dict'
          ? acc.entries.map((e) => ({ text: isNone(e.value) ? pyStr(e.key) : `${pyStr(e.key)}:${pyStr(e.value)}`, node: e.value.offset !== undefined ? e.value : e.key }))
          : acc.type === 'list'
            ? acc.items.map((i) => ({ text: pyStr(i), node: i }))
            : []
    preferenceOrder = acc.type === 'list'
    const seen = new Map<string, PyNode>()
    for (const { text, node } of named) {
      const parsed = parseAcceleratorSpec(text)
      if ('problem' in parsed) {
        ctx.report(`${accName}: ${parsed.problem}`, node)
        return
      }
      if (parsed.byMemory) byMemory = true
      else if (!seen.has(text)) seen.set(text, node)
    }
    accelerators = [...seen].map(([name, node]) => ({ name, node }))
    // Accelerators named by memory expand to devices from SkyPilot's catalog (unknown here): only
    // several accelerators named outright are known to make several candidates.
    if (accelerators.length > 1 && ordered && truthy(ordered.value)) {
      ctx.report("Several accelerators together with 'ordered' in resources: SkyPilot refuses that. List the accelerators inside the 'ordered' entries instead", accEntry.key)
      return
    }
    if (accelerators.length > 1 && anyOf && truthy(anyOf.value) && preferenceOrder) {
      ctx.report(
        "A list of accelerators (an order of preference) together with 'any_of' in resources: SkyPilot refuses that. Write the accelerators as a map ({A100: 1, H100: 1}), or list them inside the 'any_of' entries",
        accEntry.key
      )
      return
    }
  }

  const overrides = (group: PyEntry | undefined, groupName: string): void => {
    if (!group || group.value.type !== 'list') return
    group.value.items.forEach((item, i) => {
      if (item.type !== 'dict') return
      const merged = new Map(config)
      const own = entryMap(item)
      const labels = own.get('labels')
      own.delete('labels')
      for (const [k, v] of own) merged.set(k, v)
      const baseLabels = config.get('labels')?.value
      if (labels && !isNone(labels.value)) {
        const mergedLabels = baseLabels?.type === 'dict' && labels.value.type === 'dict' ? { type: 'dict' as const, entries: [...baseLabels.entries, ...labels.value.entries] } : labels.value
        merged.set('labels', { key: labels.key, value: mergedLabels })
      }
      fromYamlConfig(ctx, merged, [...path, groupName, i])
    })
  }
  if (anyOf && !isNone(anyOf.value) && anyOf.value.type === 'list' && anyOf.value.items.length > 0) return overrides(anyOf, 'any_of')
  if (ordered && !isNone(ordered.value) && ordered.value.type === 'list' && ordered.value.items.length > 0) return overrides(ordered, 'ordered')

  if (accelerators && accelerators.length > 0) {
    for (const { name, node } of accelerators) {
      const single = new Map(config)
      single.set('accelerators', { key: (accEntry as PyEntry).key, value: { ...str(name), ...(node.offset !== undefined ? { offset: node.offset } : {}) } })
      checkSingle(ctx, single)
    }
    return
  }
  if (byMemory) config.delete('accelerators') // the devices come from the catalog; the rest is checked as is
  checkSingle(ctx, config)
}

/** Resources._parse_accelerators_from_str: a name, `name:count`, or a memory form. */
function parseAcceleratorSpec(text: string): { byMemory: boolean } | { problem: string } {
  const split = text.split(':')
  const intCount = (s: string): boolean => parsePyInt(s) !== undefined
  let memory: string | undefined
  if (split.length === 3) {
    const [, mem, count] = split as [string, string, string]
    if (!intCount(count)) return { problem: `'${text}': the count '${count}' is not a whole number. Write manufacturer:memory:count, e.g. nvidia:80GB:8` }
    if (!ACCELERATOR_MEMORY.test(mem)) return { problem: `'${text}' names a GPU manufacturer without a memory size. Give the memory size too, e.g. nvidia:80GB:8` }
    memory = mem
  } else if (split.length === 2 && ACCELERATOR_MEMORY.test(split[0] as string)) {
    if (!intCount(split[1] as string)) return { problem: `'${text}': the count '${split[1]}' is not a whole number. Write memory:count, e.g. 80GB+:8` }
    memory = split[0]
  } else if (split.length === 2 && ACCELERATOR_MEMORY.test(split[1] as string)) memory = split[1]
  else if (split.length === 1 && ACCELERATOR_MEMORY.test(split[0] as string)) memory = split[0]
  if (memory === undefined) return { byMemory: false }
  // The memory must come to a whole number of GB (resources_utils.parse_memory_resource).
  if (parseMemory(memory, { integer: true, allowPlus: true, allowX: false }) === undefined) {
    return { problem: `'${text}': the memory '${memory}' is not a whole number of GB. Write it in GB or TB, e.g. 80GB+` }
  }
  return { byMemory: true }
}

/** Resources._from_yaml_config_single and Resources.__init__ on one candidate. */
function checkSingle(ctx: ResourcesContext, config: Map<string, PyEntry>): void {
  const get = (key: string): PyNode | undefined => {
    const v = config.get(key)?.value
    return v && !isNone(v) ? v : undefined
  }
  const infra = get('infra')
  const cloudEntry = config.get('cloud')
  const cloud = get('cloud')
  const region = get('region')
  const zone = get('zone')
  if (infra && (cloud || region || zone)) {
    ctx.report("'infra' is set together with 'cloud', 'region' or 'zone'. Keep only 'infra' (cloud/region/zone), e.g. infra: aws/us-east-1", cloudEntry?.key ?? config.get(region ? 'region' : 'zone')?.key)
    return
  }
  let cloudName = cloud?.type === 'str' ? cloud.value.toLowerCase() : undefined
  if (infra?.type === 'str' && infra.value.trim() !== '') {
    const text = infra.value.trim().replace(/^\/+|\/+$/g, '')
    const parts = text.split('/').map((p) => p.trim())
    if (parts.includes('')) {
      ctx.report(`resources.infra: '${infra.value}' has an empty part (e.g. a double slash). Write cloud[/region[/zone]] or k8s[/context]`, infra)
      return
    }
    cloudName = parts[0]?.toLowerCase()
    if (cloudName === 'k8s') cloudName = 'kubernetes'
  }

  const diskSize = get('disk_size')
  if (diskSize) {
    const gb = parseMemory(pyStr(diskSize), { integer: true, allowPlus: false, allowX: false })
    if (gb === undefined) {
      ctx.report(`resources.disk_size: '${pyStr(diskSize)}' is not a size SkyPilot reads. Write a whole number of GB (e.g. 256) or a number with a unit (e.g. 1TB)`, diskSize)
    } else if (Math.trunc(gb) <= 0) {
      ctx.report(`resources.disk_size: must be a positive number of GB, got '${pyStr(diskSize)}'. Set it to 1 or more`, diskSize)
    }
  }
  const ephemeral = get('ephemeral_storage')
  if (ephemeral && parseMemory(pyStr(ephemeral), { integer: true, allowPlus: false, allowX: false }) === undefined) {
    ctx.report(`resources.ephemeral_storage: '${pyStr(ephemeral)}' is not a size SkyPilot reads. Write a whole number of GB or a number with a unit (e.g. 100GB)`, ephemeral)
  }

  const image = get('image_id')
  if (image?.type === 'dict') {
    const docker = image.entries.find((e) => e.key.type === 'str' && e.key.value === 'docker')
    const rest = image.entries.filter((e) => e !== docker)
    if (docker && docker.value.type !== 'str') ctx.report(`resources.image_id: the docker image must be text, got ${pyStr(docker.value)}. Quote it`, docker.value)
    // With a key that is null (any region), SkyPilot only reads that entry; otherwise every key is a region name.
    const anyRegion = rest.find((e) => e.key.type === 'NoneType')
    for (const { key, value } of anyRegion ? [anyRegion] : rest) {
      if (key.type !== 'str' && key.type !== 'NoneType') ctx.report(`resources.image_id: the key ${pyStr(key)} is not a region name (text). Quote it`, key)
      if (value.type !== 'str') ctx.report(`resources.image_id: the image for ${pyStr(key)} must be text, got ${pyStr(value)}. Quote it`, value)
    }
    const prefixed = (anyRegion ? [anyRegion] : rest).filter((e) => e.value.type === 'str' && e.value.value.trim().startsWith('docker:'))
    if (docker && prefixed.length > 0) {
      ctx.report("resources.image_id has both a 'docker' key and docker:-prefixed region values. Use only one way to give the Docker image", docker.key)
    }
  }

  const diskTier = get('disk_tier')
  if (diskTier?.type === 'str' && !DISK_TIERS.includes(diskTier.value.toLowerCase())) {
    ctx.report(`resources.disk_tier: '${diskTier.value}' is not a disk tier. Use one of: ${DISK_TIERS.join(', ')}`, diskTier)
  }
  const networkTier = get('network_tier')
  if (networkTier?.type === 'str' && !NETWORK_TIERS.includes(networkTier.value.toLowerCase())) {
    ctx.report(`resources.network_tier: '${networkTier.value}' is not a network tier. Use one of: ${NETWORK_TIERS.join(', ')}`, networkTier)
  }

  const ports = get('ports')
  if (ports) {
    const items = ports.type === 'list' || ports.type === 'tuple' ? ports.items : [ports]
    for (const item of items) {
      for (const token of pyStr(item).split(',').map((t) => t.trim()).filter(Boolean)) {
        const problem = portProblem(token)
        if (problem) {
          ctx.report(`resources.ports: ${problem}`, item)
          break
        }
      }
    }
  }

  const cpus = get('cpus')
  if (cpus) {
    const text = pyStr(cpus)
    const n = parsePyFloat(text.endsWith('+') ? text.slice(0, -1) : text)
    if (n === undefined) ctx.report(`resources.cpus: '${text}' is not a number of CPUs. Write a number, or a number with '+' for at least that many (e.g. 4+)`, cpus)
    else if (n <= 0) ctx.report(`resources.cpus: must be positive, got '${text}'. Set it to more than 0`, cpus)
  }
  const memory = get('memory')
  if (memory) {
    const text = pyStr(memory)
    const gb = parseMemory(text, { integer: false, allowPlus: true, allowX: true })
    if (gb === undefined) {
      ctx.report(`resources.memory: '${text}' is not a memory size SkyPilot reads. Write a number of GB (e.g. 16), a number with a unit (e.g. 16GB), or either with '+' for at least that much`, memory)
    } else if (/x\+$/.test(text)) {
      // The internal 'x' suffix and '+' together read back as neither: SkyPilot refuses it.
      ctx.report(`resources.memory: '${text}' is not a memory size SkyPilot reads. Write a number of GB, optionally with '+'`, memory)
    } else if (gb < 0 || (gb === 0 && cloudName !== 'slurm')) {
      ctx.report(`resources.memory: must be positive, got '${text}'. Set it to more than 0`, memory)
    }
  }

  const acc = get('accelerators')
  const accKey = config.get('accelerators')?.key
  const accName = `resources.${(accKey && ALIAS_WRITTEN.get(accKey)) ?? 'accelerators'}`
  if (acc?.type === 'str') checkAccelerator(ctx, acc, accName, { cloudName, instanceType: get('instance_type'), acceleratorArgs: get('accelerator_args') })

  const volumes = get('volumes')
  if (volumes?.type === 'list') {
    for (const volume of volumes.items) {
      if (volume.type !== 'dict') continue
      const v = entryMap(volume)
      if (!v.has('path')) {
        ctx.report("A volume has no 'path'. Give each volume the path it is mounted at", volume)
        continue
      }
      const storageType = v.get('storage_type')
      // A volume without storage_type is a network volume; an unknown type falls back to network; a non-text one does not.
      const network = !storageType || (storageType.value.type === 'str' && storageType.value.value.toLowerCase() !== 'instance')
      if (network) {
        const size = v.get('disk_size')?.value
        // SkyPilot compares round(disk_size) with disk_size, which only a whole number passes.
        const whole = size && (size.type === 'int' || size.type === 'bool' || (size.type === 'float' && Number.isInteger(size.value)))
        if (size && !whole) ctx.report(`Volume ${pyStr(v.get('path')?.value as PyNode)}: disk_size must be a whole number of GB, got '${pyStr(size)}'. Write a whole number`, size)
        if (!v.has('name')) ctx.report(`Network volume ${pyStr(v.get('path')?.value as PyNode)} has no 'name'. Give it the name of the volume`, volume)
      }
    }
  }

  const localDisk = get('local_disk')
  if (localDisk) {
    const problem = localDiskProblem(pyStr(localDisk))
    if (problem) ctx.report(`resources.local_disk: ${problem}`, localDisk)
  }
}

/** Resources._set_accelerators on one `name` or `name:count`. */
function checkAccelerator(ctx: ResourcesContext, acc: Extract<PyNode, { type: 'str' }>, accName: string, o: { cloudName?: string; instanceType?: PyNode; acceleratorArgs?: PyNode }): void {
  let name = acc.value
  if (acc.value.includes(':')) {
    const split = acc.value.split(':')
    const count = split.length === 2 ? parsePyFloat(split[1] as string) : undefined
    if (count === undefined) {
      ctx.report(`${accName}: '${acc.value}' is not <name> or <name>:<count>. Write e.g. A100 or A100:8`, acc)
      return
    }
    if (!(count > 0) && !Number.isNaN(count)) {
      ctx.report(`${accName}: the count of '${split[0]}' must be positive, got ${split[1]}. Set it to more than 0`, acc)
      return
    }
    name = split[0] as string
  }
  if (!name.toLowerCase().includes('tpu')) return
  let cloud = o.cloudName
  if (cloud === undefined || cloud === '*') cloud = GKE_TPUS.has(name) ? 'kubernetes' : 'gcp'
  if (cloud !== 'gcp' && cloud !== 'kubernetes') {
    ctx.report(`${accName}: the TPU '${name}' runs only on GCP or Kubernetes (GKE), not on ${cloud}. Set infra to gcp or k8s`, acc)
    return
  }
  const args = o.acceleratorArgs
  const tpuVm = args?.type === 'dict' ? dictEntry(args, 'tpu_vm')?.value : undefined
  const useTpuVm = tpuVm === undefined ? true : truthy(tpuVm)
  if (cloud === 'gcp' && !GKE_TPUS.has(name) && o.instanceType && useTpuVm && pyStr(o.instanceType) !== 'TPU-VM') {
    ctx.report(`resources.instance_type: a TPU VM ('${name}') cannot have an instance type (got '${pyStr(o.instanceType)}'). Remove instance_type`, o.instanceType)
  }
}

/** resources_utils.normalize_local_disk: `mode:size[+]`, `mode` or `size[+]`, mode nvme or ssd. */
function localDiskProblem(raw: string): string | undefined {
  const text = raw.toLowerCase().trim()
  const parts = text.split(':')
  const sizeOk = (s: string): boolean => {
    const n = parsePyFloat(s.replace(/\++$/, ''))
    return n !== undefined && n > 0
  }
  const hint = 'Write mode:size[+] (mode nvme or ssd, size in GB, e.g. nvme:1000+), a mode alone, or a size alone'
  if (parts.length === 1) {
    if (parts[0] === 'nvme' || parts[0] === 'ssd' || sizeOk(parts[0] as string)) return undefined
    return `'${raw}' is not a local disk. ${hint}`
  }
  if (parts.length === 2) {
    if (parts[0] !== 'nvme' && parts[0] !== 'ssd') return `'${raw}': the mode must be nvme or ssd. ${hint}`
    return sizeOk(parts[1] as string) ? undefined : `'${raw}': the size must be a positive number of GB. ${hint}`
  }
  return `'${raw}' is not a local disk. ${hint}`
}

// The checks SkyPilot makes on `service:` and `pool:` beyond their JSON schema when it loads a
// task (sky/serve/service_spec.py SkyServiceSpec.from_yaml_config and SkyServiceSpec.__init__).
import { dictEntry, dictGet, isNone, isPyInt, pyNumber, pyStr, truthy, type PyNode } from './python.js'
import type { Report } from './resources.js'

/** `sky/serve/load_balancing_policies.py`: the policies, by their exact names. */
const LB_POLICIES = ['round_robin', 'least_load', 'instance_aware_least_load']
/** `sky/serve/constants.py` DEFAULT_MIN_REPLICAS. */
const DEFAULT_MIN_REPLICAS = 1

type Dict = Extract<PyNode, { type: 'dict' }>

/** Checks a service spec (`service:`, or `{pool: ...}` for a pool) that passed the service schema. */
export function checkServiceSpec(report: Report, config: Dict, where: string): void {
  const get = (d: PyNode | undefined, key: string): PyNode | undefined => {
    const v = dictGet(d, key)
    return isNone(v) ? undefined : v
  }
  const num = (v: PyNode | undefined): number | undefined => (v ? pyNumber(v) : undefined)
  const keyOf = (key: string): PyNode | undefined => dictEntry(config, key)?.key

  if (dictEntry(config, 'replicas') && dictEntry(config, 'replica_policy')) {
    report(`${where}: both 'replicas' and 'replica_policy' are set. Keep one of them`, keyOf('replica_policy'))
    return
  }

  let readinessPath = '/'
  let postData: PyNode | undefined
  let headers: PyNode | undefined
  const readiness = dictEntry(config, 'readiness_probe')
  if (readiness) {
    if (readiness.value.type === 'str') readinessPath = readiness.value.value
    else if (readiness.value.type === 'dict') {
      readinessPath = pyStr(dictGet(readiness.value, 'path') ?? { type: 'str', value: '/' })
      postData = get(readiness.value, 'post_data')
      headers = get(readiness.value, 'headers')
    } else {
      report(`${where}.readiness_probe: is empty. Give the path to probe (e.g. /health), or remove it`, readiness.key)
      return
    }
  }
  if (postData?.type === 'str') {
    try {
      JSON.parse(postData.value)
    } catch {
      report(`${where}.readiness_probe.post_data: is not valid JSON. Write it as a map instead, or fix the JSON text`, postData)
      return
    }
  }

  const ports = get(config, 'ports')
  if (ports) {
    if (!isPyInt(ports)) {
      report(`${where}.ports: must be a whole number, got ${pyStr(ports)}. Write the port without a decimal point`, ports)
      return
    }
    const p = pyNumber(ports) as number
    if (p < 1 || p > 65535) {
      report(`${where}.ports: must be between 1 and 65535, got ${pyStr(ports)}. Fix the port`, ports)
      return
    }
  }

  const pool = get(config, 'pool')
  const policy = get(config, 'replica_policy')
  if (policy && truthy(pool)) {
    report(`${where}: a pool cannot have 'replica_policy'. Use 'workers', or 'min_workers' and 'max_workers'`, keyOf('replica_policy'))
    return
  }
  let simplified = get(config, 'replicas')
  let workers = get(config, 'workers')
  if (simplified && workers) {
    report(`${where}: both 'replicas' and 'workers' are set. Keep one of them`, keyOf('workers'))
    return
  }
  if (simplified && truthy(pool)) {
    report(`${where}: a pool uses 'workers', not 'replicas'. Rename it`, keyOf('replicas'))
    return
  }
  if (!simplified) simplified = workers

  let queueLength: number | undefined
  let minWorkers: number | undefined
  let maxWorkers: number | undefined
  let upscale: PyNode | undefined
  let downscale: PyNode | undefined
  if (pool?.type === 'dict') {
    queueLength = num(get(pool, 'queue_length_threshold'))
    minWorkers = num(get(pool, 'min_workers'))
    maxWorkers = num(get(pool, 'max_workers'))
    upscale = get(pool, 'upscale_delay_seconds')
    downscale = get(pool, 'downscale_delay_seconds')
    workers = dictEntry(pool, 'workers') ? dictGet(pool, 'workers') : workers
    const fix = "Set 'workers', or both 'min_workers' and 'max_workers'"
    if (minWorkers === undefined && maxWorkers === undefined && isNone(workers)) return report(`${where}.pool: no size is given. ${fix}`, pool)
    if (queueLength !== undefined && maxWorkers === undefined) return report(`${where}.pool: 'queue_length_threshold' needs 'max_workers'. Add max_workers`, pool)
    if (minWorkers !== undefined && maxWorkers === undefined) return report(`${where}.pool: 'min_workers' needs 'max_workers'. Add max_workers`, pool)
    if (minWorkers !== undefined && maxWorkers !== undefined && minWorkers > maxWorkers) {
      return report(`${where}.pool: min_workers (${minWorkers}) is more than max_workers (${maxWorkers}). Make min_workers <= max_workers`, pool)
    }
  }

  let minReplicas: number | undefined
  let maxReplicas: number | undefined
  let targetQps: PyNode | undefined
  const unsupportedForPool: [string, PyNode | undefined][] = []
  if (!policy || simplified) {
    minReplicas = simplified ? num(simplified) : !isNone(workers) ? num(workers) : DEFAULT_MIN_REPLICAS
    if (pool && maxWorkers !== undefined && minWorkers !== undefined) minReplicas = minWorkers
    maxReplicas = maxWorkers
    unsupportedForPool.push(['upscale_delay_seconds', upscale], ['downscale_delay_seconds', downscale])
  } else {
    minReplicas = num(get(policy, 'min_replicas'))
    maxReplicas = num(get(policy, 'max_replicas'))
    targetQps = get(policy, 'target_qps_per_replica')
    for (const key of ['num_overprovision', 'upscale_delay_seconds', 'downscale_delay_seconds', 'base_ondemand_fallback_replicas', 'dynamic_ondemand_fallback', 'spot_placer']) {
      unsupportedForPool.push([key, get(policy, key)])
    }
  }
  const lbPolicy = get(config, 'load_balancing_policy')
  if (targetQps?.type === 'dict' && !(lbPolicy?.type === 'str' && lbPolicy.value === 'instance_aware_least_load')) {
    return report(`${where}: target_qps_per_replica per accelerator (a map) needs 'load_balancing_policy: instance_aware_least_load'. Set it`, targetQps)
  }
  if (lbPolicy?.type === 'str' && lbPolicy.value === 'instance_aware_least_load' && targetQps?.type !== 'dict') {
    return report(`${where}: 'instance_aware_least_load' needs target_qps_per_replica as a map of accelerator to QPS (e.g. {A100: 10}). Set it`, lbPolicy)
  }

  if (truthy(pool)) {
    unsupportedForPool.push(
      ['target_qps_per_replica', targetQps],
      ['load_balancing_policy', lbPolicy],
      ['ports', ports],
      ['post_data', postData],
      ['tls', get(config, 'tls')],
      ['headers', headers]
    )
    for (const [key, value] of unsupportedForPool) {
      // Autoscaling delays are allowed once max_workers makes the pool autoscale.
      if ((key === 'upscale_delay_seconds' || key === 'downscale_delay_seconds') && maxReplicas !== undefined) continue
      if (value) return report(`${where}: '${key}' is not supported for a pool. Remove it`, value)
    }
    if (queueLength !== undefined && maxReplicas === undefined) return report(`${where}.pool: 'queue_length_threshold' needs 'max_workers'. Add max_workers`, pool)
  }
  if (maxReplicas !== undefined && minReplicas !== undefined && maxReplicas < minReplicas) {
    return report(`${where}: max_replicas (${maxReplicas}) is less than min_replicas (${minReplicas}). Make max_replicas >= min_replicas`, policy ?? pool)
  }
  if (targetQps) {
    if (maxReplicas === undefined) return report(`${where}.replica_policy: target_qps_per_replica needs max_replicas. Add max_replicas`, targetQps)
  } else if (!truthy(pool) && maxReplicas !== undefined && maxReplicas !== minReplicas) {
    return report(
      `${where}.replica_policy: min_replicas and max_replicas differ but target_qps_per_replica is not set, so nothing would drive autoscaling. Set target_qps_per_replica, or make them equal`,
      policy
    )
  }
  if (!readinessPath.startsWith('/')) {
    return report(`${where}.readiness_probe: the path must start with '/', got '${readinessPath}'. Write e.g. /${readinessPath}`, readiness?.value)
  }
  if (lbPolicy && !LB_POLICIES.includes(pyStr(lbPolicy))) {
    return report(`${where}.load_balancing_policy: '${pyStr(lbPolicy)}' is not a policy SkyPilot knows (the name is case-sensitive). Use one of: ${LB_POLICIES.join(', ')}`, lbPolicy)
  }
}

// The fake's shared state: FAKE_SKY_HOME/ledger.json, guarded by a lock
// directory and replaced atomically, so that many concurrent `sky` processes
// (and their background runners) never lose an update.
import fs from 'node:fs'
import path from 'node:path'

const sleepCell = new Int32Array(new SharedArrayBuffer(4))
export function sleepSync(ms) {
  Atomics.wait(sleepCell, 0, 0, ms)
}

export function emptyLedger() {
  return {
    // When the "server" started: its own daemon requests date from then.
    since: Date.now() / 1000,
    clusters: [],
    jobs: [],
    managedJobs: [],
    requests: [],
    // The jobs controller cluster, once up (no consolidation mode): { launched_at }.
    jobsController: null,
    counters: { managedJobId: 0, controllerJobId: 0, attempts: {} }
  }
}

export function ledgerPath(home) {
  return path.join(home, 'ledger.json')
}

export function readLedger(home) {
  const file = ledgerPath(home)
  for (let i = 0; ; i++) {
    let text
    try {
      text = fs.readFileSync(file, 'utf8')
    } catch (e) {
      if (e.code === 'ENOENT') return emptyLedger()
      throw e
    }
    try {
      return { ...emptyLedger(), ...JSON.parse(text) }
    } catch (e) {
      // Never expected (writes are renames), but a reader must not die on it.
      if (i > 50) throw e
      sleepSync(5)
    }
  }
}

const STALE_LOCK_MS = 10_000

function ownerIsDead(lock) {
  try {
    const owner = Number(fs.readFileSync(path.join(lock, 'owner'), 'utf8'))
    if (!(owner > 0)) return false
    process.kill(owner, 0)
    return false
  } catch (err) {
    return err.code === 'ESRCH'
  }
}

function acquire(home) {
  const lock = path.join(home, 'ledger.lock')
  const deadline = Date.now() + 60_000
  let wait = 1
  let nextStaleCheck = Date.now() + 200
  for (;;) {
    try {
      fs.mkdirSync(lock)
      try {
        fs.writeFileSync(path.join(lock, 'owner'), String(process.pid))
      } catch {}
      return lock
    } catch (e) {
      if (e.code !== 'EEXIST') throw e
    }
    // Stale-lock recovery (the owner died, or held it far too long), checked
    // now and then rather than on every spin so the owner gets the CPU.
    if (Date.now() >= nextStaleCheck) {
      nextStaleCheck = Date.now() + 200
      try {
        const st = fs.statSync(lock)
        if (ownerIsDead(lock) || Date.now() - st.mtimeMs > STALE_LOCK_MS) {
          fs.rmSync(lock, { recursive: true, force: true })
          continue
        }
      } catch {}
    }
    if (Date.now() > deadline) throw new Error(`fake sky: could not lock ${lock}`)
    sleepSync(wait + Math.random() * wait)
    wait = Math.min(wait * 2, 16)
  }
}

export function writeLedgerAtomic(home, ledger) {
  const file = ledgerPath(home)
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  fs.writeFileSync(tmp, JSON.stringify(ledger, null, 1))
  fs.renameSync(tmp, file)
}

/** Read-modify-write under the lock; returns what fn returns. */
export function updateLedger(home, fn) {
  const lock = acquire(home)
  try {
    const ledger = readLedger(home)
    const result = fn(ledger)
    writeLedgerAtomic(home, ledger)
    return result
  } finally {
    fs.rmSync(lock, { recursive: true, force: true })
  }
}

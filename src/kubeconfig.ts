import { isMap, isScalar, isSeq, parseDocument, visit } from 'yaml'

/**
 * The secret values of a `kubeconfig` input, to be masked one by one. Masking the whole text and
 * each of its lines blanked `apiVersion: v1`, `- name: default` and the like wherever they showed
 * in the job's log; only what a credential is made of needs masking.
 *
 * What is secret follows client-go's kubeconfig types (clientcmd/api): what they tag with a data
 * policy (token, password, client-key-data) or redact when printed (auth-provider config, exec args
 * and env), the client certificate (kubectl config view omits it too), and a password inside a
 * server or proxy URL. Not secret: names, server URLs, the CA (certificate-authority-data is
 * public), namespaces, usernames, file paths (client-key, tokenFile: the file is not here).
 */

export type KubeconfigRead = { secrets: string[] } | { problem: string }

/** Fields that hold a credential whatever their value. */
const SECRET_FIELDS = ['token', 'password', 'client-key-data', 'client-certificate-data']
/** Auth-provider config keys (oidc, azure, gcp) that hold a credential whatever their value. */
const SECRET_CONFIG = ['client-secret', 'id-token', 'refresh-token', 'access-token']
/**
 * The other auth-provider config values, exec env values and exec args may hold a credential, but
 * are often plain settings (`AWS_PROFILE=default`, `AWS_REGION=us-east-1`, azure's `config-mode:
 * "1"`, exec's `get-token`), and masking a short word blanks it all over the log. They are masked
 * when their name (env var, config key, the option before an arg) says credential, or when they are
 * as long as a credential is (tokens, keys and client secrets are 20 to thousands of characters).
 */
const CREDENTIAL_NAME = /token|secret|pass|pwd|key|credential|auth|cert/i
const CREDENTIAL_LENGTH = 16
/** An address (an issuer, a vault): long, but no credential, unless it holds a user, query or fragment. */
const PLAIN_URL = /^https?:\/\/[^\s@?#]+$/

const WHAT_TO_GIVE = "Give the kubeconfig file's content (e.g. the output of kubectl config view --raw --minify --flatten, stored as a secret), not a path."

/** Reads the kubeconfig text. Problems never quote it: any part of it may be a credential. */
export function kubeconfigSecrets(text: string): KubeconfigRead {
  const doc = parseDocument(text, { uniqueKeys: true })
  const error = doc.errors[0]
  if (error) {
    if (error.code === 'MULTIPLE_DOCS') return { problem: `'kubeconfig' holds more than one YAML document. ${WHAT_TO_GIVE}` }
    const at = error.linePos ? ` (line ${error.linePos[0].line}, column ${error.linePos[0].col})` : ''
    return { problem: `'kubeconfig' is not valid YAML${at}. ${WHAT_TO_GIVE}` }
  }
  let alias = false
  visit(doc, {
    Alias: () => {
      alias = true
      return visit.BREAK
    }
  })
  if (alias) return { problem: `'kubeconfig' uses YAML anchors or aliases (*name); give it without them (kubectl config view --raw --flatten writes none). ${WHAT_TO_GIVE}` }
  if (!isMap(doc.contents)) return { problem: `'kubeconfig' is not a kubeconfig: it must be a YAML mapping (apiVersion, clusters, contexts, users). ${WHAT_TO_GIVE}` }

  const secrets = new Set<string>()
  const add = (values: string[]): void => {
    for (const v of values) if (v.trim()) secrets.add(v)
  }
  for (const entry of items(doc.contents.get('users'))) {
    const user = field(entry, 'user')
    for (const name of SECRET_FIELDS) add(scalarTexts(field(user, name)))
    const config = field(field(user, 'auth-provider'), 'config')
    if (isMap(config)) {
      for (const pair of config.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : ''
        add(SECRET_CONFIG.includes(key) ? scalarTexts(pair.value) : maybeSecret(key, scalarTexts(pair.value)))
      }
    }
    const exec = field(user, 'exec')
    for (const env of items(field(exec, 'env'))) add(maybeSecret(scalarTexts(field(env, 'name'))[0] ?? '', scalarTexts(field(env, 'value'))))
    add(execArgSecrets(items(field(exec, 'args')).flatMap((a) => scalarTexts(a).slice(0, 1))))
  }
  for (const entry of items(doc.contents.get('clusters'))) {
    const cluster = field(entry, 'cluster')
    for (const name of ['server', 'proxy-url']) for (const url of scalarTexts(field(cluster, name))) add(urlSecrets(url))
  }
  return { secrets: [...secrets] }
}

function field(node: unknown, key: string): unknown {
  return isMap(node) ? node.get(key, true) : undefined
}

function items(node: unknown): unknown[] {
  return isSeq(node) ? node.items : []
}

/**
 * A scalar as the file shows it (its source text, before YAML typed it: `0x1F` stays `0x1F`) and
 * as a program reads it (31). A job that prints the file shows the first; a tool the second.
 */
function scalarTexts(node: unknown): string[] {
  if (!isScalar(node)) return []
  const texts = [node.source, node.value === null || node.value === undefined ? undefined : String(node.value)]
  return [...new Set(texts.filter((t): t is string => typeof t === 'string' && t !== ''))]
}

/** Of a place that may hold a credential (see CREDENTIAL_NAME), the values to mask. */
function maybeSecret(name: string, values: string[]): string[] {
  return values.filter((v) => CREDENTIAL_NAME.test(name) || (!PLAIN_URL.test(v) && v.trim().length >= CREDENTIAL_LENGTH))
}

/**
 * Exec args: the value of an option whose name says credential (`--token X`, `--client-secret=X`),
 * and any other argument long enough to be one (a key passed as an argument). Option names are not.
 */
function execArgSecrets(args: string[]): string[] {
  const secrets: string[] = []
  let option = ''
  for (const arg of args) {
    const eq = /^(-{1,2}[^=]+)=(.*)$/s.exec(arg)
    if (eq) secrets.push(...maybeSecret(eq[1]!, [eq[2]!]))
    else if (!arg.startsWith('-')) secrets.push(...maybeSecret(option, [arg]))
    option = !eq && arg.startsWith('-') ? arg : ''
  }
  return secrets
}

/** The password (and user:password) in a URL like https://user:pass@host; the rest is not secret. */
function urlSecrets(text: string): string[] {
  try {
    const url = new URL(text)
    if (!url.password) return []
    return [url.password, decodeURIComponent(url.password), `${url.username}:${url.password}`]
  } catch {
    return []
  }
}

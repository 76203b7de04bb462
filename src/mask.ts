import * as core from '@actions/core'

/** Masks an endpoint, and the password and user:password inside it, wherever they may show. */
export function maskEndpoint(endpoint: string): void {
  maskSecret(endpoint)
  try {
    const url = new URL(endpoint)
    if (url.password) {
      maskSecret(decodeURIComponent(url.password))
      maskSecret(url.password)
      maskSecret(`${url.username}:${url.password}`)
    }
  } catch {
    // Not a URL: reported as a problem elsewhere; the whole text is masked already.
  }
}

/** Masks a secret and each of its lines (the runner matches masks line by line). */
export function maskSecret(value: string): void {
  if (!value.trim()) return
  core.setSecret(value)
  if (value.includes('\n')) {
    for (const line of value.split(/\r?\n/)) if (line.trim().length >= 4) core.setSecret(line.trim())
  }
}

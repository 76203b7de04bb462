// "Did you mean ...?" suggestions, after Python's difflib.get_close_matches
// (the function SkyPilot uses for the same hint): Ratcliff/Obershelp ratio,
// cutoff 0.6.

function matchingChars(a: string, b: string): number {
  if (a.length === 0 || b.length === 0) return 0
  let bestLen = 0
  let bestA = 0
  let bestB = 0
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < b.length; j++) {
      let k = 0
      while (i + k < a.length && j + k < b.length && a[i + k] === b[j + k]) k++
      if (k > bestLen) {
        bestLen = k
        bestA = i
        bestB = j
      }
    }
  }
  if (bestLen === 0) return 0
  return (
    bestLen +
    matchingChars(a.slice(0, bestA), b.slice(0, bestB)) +
    matchingChars(a.slice(bestA + bestLen), b.slice(bestB + bestLen))
  )
}

export function similarity(a: string, b: string): number {
  const total = a.length + b.length
  return total === 0 ? 1 : (2 * matchingChars(a, b)) / total
}

/** The known word closest to `word`, if one is similar enough. */
export function closestMatch(word: string, known: Iterable<string>, cutoff = 0.6): string | undefined {
  if (word.length > 200) return undefined
  let best: string | undefined
  let bestScore = cutoff
  for (const candidate of [...known].sort()) {
    const score = similarity(word, candidate)
    if (score > bestScore || (score === bestScore && best === undefined && score >= cutoff)) {
      best = candidate
      bestScore = score
    }
  }
  return best
}

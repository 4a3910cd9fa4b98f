const dot = 0x2e
const singleWildcard = 1
const fullWildcard = 2

type Pattern = ReadonlyArray<Uint8Array | typeof singleWildcard | typeof fullWildcard>

/**
 * One or more subjects, each of which may hold `*` (one token) and `>` (one or more trailing
 * tokens) wildcards. Compile once (per consumer) and pass it to the store's scans.
 */
export interface SubjectFilter {
  /** Canonical text of the filter; equal filters have equal keys. */
  readonly key: string
  /** True when every subject matches (no filter, or one of the subjects is `>`). */
  readonly matchesAll: boolean
  readonly subjects: ReadonlyArray<string>
  /** The subjects, when none of them has a wildcard. */
  readonly literals: ReadonlyArray<string> | undefined
  matches(subject: string): boolean
  /** Matches the UTF-8 subject in `bytes[start..end)`. */
  matchesBytes(bytes: Uint8Array, start: number, end: number): boolean
}

export type FilterInput = SubjectFilter | string | ReadonlyArray<string> | undefined

const encoder = new TextEncoder()

const hasWildcard = (subject: string): boolean =>
  subject.split(".").some((token) => token === "*" || token === ">")

const compilePattern = (subject: string): Pattern =>
  subject.split(".").map((token) => (token === "*" ? singleWildcard : token === ">" ? fullWildcard : encoder.encode(token)))

const matchesPatternBytes = (pattern: Pattern, bytes: Uint8Array, start: number, end: number): boolean => {
  let position = start
  for (let index = 0; index < pattern.length; index++) {
    if (position > end) return false
    const token = pattern[index]
    if (token === fullWildcard) return true
    let tokenEnd = position
    while (tokenEnd < end && bytes[tokenEnd] !== dot) tokenEnd++
    if (token !== singleWildcard) {
      if (tokenEnd - position !== token.length) return false
      for (let offset = 0; offset < token.length; offset++) {
        if (bytes[position + offset] !== token[offset]) return false
      }
    }
    position = tokenEnd + 1
  }
  return position > end
}

const matchesPatternText = (pattern: ReadonlyArray<string>, subject: string): boolean => {
  let position = 0
  const end = subject.length
  for (let index = 0; index < pattern.length; index++) {
    if (position > end) return false
    const token = pattern[index]
    if (token === ">") return true
    let tokenEnd = subject.indexOf(".", position)
    if (tokenEnd === -1) tokenEnd = end
    if (token !== "*") {
      if (tokenEnd - position !== token.length || !subject.startsWith(token, position)) return false
    }
    position = tokenEnd + 1
  }
  return position > end
}

const build = (input: ReadonlyArray<string>): SubjectFilter => {
  const subjects = [...new Set(input.filter((subject) => subject.length > 0))].sort()
  const matchesAll = subjects.length === 0 || subjects.includes(">")
  const key = matchesAll ? ">" : subjects.join(" ")
  if (matchesAll) {
    return {
      key,
      matchesAll,
      subjects: [">"],
      literals: undefined,
      matches: () => true,
      matchesBytes: () => true
    }
  }
  const literal = !subjects.some(hasWildcard)
  const textPatterns = subjects.map((subject) => subject.split("."))
  const bytePatterns = subjects.map(compilePattern)
  const literalSet = new Set(subjects)
  return {
    key,
    matchesAll,
    subjects,
    literals: literal ? subjects : undefined,
    matches: literal
      ? (subject) => literalSet.has(subject)
      : (subject) => textPatterns.some((pattern) => matchesPatternText(pattern, subject)),
    matchesBytes: (bytes, start, end) => {
      for (const pattern of bytePatterns) if (matchesPatternBytes(pattern, bytes, start, end)) return true
      return false
    }
  }
}

const compiled = new Map<string, SubjectFilter>()
const compiledLimit = 1024

/** Compiles a filter; strings and arrays of strings are cached, so passing them repeatedly is cheap. */
export const compileFilter = (input: FilterInput): SubjectFilter => {
  if (input !== undefined && typeof input !== "string" && !Array.isArray(input)) return input as SubjectFilter
  const cacheKey = input === undefined ? "" : typeof input === "string" ? input : (input as ReadonlyArray<string>).join(" ")
  let filter = compiled.get(cacheKey)
  if (filter === undefined) {
    filter = build(input === undefined ? [] : typeof input === "string" ? [input] : (input as ReadonlyArray<string>))
    if (compiled.size >= compiledLimit) compiled.clear()
    compiled.set(cacheKey, filter)
  }
  return filter
}


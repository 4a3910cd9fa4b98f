const DOT = 46
const STAR = 42
const GREATER = 62
const SPACE = 32
const TAB = 9
const LINE_FEED = 10
const FORM_FEED = 12
const CARRIAGE_RETURN = 13

const isWhitespace = (code: number): boolean =>
  code === SPACE || code === TAB || code === LINE_FEED || code === CARRIAGE_RETURN || code === FORM_FEED

/** End index (exclusive) of the token starting at `start`. */
const tokenEnd = (subject: string, start: number): number => {
  const end = subject.indexOf(".", start)
  return end === -1 ? subject.length : end
}

/** Whether the token `[start, end)` is exactly the single character `code`. */
const isToken = (subject: string, start: number, end: number, code: number): boolean =>
  end - start === 1 && subject.charCodeAt(start) === code

const sameToken = (left: string, leftStart: number, leftEnd: number, right: string, rightStart: number, rightEnd: number): boolean => {
  const length = leftEnd - leftStart
  if (length !== rightEnd - rightStart) return false
  for (let index = 0; index < length; index++) {
    if (left.charCodeAt(leftStart + index) !== right.charCodeAt(rightStart + index)) return false
  }
  return true
}

/**
 * Scans a subject once. Returns -1 when invalid (empty token, whitespace, `>` not last),
 * else 1 when some whole token is a wildcard and 0 when it is literal.
 */
const classify = (subject: string): number => {
  const length = subject.length
  if (length === 0) return -1
  let tokenStart = 0
  let wildcard = 0
  let fullWildcardSeen = false
  for (let index = 0; index <= length; index++) {
    const code = index === length ? DOT : subject.charCodeAt(index)
    if (code === DOT) {
      const tokenLength = index - tokenStart
      if (tokenLength === 0 || fullWildcardSeen) return -1
      if (tokenLength === 1) {
        const only = subject.charCodeAt(tokenStart)
        if (only === GREATER) {
          fullWildcardSeen = true
          wildcard = 1
        } else if (only === STAR) {
          wildcard = 1
        }
      }
      tokenStart = index + 1
    } else if (isWhitespace(code)) {
      return -1
    }
  }
  return wildcard
}

/** A subject or subscription pattern: non-empty tokens, no whitespace, `>` only as the last token. */
export const isValidSubject = (subject: string): boolean => classify(subject) >= 0

/** A valid subject without wildcard tokens: what a message may be published to. */
export const isValidLiteralSubject = (subject: string): boolean => classify(subject) === 0

/** A queue group name: non-empty and free of whitespace. */
export const isValidQueueName = (name: string): boolean => {
  if (name.length === 0) return false
  for (let index = 0; index < name.length; index++) {
    if (isWhitespace(name.charCodeAt(index))) return false
  }
  return true
}

/** Whether `subject` (taken literally) is matched by the subscription `pattern`. */
export const subjectMatches = (pattern: string, subject: string): boolean => {
  let patternStart = 0
  let subjectStart = 0
  for (;;) {
    const patternEnd = tokenEnd(pattern, patternStart)
    const subjectEnd = tokenEnd(subject, subjectStart)
    if (isToken(pattern, patternStart, patternEnd, GREATER)) return true
    if (!isToken(pattern, patternStart, patternEnd, STAR) &&
      !sameToken(pattern, patternStart, patternEnd, subject, subjectStart, subjectEnd)) {
      return false
    }
    const patternDone = patternEnd === pattern.length
    const subjectDone = subjectEnd === subject.length
    if (patternDone || subjectDone) return patternDone && subjectDone
    patternStart = patternEnd + 1
    subjectStart = subjectEnd + 1
  }
}

/** Whether some literal subject is matched by both patterns. */
export const subjectsOverlap = (left: string, right: string): boolean => {
  let leftStart = 0
  let rightStart = 0
  for (;;) {
    const leftEnd = tokenEnd(left, leftStart)
    const rightEnd = tokenEnd(right, rightStart)
    // Both sides have a token here, so a `>` on either side can absorb whatever the other has left.
    if (isToken(left, leftStart, leftEnd, GREATER) || isToken(right, rightStart, rightEnd, GREATER)) return true
    if (!isToken(left, leftStart, leftEnd, STAR) && !isToken(right, rightStart, rightEnd, STAR) &&
      !sameToken(left, leftStart, leftEnd, right, rightStart, rightEnd)) {
      return false
    }
    const leftDone = leftEnd === left.length
    const rightDone = rightEnd === right.length
    if (leftDone || rightDone) return leftDone && rightDone
    leftStart = leftEnd + 1
    rightStart = rightEnd + 1
  }
}

/** Whether every subject matched by `subset` is also matched by `superset`. */
export const isSubsetOf = (subset: string, superset: string): boolean => {
  let subsetStart = 0
  let supersetStart = 0
  for (;;) {
    const subsetEnd = tokenEnd(subset, subsetStart)
    const supersetEnd = tokenEnd(superset, supersetStart)
    if (isToken(superset, supersetStart, supersetEnd, GREATER)) return true
    if (isToken(subset, subsetStart, subsetEnd, GREATER)) return false
    // A superset `*` covers any single token, including a subset `*`; otherwise tokens must be equal
    // literals (a subset `*` against a literal fails here because the texts differ).
    if (!isToken(superset, supersetStart, supersetEnd, STAR) &&
      !sameToken(subset, subsetStart, subsetEnd, superset, supersetStart, supersetEnd)) {
      return false
    }
    const subsetDone = subsetEnd === subset.length
    const supersetDone = supersetEnd === superset.length
    if (subsetDone || supersetDone) return subsetDone && supersetDone
    subsetStart = subsetEnd + 1
    supersetStart = supersetEnd + 1
  }
}

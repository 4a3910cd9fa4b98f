import { describe, expect, it } from "vitest"
import {
  isSubsetOf,
  isValidLiteralSubject,
  isValidQueueName,
  isValidSubject,
  subjectMatches,
  subjectsOverlap
} from "./Subject.ts"

describe("subject validation", () => {
  // subject, valid, literal
  const table: ReadonlyArray<readonly [string, boolean, boolean]> = [
    ["foo", true, true],
    ["foo.bar.baz", true, true],
    ["$JS.API.STREAM.INFO.orders", true, true],
    ["_INBOX.abc.*", true, false],
    ["*", true, false],
    [">", true, false],
    ["foo.>", true, false],
    ["*.*.>", true, false],
    ["foo*", true, true],
    ["foo.a>b", true, true],
    ["foo.*bar", true, true],
    ["foo.>>", true, true],
    ["\u00c3\u00bc.bytes", true, true],
    ["", false, false],
    [".", false, false],
    ["foo.", false, false],
    [".foo", false, false],
    ["foo..bar", false, false],
    ["foo.>.bar", false, false],
    [">.foo", false, false],
    ["foo bar", false, false],
    ["foo\tbar", false, false],
    ["foo\rbar", false, false],
    ["foo\nbar", false, false],
    ["foo\fbar", false, false],
    [" ", false, false]
  ]
  for (const [subject, valid, literal] of table) {
    it(`${JSON.stringify(subject)} is ${valid ? "valid" : "invalid"}${literal ? " and literal" : ""}`, () => {
      expect(isValidSubject(subject)).toBe(valid)
      expect(isValidLiteralSubject(subject)).toBe(literal)
    })
  }

  it("validates queue names", () => {
    expect(isValidQueueName("workers")).toBe(true)
    expect(isValidQueueName("a.b*>")).toBe(true)
    expect(isValidQueueName("")).toBe(false)
    expect(isValidQueueName("a b")).toBe(false)
    expect(isValidQueueName("a\tb")).toBe(false)
    expect(isValidQueueName("a\r")).toBe(false)
  })
})

describe("subjectMatches", () => {
  // pattern, subject, matches
  const table: ReadonlyArray<readonly [string, string, boolean]> = [
    ["foo", "foo", true],
    ["foo", "bar", false],
    ["foo", "foo.bar", false],
    ["foo.bar", "foo", false],
    ["foo.*", "foo.bar", true],
    ["foo.*", "foo", false],
    ["foo.*", "foo.bar.baz", false],
    ["*.bar", "foo.bar", true],
    ["*", "foo", true],
    ["*", "foo.bar", false],
    [">", "foo", true],
    [">", "foo.bar.baz", true],
    ["foo.>", "foo", false],
    ["foo.>", "foo.bar", true],
    ["foo.>", "foo.bar.baz", true],
    ["foo.*.>", "foo.bar", false],
    ["foo.*.>", "foo.bar.baz", true],
    ["foo*", "foo*", true],
    ["foo*", "foox", false],
    ["foo.*", "foo.*", true],
    ["fo.bar", "foo.bar", false],
    ["foo.ba", "foo.bar", false]
  ]
  for (const [pattern, subject, matches] of table) {
    it(`${pattern} ${matches ? "matches" : "does not match"} ${subject}`, () => {
      expect(subjectMatches(pattern, subject)).toBe(matches)
    })
  }
})

describe("subjectsOverlap", () => {
  const table: ReadonlyArray<readonly [string, string, boolean]> = [
    ["foo", "foo", true],
    ["foo", "bar", false],
    ["foo.*", "foo.bar", true],
    ["foo.*", "*.bar", true],
    ["foo.*", "bar.*", false],
    ["foo.>", "foo", false],
    ["foo.>", "foo.bar.baz", true],
    ["foo.>", "*.bar", true],
    [">", "anything.at.all", true],
    ["foo.*", "foo.*.baz", false],
    ["foo.*.baz", "foo.>", true],
    ["*.*", "foo", false],
    ["orders.*", "orders.new.>", false],
    ["orders.>", "orders.new.>", true]
  ]
  for (const [left, right, overlap] of table) {
    it(`${left} and ${right} ${overlap ? "overlap" : "do not overlap"}`, () => {
      expect(subjectsOverlap(left, right)).toBe(overlap)
      expect(subjectsOverlap(right, left)).toBe(overlap)
    })
  }
})

describe("isSubsetOf", () => {
  // subset, superset, result
  const table: ReadonlyArray<readonly [string, string, boolean]> = [
    ["foo", "foo", true],
    ["foo", "bar", false],
    ["foo.bar", "foo.*", true],
    ["foo.*", "foo.*", true],
    ["foo.*", "foo.bar", false],
    ["foo.*", "foo.>", true],
    ["foo.>", "foo.*", false],
    ["foo.>", "foo.>", true],
    ["foo.>", ">", true],
    ["foo.bar.baz", "foo.>", true],
    ["foo", "foo.>", false],
    ["*.bar", "foo.bar", false],
    ["foo.bar", "*.*", true],
    ["foo.bar.baz", "*.*", false],
    ["foo.*.baz", "foo.*.*", true],
    ["foo.*.*", "foo.*.baz", false]
  ]
  for (const [subset, superset, result] of table) {
    it(`${subset} ${result ? "is" : "is not"} a subset of ${superset}`, () => {
      expect(isSubsetOf(subset, superset)).toBe(result)
    })
  }
})

describe("subject relations agree with brute force", () => {
  const tokens = ["a", "b", "*", ">"]
  const patterns: string[] = []
  const build = (prefix: string[]): void => {
    if (prefix.length > 0 && isValidSubject(prefix.join("."))) patterns.push(prefix.join("."))
    if (prefix.length < 3) for (const token of tokens) build([...prefix, token])
  }
  build([])
  const literals: string[] = []
  const buildLiterals = (prefix: string[]): void => {
    if (prefix.length > 0) literals.push(prefix.join("."))
    if (prefix.length < 4) for (const token of ["a", "b", "c"]) buildLiterals([...prefix, token])
  }
  buildLiterals([])

  it("subjectsOverlap is true exactly when some literal subject matches both", () => {
    for (const left of patterns) {
      for (const right of patterns) {
        const expected = literals.some((literal) => subjectMatches(left, literal) && subjectMatches(right, literal))
        expect(subjectsOverlap(left, right), `${left} / ${right}`).toBe(expected)
      }
    }
  })

  it("isSubsetOf is true exactly when every literal matched by the subset is matched by the superset", () => {
    for (const subset of patterns) {
      for (const superset of patterns) {
        const expected = literals.every((literal) => !subjectMatches(subset, literal) || subjectMatches(superset, literal))
        expect(isSubsetOf(subset, superset), `${subset} ⊆ ${superset}`).toBe(expected)
      }
    }
  })
})

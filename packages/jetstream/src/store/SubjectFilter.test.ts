import { describe, expect, it } from "vitest"
import { compileFilter } from "./SubjectFilter.ts"

const cases: ReadonlyArray<readonly [string, string, boolean]> = [
  ["a.b.c", "a.b.c", true],
  ["a.b.c", "a.b", false],
  ["a.b", "a.b.c", false],
  ["a.*.c", "a.x.c", true],
  ["a.*.c", "a.x.y.c", false],
  ["a.*", "a", false],
  ["*", "a", true],
  ["*", "a.b", false],
  ["a.>", "a.b", true],
  ["a.>", "a.b.c.d", true],
  ["a.>", "a", false],
  [">", "anything.at.all", true],
  ["*.>", "a", false],
  ["*.>", "a.b", true],
  ["a.*.>", "a.b", false],
  ["a.*.>", "a.b.c", true],
  ["ab.*", "a.b", false],
  ["a.b*", "a.bc", false],
  ["a.b*", "a.b*", true],
  ["über.*", "über.x", true]
]

describe("SubjectFilter", () => {
  it.each(cases)("%s against %s", (filter, subject, expected) => {
    const compiled = compileFilter(filter)
    expect(compiled.matches(subject)).toBe(expected)
    const bytes = new TextEncoder().encode(`xx${subject}yy`)
    expect(compiled.matchesBytes(bytes, 2, bytes.length - 2)).toBe(expected)
  })

  it("matches any of several subjects", () => {
    const filter = compileFilter(["orders.*", "billing.>"])
    expect(filter.matches("orders.new")).toBe(true)
    expect(filter.matches("billing.eu.paid")).toBe(true)
    expect(filter.matches("shipping.new")).toBe(false)
    expect(filter.literals).toBeUndefined()
  })

  it("knows when it matches everything or only literals, and keys equal filters alike", () => {
    expect(compileFilter(undefined).matchesAll).toBe(true)
    expect(compileFilter("").matchesAll).toBe(true)
    expect(compileFilter([]).matchesAll).toBe(true)
    expect(compileFilter(["a", ">"]).matchesAll).toBe(true)
    expect(compileFilter(["b", "a"]).literals).toEqual(["a", "b"])
    expect(compileFilter(["b", "a", "b"]).key).toBe(compileFilter(["a", "b"]).key)
    const compiled = compileFilter("x.*")
    expect(compileFilter(compiled)).toBe(compiled)
  })
})

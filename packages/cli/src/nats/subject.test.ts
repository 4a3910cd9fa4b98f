import { describe, expect, it } from "vitest"
import { subjectProblem } from "./subject.ts"

describe("subjectProblem", () => {
  it("accepts ordinary subjects, and wildcards only when subscribing", () => {
    expect(subjectProblem("orders.new", { wildcards: false })).toBeUndefined()
    expect(subjectProblem("orders.*.new", { wildcards: true })).toBeUndefined()
    expect(subjectProblem("orders.>", { wildcards: true })).toBeUndefined()
    expect(subjectProblem("orders.>", { wildcards: false })).toMatch(/wildcards/)
  })

  it.each(["", "a b", "a..b", ".a", "a.", "a.>.b"])("rejects %j", (subject) => {
    expect(subjectProblem(subject, { wildcards: true })).toBeDefined()
  })
})

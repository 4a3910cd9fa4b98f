import { describe, expect, it } from "vitest"
import { isPublishSubject, Permissions, subjectCovers } from "../../src/worker/Permissions.ts"

describe("subject permissions", () => {
  it("covers subjects (and subject patterns) as NATS wildcards match them", () => {
    expect(subjectCovers("orders.>", "orders.new")).toBe(true)
    expect(subjectCovers("orders.>", "orders.new.eu")).toBe(true)
    expect(subjectCovers("orders.>", "orders")).toBe(false)
    expect(subjectCovers("orders.*", "orders.new")).toBe(true)
    expect(subjectCovers("orders.*", "orders.new.eu")).toBe(false)
    expect(subjectCovers("orders.*", "orders.*")).toBe(true)
    expect(subjectCovers("orders.new", "orders.*")).toBe(false)
    expect(subjectCovers("orders.*", "orders.>")).toBe(false)
    expect(subjectCovers(">", "a.b.c")).toBe(true)
  })

  it("allows publishing only inside allowPublish and never into reserved spaces", () => {
    const permissions = new Permissions(["svc.>", "$JS.API.>", ">"], [])
    expect(permissions.mayPublish("svc.a")).toBe(true)
    expect(permissions.mayPublish("$JS.API.STREAM.LIST")).toBe(false)
    expect(permissions.mayPublish("$NEX.api.ls")).toBe(false)
    expect(new Permissions([], []).mayPublish("svc.a")).toBe(false)
    expect(isPublishSubject("svc.a")).toBe(true)
    expect(isPublishSubject("svc.*")).toBe(false)
    expect(isPublishSubject("svc..a")).toBe(false)
    expect(isPublishSubject("svc a")).toBe(false)
  })

  it("checks triggers against reserved spaces and, when given, allowSubscribe", () => {
    expect(new Permissions([], []).triggerProblem("orders.>")).toBeUndefined()
    expect(new Permissions([], []).triggerProblem("$KV.nex-config.>")).toContain("reserved")
    expect(new Permissions([], []).triggerProblem(">")).toContain("wildcard")
    expect(new Permissions([], ["orders.>"]).triggerProblem("orders.*")).toBeUndefined()
    expect(new Permissions([], ["orders.>"]).triggerProblem("payments.*")).toContain("not covered by allowSubscribe")
  })
})

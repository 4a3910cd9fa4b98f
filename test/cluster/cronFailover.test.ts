import { describe, expect, it } from "vitest"
import { hasNatsServer } from "../support/index.ts"
import { cronFailovers, summarizeFirings } from "./cronFailovers.ts"

describe("summarizeFirings", () => {
  it("counts periods fired twice, periods missed, the longest gap and firings without a period", () => {
    const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString()
    const summary = summarizeFirings([`${at(0)} a`, `${at(1)} b`, `${at(1)} a`, `${at(4)} a`, "none a"], 1000)
    expect(summary).toEqual({ periods: 3, duplicates: [at(1)], missed: 2, longestGapMs: 3000, unclaimed: 1 })
  })
})

describe.skipIf(!hasNatsServer)("a schedule on three `nex up --nats` nodes through three SIGKILLs", () => {
  it("fires once per period: never twice, hardly ever not at all", async () => {
    const result = await cronFailovers({ failovers: 3, everyMs: 500, timeoutMs: 80_000 })
    expect(result.failovers).toBe(3)
    expect(result.periods).toBeGreaterThan(20)
    expect(result.duplicates).toEqual([])
    expect(result.unclaimed).toBe(0)
    expect(result.missed).toBeLessThanOrEqual(0.1 * result.periods)
  }, 90_000)
})

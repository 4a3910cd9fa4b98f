import { describe, expect, it } from "vitest"
import { formatHumanDuration, parseLongDuration } from "./longDuration.ts"

const hour = 3_600_000

describe("parseLongDuration", () => {
  it.each([
    ["30s", 30_000],
    ["1h30m", 1.5 * hour],
    ["1d", 24 * hour],
    ["1w", 7 * 24 * hour],
    ["1M", 30 * 24 * hour],
    ["1y", 365 * 24 * hour],
    ["1d12h", 36 * hour],
    ["250ms", 250],
    ["0", 0]
  ])("reads %s with natscli's calendar units", (text, milliseconds) => {
    expect(parseLongDuration(text)).toBe(milliseconds)
  })

  it.each(["", "1", "1x", "d", "-1s", "1 d"])("rejects %j", (text) => {
    expect(parseLongDuration(text)).toBeUndefined()
  })
})

describe("formatHumanDuration", () => {
  it("prints like natscli's HumanizeDuration", () => {
    expect(formatHumanDuration(0.25)).toBe("250µs")
    expect(formatHumanDuration(12.4)).toBe("12ms")
    expect(formatHumanDuration(30_000)).toBe("30.00s")
    expect(formatHumanDuration(120_000)).toBe("2m0s")
    expect(formatHumanDuration(hour)).toBe("1h0m0s")
    expect(formatHumanDuration(25 * hour)).toBe("1d1h0m0s")
    expect(formatHumanDuration(366 * 24 * hour)).toBe("1y1d0h0m0s")
    expect(formatHumanDuration(Number.POSITIVE_INFINITY)).toBe("never")
  })
})

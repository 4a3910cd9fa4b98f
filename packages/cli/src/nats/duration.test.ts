import { describe, expect, it } from "vitest"
import { formatDuration, parseDuration } from "./duration.ts"

describe("parseDuration", () => {
  it.each([
    ["2s", 2000],
    ["500ms", 500],
    ["1m", 60_000],
    ["1m30s", 90_000],
    ["1.5s", 1500],
    ["250us", 0.25],
    ["0", 0]
  ])("reads %s", (text, milliseconds) => {
    expect(parseDuration(text)).toBe(milliseconds)
  })

  it.each(["", "2", "2x", "s", "-1s", "1s2", "1 s"])("rejects %j", (text) => {
    expect(parseDuration(text)).toBeUndefined()
  })

  it("formats like Go's time.Duration", () => {
    expect(formatDuration(2000)).toBe("2s")
    expect(formatDuration(1.2346)).toBe("1.235ms")
    expect(formatDuration(0.25)).toBe("250µs")
  })
})

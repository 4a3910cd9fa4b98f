import { describe, expect, it } from "vitest"
import { comma, goTimeString, isZeroTime, parseTimestamp, sinceReference } from "./humanize.ts"

describe("humanize", () => {
  it("groups thousands as natscli's counts do", () => {
    expect(comma(0)).toBe("0")
    expect(comma(999)).toBe("999")
    expect(comma(1000)).toBe("1,000")
    expect(comma(-1234567)).toBe("-1,234,567")
  })

  it("reads and prints server timestamps with nanoseconds", () => {
    expect(parseTimestamp("2026-11-26T03:38:03.30344867Z")).toBe(Date.UTC(2026, 10, 26, 3, 38, 3, 303))
    expect(goTimeString("2026-11-26T03:38:03.30344867Z")).toBe("2026-11-26 03:38:03.30344867 +0000 UTC")
    expect(isZeroTime("0001-01-01T00:00:00Z")).toBe(true)
  })

  it("says how long ago something happened from the server's clock, or never", () => {
    expect(sinceReference("2026-11-26T03:38:03Z", "2026-11-26T03:38:05.5Z")).toBe("2.50s")
    expect(sinceReference("0001-01-01T00:00:00Z", "2026-11-26T03:38:05Z")).toBe("never")
    expect(sinceReference(undefined, undefined)).toBe("never")
  })
})

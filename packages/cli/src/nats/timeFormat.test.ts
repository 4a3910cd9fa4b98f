import { describe, expect, it } from "vitest"
import { rfc3339Local, rfc3339Utc, rfc822 } from "./timeFormat.ts"

// Local-time formats are checked against the zone the test runs in.
const local = new Date(2026, 10, 6, 3, 8, 9)

describe("Go time layouts", () => {
  it("prints RFC822 with a two-digit year and the zone's name", () => {
    expect(rfc822(local)).toMatch(/^06 Nov 26 03:08 ([A-Z]{2,5}|[+-]\d{4})$/)
  })

  it("prints RFC3339 in local time with Z or a numeric offset", () => {
    expect(rfc3339Local(local)).toMatch(/^2026-11-06T03:08:09(Z|[+-]\d\d:\d\d)$/)
    expect(rfc3339Utc(new Date(Date.UTC(2026, 10, 26, 3, 39, 53, 753)))).toBe("2026-11-26T03:39:53Z")
  })

  it("names UTC as Go does", () => {
    if (local.getTimezoneOffset() !== 0) return
    expect(rfc822(local)).toBe("06 Nov 26 03:08 UTC")
    expect(rfc3339Local(local)).toBe("2026-11-06T03:08:09Z")
  })
})

import { describe, expect, it } from "vitest"
import { Cron } from "../../src/worker/Cron.ts"

const at = (text: string): Date => new Date(text)
const next = (expression: string, after: string): string | undefined => new Cron(expression).next(at(after))?.toISOString()

describe("Cron", () => {
  it("finds the next matching minute in UTC", () => {
    expect(next("* * * * *", "2026-03-01T10:15:30Z")).toBe("2026-03-01T10:16:00.000Z")
    expect(next("*/15 * * * *", "2026-03-01T10:15:00Z")).toBe("2026-03-01T10:30:00.000Z")
    expect(next("0 9 * * 1-5", "2026-03-06T09:00:00Z")).toBe("2026-03-09T09:00:00.000Z")
    expect(next("30 2 1 jan *", "2026-03-01T00:00:00Z")).toBe("2027-01-01T02:30:00.000Z")
    expect(next("0 0 29 2 *", "2026-03-01T00:00:00Z")).toBe("2028-02-29T00:00:00.000Z")
    expect(next("5/20 0 * * *", "2026-03-01T00:30:00Z")).toBe("2026-03-01T00:45:00.000Z")
    expect(next("0 12 * * sun,7", "2026-03-02T00:00:00Z")).toBe("2026-03-08T12:00:00.000Z")
  })

  it("fires on either day field when both are restricted", () => {
    // The 13th, or any Friday.
    expect(next("0 0 13 * 5", "2026-03-01T00:00:00Z")).toBe("2026-03-06T00:00:00.000Z")
    expect(next("0 0 13 * 5", "2026-03-10T00:00:00Z")).toBe("2026-03-13T00:00:00.000Z")
  })

  it("rejects malformed or impossible expressions with the field named", () => {
    expect(() => new Cron("* * * *")).toThrow("expected 5 fields")
    expect(() => new Cron("60 * * * *")).toThrow("minute: 60 is outside 0-59")
    expect(() => new Cron("* * * foo *")).toThrow("month: 'foo' is not a number")
    expect(() => new Cron("*/0 * * * *")).toThrow("step")
    expect(() => new Cron("5-1 * * * *")).toThrow("backwards")
    expect(() => new Cron("0 0 30 2 *")).toThrow("never fires")
  })
})

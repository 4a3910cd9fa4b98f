import type { KvEntry } from "@nats-io/kv"
import { describe, expect, it } from "vitest"
import { displayValue, kvWatchLine } from "./kvOutput.ts"

const entry = (operation: KvEntry["operation"], value: string): KvEntry =>
  ({ bucket: "config", key: "db_host", value: Buffer.from(value), created: new Date(2026, 10, 26, 3, 4, 5), revision: 1, operation, length: value.length }) as unknown as KvEntry

describe("KV output", () => {
  it("shows printable values as text and anything else as base64, as natscli does", () => {
    expect(displayValue(Buffer.from("localhost"))).toBe("localhost")
    expect(displayValue(Buffer.from("grüße ✓"))).toBe("grüße ✓")
    expect(displayValue(Buffer.from("two\nlines"))).toBe(Buffer.from("two\nlines").toString("base64"))
    expect(displayValue(Buffer.from([0xff, 0xfe]))).toBe("//4=")
  })

  it("writes natscli's watch lines", () => {
    expect(kvWatchLine(entry("PUT", "localhost"))).toBe("[2026-11-26 03:04:05] PUT config > db_host: localhost\n")
    expect(kvWatchLine(entry("DEL", ""))).toBe("[2026-11-26 03:04:05] DELETE config > db_host\n")
    expect(kvWatchLine(entry("PURGE", ""))).toBe("[2026-11-26 03:04:05] PURGE config > db_host\n")
  })
})

import { describe, expect, it } from "vitest"
import { formatBytes, parseSize } from "./size.ts"

describe("parseSize", () => {
  it.each([
    ["512", 512],
    ["1KB", 1024],
    ["1k", 1024],
    ["10MiB", 10 * 1024 ** 2],
    ["1GB", 1024 ** 3],
    ["2 TB", 2 * 1024 ** 4],
    ["7B", 7]
  ])("reads %s in binary units as natscli does", (text, bytes) => {
    expect(parseSize(text)).toBe(bytes)
  })

  it.each(["", "1.5MB", "10XB", "-1", "MB", "1e3"])("rejects %j", (text) => {
    expect(parseSize(text)).toBeUndefined()
  })
})

describe("formatBytes", () => {
  it("prints like go-humanize IBytes", () => {
    expect(formatBytes(0)).toBe("0 B")
    expect(formatBytes(55)).toBe("55 B")
    expect(formatBytes(1024)).toBe("1.0 KiB")
    expect(formatBytes(1536)).toBe("1.5 KiB")
    expect(formatBytes(10 * 1024 ** 2)).toBe("10 MiB")
    expect(formatBytes(256 * 1024 ** 2)).toBe("256 MiB")
  })
})

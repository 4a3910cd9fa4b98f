import { describe, expect, it } from "vitest"
import { PubAckEncoder } from "./PubAckEncoder.ts"

const decoder = new TextDecoder()

describe("PubAckEncoder", () => {
  it("writes the stream name and every sequence as JSON does", () => {
    const encoder = new PubAckEncoder("ORDERS")
    for (const seq of [0, 1, 9, 10, 99, 100, 12345, 999_999_999, 1_000_000_000_000, Number.MAX_SAFE_INTEGER]) {
      expect(decoder.decode(encoder.encode(seq))).toBe(JSON.stringify({ stream: "ORDERS", seq }))
    }
  })

  it("escapes a name that needs it and keeps it UTF-8", () => {
    const encoder = new PubAckEncoder('ü"x')
    expect(JSON.parse(decoder.decode(encoder.encode(42)))).toEqual({ stream: 'ü"x', seq: 42 })
  })

  it("marks duplicates", () => {
    expect(JSON.parse(decoder.decode(new PubAckEncoder("KV_a").encodeDuplicate(7)))).toEqual({ stream: "KV_a", seq: 7, duplicate: true })
  })

  it("gives each ack a buffer of its own", () => {
    const encoder = new PubAckEncoder("S")
    const first = encoder.encode(1)
    encoder.encode(2)
    expect(decoder.decode(first)).toBe('{"stream":"S","seq":1}')
  })
})

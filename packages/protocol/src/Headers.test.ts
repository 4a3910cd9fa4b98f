import { describe, expect, it } from "vitest"
import { decodeHeaders, encodeHeaders, findHeader, HeaderFormatError, statusMessage } from "./Headers.ts"

const bytes = (text: string): Buffer => Buffer.from(text, "latin1")

describe("encodeHeaders", () => {
  it("writes a bare version line and the closing empty line", () => {
    expect(encodeHeaders({}).toString("latin1")).toBe("NATS/1.0\r\n\r\n")
  })

  it("writes headers in order, repeated keys included", () => {
    const block = encodeHeaders({ headers: [["Nats-Msg-Id", "1"], ["X", "a"], ["X", "b"]] })
    expect(block.toString("latin1")).toBe("NATS/1.0\r\nNats-Msg-Id: 1\r\nX: a\r\nX: b\r\n\r\n")
  })

  it("writes status and description", () => {
    expect(encodeHeaders({ status: 404, description: "No Messages" }).toString("latin1")).toBe("NATS/1.0 404 No Messages\r\n\r\n")
    expect(encodeHeaders({ status: 503 }).toString("latin1")).toBe("NATS/1.0 503\r\n\r\n")
  })

  it("writes strings byte for byte (latin1), so UTF-8 held as latin1 round-trips", () => {
    const utf8AsLatin1 = Buffer.from("caf\u00e9", "utf8").toString("latin1")
    const block = encodeHeaders({ headers: [["Nats-Subject", utf8AsLatin1]] })
    expect(block.subarray(10, block.length - 4)).toEqual(Buffer.from("Nats-Subject: caf\u00e9", "utf8"))
  })

  it("refuses keys and values that would break the framing", () => {
    expect(() => encodeHeaders({ headers: [["A", "x\r\nInjected: y"]] })).toThrow(HeaderFormatError)
    expect(() => encodeHeaders({ headers: [["A: b", "x"]] })).toThrow(HeaderFormatError)
    expect(() => encodeHeaders({ headers: [["A B", "x"]] })).toThrow(HeaderFormatError)
    expect(() => encodeHeaders({ headers: [["", "x"]] })).toThrow(HeaderFormatError)
    expect(() => encodeHeaders({ status: 20 })).toThrow(HeaderFormatError)
    expect(() => encodeHeaders({ status: 404, description: "a\nb" })).toThrow(HeaderFormatError)
  })
})

describe("statusMessage", () => {
  it("is the 16-byte no-responders block nats-server 2.9 sends for 503", () => {
    const block = statusMessage(503)
    expect(block.toString("latin1")).toBe("NATS/1.0 503\r\n\r\n")
    expect(block.length).toBe(16)
  })

  it("carries description and headers", () => {
    expect(statusMessage(408, "Request Timeout", [["Nats-Pending-Messages", "1"]]).toString("latin1")).toBe(
      "NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 1\r\n\r\n"
    )
  })
})

describe("decodeHeaders", () => {
  it("round-trips what encodeHeaders writes", () => {
    const headers = [["Nats-Stream", "orders"], ["X", "1"], ["X", "2"]] as const
    expect(decodeHeaders(encodeHeaders({ status: 100, description: "Idle Heartbeat", headers }))).toEqual({
      status: 100,
      description: "Idle Heartbeat",
      headers
    })
    expect(decodeHeaders(encodeHeaders({}))).toEqual({ status: undefined, description: undefined, headers: [] })
  })

  it("is tolerant: bare LF, blanks around values, missing final empty line, lines without a colon", () => {
    const block = bytes("NATS/1.0  409   Consumer Deleted \nKey:value\n  \nOdd line\r\nSpaced-Key:   padded\t \r\nTrailing:")
    expect(decodeHeaders(block)).toEqual({
      status: 409,
      description: "Consumer Deleted",
      headers: [["Key", "value"], ["Spaced-Key", "padded"], ["Trailing", ""]]
    })
  })

  it("stops at the empty line that ends the block", () => {
    expect(decodeHeaders(bytes("NATS/1.0\r\nA: 1\r\n\r\nB: 2\r\n")).headers).toEqual([["A", "1"]])
  })

  it("keeps key case and does not trim UTF-8 bytes such as 0xA0", () => {
    const value = Buffer.from("\u00e0", "utf8").toString("latin1")
    expect(value.charCodeAt(1)).toBe(0xa0)
    expect(decodeHeaders(bytes(`NATS/1.0\r\nnats-msg-ID: ${value}\r\n\r\n`)).headers).toEqual([["nats-msg-ID", value]])
  })

  it("accepts any Uint8Array", () => {
    expect(decodeHeaders(new Uint8Array(bytes("NATS/1.0 503\r\n\r\n"))).status).toBe(503)
  })

  it("throws HeaderFormatError when the block does not start with NATS/1.0", () => {
    expect(() => decodeHeaders(bytes("HTTP/1.1 200\r\n\r\n"))).toThrow(HeaderFormatError)
    expect(() => decodeHeaders(bytes(""))).toThrow(HeaderFormatError)
  })
})

describe("findHeader", () => {
  const block = encodeHeaders({
    headers: [["Nats-Msg-Id", "abc"], ["Nats-Expected-Stream", "orders"], ["Nats-Msg-Id", "second"], ["Padded", "  x  "]]
  })

  it("finds the first value of an exact-case key", () => {
    expect(findHeader(block, "Nats-Msg-Id")).toBe("abc")
    expect(findHeader(block, "Nats-Expected-Stream")).toBe("orders")
    expect(findHeader(block, "Padded")).toBe("x")
  })

  it("does not match other case, prefixes or extensions of the key", () => {
    expect(findHeader(block, "nats-msg-id")).toBeUndefined()
    expect(findHeader(block, "Nats-Msg")).toBeUndefined()
    expect(findHeader(block, "Nats-Msg-Id-X")).toBeUndefined()
    expect(findHeader(block, "Missing")).toBeUndefined()
  })

  it("does not read the status line or past the end of the headers", () => {
    expect(findHeader(bytes("NATS/1.0 503\r\n\r\n"), "NATS/1.0 503")).toBeUndefined()
    expect(findHeader(bytes("NATS/1.0\r\nA: 1\r\n\r\nB: 2\r\n"), "B")).toBeUndefined()
    expect(findHeader(bytes("NATS/1.0"), "A")).toBeUndefined()
  })

  it("handles bare LF lines and a last line without a line end", () => {
    expect(findHeader(bytes("NATS/1.0\nA:1\nB:  2"), "B")).toBe("2")
  })

  it("agrees with decodeHeaders on encoded blocks", () => {
    const decoded = decodeHeaders(block)
    for (const [key] of decoded.headers) {
      expect(findHeader(block, key)).toBe(decoded.headers.find(([name]) => name === key)?.[1])
    }
  })
})

import { describe, expect, it } from "vitest"
import { eventually } from "../../../test/support/eventually.ts"
import { responseType } from "../src/api.ts"
import { ApiDispatcher } from "../src/ApiDispatcher.ts"
import { apiError, apiErrors } from "../src/ApiErrors.ts"
import type { Outbound } from "../src/Outbound.ts"
import { parsePullRequest } from "../src/PullRequest.ts"
import { formatGoDuration, formatTimestamp, parseGoDuration, parseTimestamp, zeroTime } from "../src/Time.ts"

const encode = (text: string) => new TextEncoder().encode(text)

describe("the error table", () => {
  it("mirrors nats-server's numbers and texts", () => {
    expect(apiErrors.JSStreamNotFoundErr).toEqual({ code: 404, err_code: 10059, description: "stream not found" })
    expect(apiErrors.JSConsumerNotFoundErr).toEqual({ code: 404, err_code: 10014, description: "consumer not found" })
    expect(Object.keys(apiErrors).length).toBeGreaterThan(200)
    const codes = Object.values(apiErrors).map((error) => error.err_code)
    expect(new Set(codes).size).toBe(codes.length)
  })

  it("fills placeholders", () => {
    expect(apiError("JSStreamWrongLastSequenceErrF", { seq: 7 })).toEqual({ code: 400, err_code: 10071, description: "wrong last sequence: 7" })
    expect(apiError("JSStreamWrongLastMsgIDErrF", { id: "" }).description).toBe("wrong last msg ID: ")
    expect(apiError("JSStreamStoreFailedF").description).toBe("{err}")
  })
})

describe("times and durations", () => {
  it("formats RFC 3339 with trimmed nanoseconds, like Go", () => {
    expect(formatTimestamp(0)).toBe(zeroTime)
    expect(formatTimestamp(1_700_000_000_000_000_000)).toBe("2023-11-14T22:13:20Z")
    expect(formatTimestamp(1_700_000_000_123_456_768)).toBe("2023-11-14T22:13:20.123456768Z")
    expect(formatTimestamp(1_700_000_000_120_000_000)).toBe("2023-11-14T22:13:20.12Z")
  })

  it("formats every timestamp as exact integer arithmetic does, across seconds and dates", () => {
    const exact = (nanos: number): string => {
      const total = BigInt(Math.round(nanos))
      const date = new Date(Number(total / 1_000_000_000n) * 1000).toISOString().slice(0, 19)
      const fraction = (total % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "")
      return fraction === "" ? `${date}Z` : `${date}.${fraction}Z`
    }
    let seed = 7
    const next = (): number => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0
      return seed / 4294967296
    }
    const samples = [1, 999, 1e9, 1e9 + 1, 253_402_300_799e9]
    for (let index = 0; index < 2000; index++) {
      samples.push(next() * 4e18, 1.7e18 + next() * 3e9, Math.floor(next() * 2e9) * 1e9 + Math.floor(next() * 10) * 1e8)
    }
    for (const nanos of samples) expect(formatTimestamp(nanos), String(nanos)).toBe(exact(nanos))
  })

  it("parses RFC 3339 with any offset", () => {
    expect(parseTimestamp("2023-11-14T22:13:20.5Z")).toBe(1_700_000_000_500_000_000)
    expect(parseTimestamp("2023-11-14T23:13:20+01:00")).toBe(1_700_000_000_000_000_000)
    expect(parseTimestamp("yesterday")).toBeUndefined()
  })

  it("reads and writes Go durations", () => {
    expect(parseGoDuration("1.5s")).toBe(1_500_000_000)
    expect(parseGoDuration("2m30s")).toBe(150_000_000_000)
    expect(parseGoDuration("300ms")).toBe(300_000_000)
    expect(parseGoDuration("5")).toBeUndefined()
    expect(formatGoDuration(5_000_000_000)).toBe("5s")
    expect(formatGoDuration(90_000_000_000)).toBe("1m30s")
    expect(formatGoDuration(3_600_000_000_000)).toBe("1h0m0s")
    expect(formatGoDuration(1_500_000)).toBe("1.5ms")
  })
})

describe("pull request bodies", () => {
  it("reads empty, numeric and JSON bodies as nats-server does", () => {
    expect(parsePullRequest(new Uint8Array(0))).toMatchObject({ batch: 1, expiresNs: 0, noWait: false })
    expect(parsePullRequest(encode(" 10 "))).toMatchObject({ batch: 10 })
    expect(parsePullRequest(encode('{"batch":5,"expires":1000000000,"idle_heartbeat":500000000,"no_wait":true}'))).toEqual({
      batch: 5,
      expiresNs: 1_000_000_000,
      maxBytes: 0,
      noWait: true,
      heartbeatNs: 500_000_000
    })
    expect(parsePullRequest(encode('{"batch":1,"expires":1000,"idle_heartbeat":600}'))).toEqual({ error: "heartbeat value too large" })
    expect(parsePullRequest(encode('{"batch":"x"}'))).toHaveProperty("error")
  })
})

describe("the API dispatcher", () => {
  it("answers at once with an error when its queue is full, and serves the rest in order", async () => {
    const replies: Array<[string, unknown]> = []
    const outbound = { publish: (subject: string, payload: Uint8Array) => replies.push([subject, JSON.parse(new TextDecoder().decode(payload))]) }
    const dispatcher = new ApiDispatcher(outbound as unknown as Outbound, 2)
    const served: string[] = []
    dispatcher.add([{ pattern: "INFO", handler: (request) => (served.push(request.reply), { type: responseType.accountInfo }) }])
    for (const reply of ["a", "b", "c"]) dispatcher.enqueue("$JS.API.INFO", reply, undefined, new Uint8Array(0))
    dispatcher.enqueue("$JS.API.NOPE", "d", undefined, new Uint8Array(0))
    dispatcher.enqueue("$JS.API.INFO", undefined, undefined, new Uint8Array(0))
    expect(replies).toEqual([
      ["c", { type: responseType.system, error: { code: 503, err_code: 10008, description: "JetStream system temporarily unavailable" } }],
      ["d", { type: responseType.system, error: { code: 400, err_code: 10003, description: "bad request" } }]
    ])
    await eventually(() => expect(served).toEqual(["a", "b"]))
    expect(dispatcher.total).toBe(4)
    expect(dispatcher.errors).toBe(2)
  })
})

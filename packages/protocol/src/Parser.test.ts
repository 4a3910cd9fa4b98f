import { describe, expect, it } from "vitest"
import { Parser, type ParserHandler, type ProtocolViolation } from "./Parser.ts"

type Call =
  | readonly ["connect", string]
  | readonly ["pub", string, string | undefined, string]
  | readonly ["hpub", string, string | undefined, number, string]
  | readonly ["sub", string, string | undefined, string]
  | readonly ["unsub", string, number | undefined]
  | readonly ["ping"]
  | readonly ["pong"]
  | readonly ["clientError", string]
  | readonly ["protocolError", ProtocolViolation]

/** Records every call; payloads are copied (as latin1 text) because the parser lends only a view. */
class Recorder implements ParserHandler {
  readonly calls: Call[] = []
  connect(json: string): void {
    this.calls.push(["connect", json])
  }
  pub(subject: string, reply: string | undefined, buffer: Buffer, start: number, end: number): void {
    this.calls.push(["pub", subject, reply, buffer.toString("latin1", start, end)])
  }
  hpub(subject: string, reply: string | undefined, headerSize: number, buffer: Buffer, start: number, end: number): void {
    this.calls.push(["hpub", subject, reply, headerSize, buffer.toString("latin1", start, end)])
  }
  sub(subject: string, queue: string | undefined, sid: string): void {
    this.calls.push(["sub", subject, queue, sid])
  }
  unsub(sid: string, max: number | undefined): void {
    this.calls.push(["unsub", sid, max])
  }
  ping(): void {
    this.calls.push(["ping"])
  }
  pong(): void {
    this.calls.push(["pong"])
  }
  clientError(text: string): void {
    this.calls.push(["clientError", text])
  }
  protocolError(violation: ProtocolViolation): void {
    this.calls.push(["protocolError", violation])
  }
}

const defaults = { maxControlLine: 4096, maxPayload: 1024 * 1024 }
type Limits = typeof defaults

const bytes = (text: string): Buffer => Buffer.from(text, "latin1")

const parseChunks = (chunks: readonly Buffer[], limits: Limits = defaults): Call[] => {
  const recorder = new Recorder()
  const parser = new Parser(recorder, { ...limits })
  for (const chunk of chunks) parser.parse(chunk)
  return recorder.calls
}

const parseText = (text: string, limits: Limits = defaults): Call[] => parseChunks([bytes(text)], limits)

const splitAt = (input: Buffer, points: readonly number[]): Buffer[] => {
  const chunks: Buffer[] = []
  let previous = 0
  for (const point of [...points, input.length]) {
    // Copies, so a parser that kept a view into an earlier chunk would see it go stale.
    chunks.push(Buffer.from(input.subarray(previous, point)))
    previous = point
  }
  return chunks
}

const byteByByte = (input: Buffer): Buffer[] => Array.from(input, (byte) => Buffer.from([byte]))

/** Small deterministic PRNG (mulberry32) so failures reproduce. */
const random = (seed: number): (() => number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let value = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value
  return ((value ^ (value >>> 14)) >>> 0) / 4294967296
}

const unknownOperation = { errorText: "Unknown Protocol Operation", reason: "Parse Error" }
const controlLineExceeded = { errorText: "maximum control line exceeded", reason: "Maximum Control Line Exceeded" }
const payloadExceeded = { errorText: "Maximum Payload Violation", reason: "Maximum Message Payload Exceeded" }
const silent = { errorText: undefined, reason: "Protocol Violation" }

const session = [
  'CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\n',
  "PING\r\n",
  "SUB foo.* 1\r\n",
  "SUB foo.> workers 2\r\n",
  "PUB foo.bar 5\r\nhello\r\n",
  "PUB foo.bar _INBOX.abc.1 0\r\n\r\n",
  "PUB crlf.inside 6\r\na\r\nb\r\n\r\n",
  "HPUB $KV.cfg.a.b _INBOX.x.y 0 2\r\nv1\r\n",
  "HPUB with.headers 18 21\r\nNATS/1.0\r\nA: b\r\n\r\nxyz\r\n",
  "UNSUB 1\r\n",
  "UNSUB 2 10\r\n",
  "PONG\r\n",
  "+OK\r\n",
  'INFO {"server_id":"x"}\r\n',
  "pub\tmixed.Case \t 1\nZ\r\n",
  "sub  lower  3\n",
  "Ping\n"
].join("")

const sessionCalls: Call[] = [
  ["connect", '{"verbose":false,"pedantic":false,"headers":true}'],
  ["ping"],
  ["sub", "foo.*", undefined, "1"],
  ["sub", "foo.>", "workers", "2"],
  ["pub", "foo.bar", undefined, "hello"],
  ["pub", "foo.bar", "_INBOX.abc.1", ""],
  ["pub", "crlf.inside", undefined, "a\r\nb\r\n"],
  ["hpub", "$KV.cfg.a.b", "_INBOX.x.y", 0, "v1"],
  ["hpub", "with.headers", undefined, 18, "NATS/1.0\r\nA: b\r\n\r\nxyz"],
  ["unsub", "1", undefined],
  ["unsub", "2", 10],
  ["pong"],
  ["pub", "mixed.Case", undefined, "Z"],
  ["sub", "lower", undefined, "3"],
  ["ping"]
]

describe("Parser: one chunk", () => {
  it("parses every client operation", () => {
    expect(parseText(session)).toEqual(sessionCalls)
  })

  it("accepts operation names in any case", () => {
    expect(parseText("cOnNeCt {}\r\npInG\r\npOnG\r\nSuB a 1\r\nuNsUb 1\r\nhPuB a 0 0\r\n\r\nPuB a 0\r\n\r\n+ok\r\n")).toEqual([
      ["connect", "{}"],
      ["ping"],
      ["pong"],
      ["sub", "a", undefined, "1"],
      ["unsub", "1", undefined],
      ["hpub", "a", undefined, 0, ""],
      ["pub", "a", undefined, ""]
    ])
  })

  it("separates arguments by runs of spaces and TABs", () => {
    expect(parseText("PUB\t \tfoo \t reply\t\t3 \r\nabc\r\nSUB\tfoo\t\tq\t7\t\r\n")).toEqual([
      ["pub", "foo", "reply", "abc"],
      ["sub", "foo", "q", "7"]
    ])
  })

  it("ends control lines at a bare LF and drops one CR before it", () => {
    expect(parseText("SUB a 1\nPUB a 2\nhi\r\nUNSUB 1 \r\n")).toEqual([
      ["sub", "a", undefined, "1"],
      ["pub", "a", undefined, "hi"],
      ["unsub", "1", undefined]
    ])
  })

  it("treats HPUB with header size 0 as valid", () => {
    expect(parseText("HPUB a 0 2\r\nv1\r\n")).toEqual([["hpub", "a", undefined, 0, "v1"]])
  })

  it("ignores anything after PING, PONG and +OK up to the line end, as nats-server does", () => {
    expect(parseText("PINGxx\r\nPONG yy\r\n+OK whatever\r\n")).toEqual([["ping"], ["pong"]])
  })

  it("gives UNSUB an undefined max when it is not a number", () => {
    expect(parseText("UNSUB 1 x\r\nUNSUB 2 0\r\n")).toEqual([["unsub", "1", undefined], ["unsub", "2", 0]])
  })

  it("passes CONNECT JSON through as UTF-8 text", () => {
    const json = '{"name":"caf\u00e9 \u2615"}'
    expect(parseChunks([Buffer.from(`CONNECT ${json}\r\n`, "utf8")])).toEqual([["connect", json]])
  })

  it("keeps subject bytes exact (UTF-8 subjects come back as latin1 strings)", () => {
    const subject = Buffer.from("temp.\u00fcber", "utf8")
    const input = Buffer.concat([bytes("PUB "), subject, bytes(" 0\r\n\r\n")])
    const calls = parseChunks([input])
    expect(calls).toEqual([["pub", subject.toString("latin1"), undefined, ""]])
    expect(Buffer.from((calls[0] as readonly [string, string])[1], "latin1")).toEqual(subject)
  })

  it("lends the payload's range of the chunk itself when the message is whole", () => {
    const chunk = bytes("PUB a 3\r\nabc\r\n")
    let lent: [Buffer, number, number] | undefined
    const handler = Object.assign(new Recorder(), {
      pub: (_subject: string, _reply: string | undefined, buffer: Buffer, start: number, end: number) => {
        lent = [buffer, start, end]
      }
    })
    const parser = new Parser(handler, defaults)
    parser.parse(chunk)
    expect(lent?.[0]).toBe(chunk)
    expect(lent?.slice(1)).toEqual([9, 12])
  })

  it("copies a payload that spans chunks", () => {
    const recorder = new Recorder()
    const parser = new Parser(recorder, defaults)
    const first = bytes("PUB a 6\r\nabc")
    parser.parse(first)
    first.fill(0x3f)
    parser.parse(bytes("def\r\n"))
    expect(recorder.calls).toEqual([["pub", "a", undefined, "abcdef"]])
  })
})

describe("Parser: errors", () => {
  const cases: ReadonlyArray<readonly [string, string, object]> = [
    ["an unknown operation", "FOO bar\r\n", unknownOperation],
    ["MSG from a client", "MSG foo 1 0\r\n\r\n", unknownOperation],
    ["HMSG from a client", "HMSG foo 1 0 0\r\n\r\n", unknownOperation],
    ["a blank line", "\r\nPING\r\n", unknownOperation],
    ["PUB without arguments", "PUB\r\n", unknownOperation],
    ["-ERR without a blank", "-ERR\r\n", unknownOperation],
    ["a payload longer than declared", "PUB a 2\r\nabc\r\n", unknownOperation],
    ["a payload ended by LF only", "PUB a 2\r\nab\nPING\r\n", unknownOperation],
    ["a payload shorter than declared", "PUB a 5\r\nab\r\nPING\r\n", unknownOperation],
    ["PUB with one argument", "PUB a\r\n", silent],
    ["PUB with four arguments", "PUB a b c 1\r\nx\r\n", silent],
    ["PUB with a non-numeric size", "PUB a x\r\n", silent],
    ["PUB with a negative size", "PUB a -1\r\n", silent],
    ["PUB with a ten-digit size", "PUB a 0000000001\r\nx\r\n", silent],
    ["PUB with no arguments after the blank", "PUB \r\n", silent],
    ["HPUB with two arguments", "HPUB a 1\r\n", silent],
    ["HPUB with five arguments", "HPUB a b c 1 2\r\n", silent],
    ["HPUB with a header size above the total", "HPUB a 3 2\r\nab\r\n", silent],
    ["HPUB with a non-numeric header size", "HPUB a x 2\r\nab\r\n", silent],
    ["SUB with one argument", "SUB a\r\n", silent],
    ["SUB with four arguments", "SUB a b c d\r\n", silent],
    ["UNSUB without arguments", "UNSUB \r\n", silent],
    ["UNSUB with three arguments", "UNSUB 1 2 3\r\n", silent],
    ["INFO that is not a JSON object", "INFO garbage\r\n", silent],
    ["INFO without arguments", "INFO\r\n", silent]
  ]
  for (const [name, input, violation] of cases) {
    it(`stops on ${name}`, () => {
      const calls = parseText(`${input}PING\r\n`)
      expect(calls).toEqual([["protocolError", violation]])
    })
  }

  it("checks the payload size against maxPayload, inclusive", () => {
    const limits = { maxControlLine: 4096, maxPayload: 4 }
    expect(parseText("PUB a 4\r\nabcd\r\n", limits)).toEqual([["pub", "a", undefined, "abcd"]])
    expect(parseText("PUB a 5\r\nabcde\r\n", limits)).toEqual([["protocolError", payloadExceeded]])
    expect(parseText("HPUB a 2 4\r\nabcd\r\n", limits)).toEqual([["hpub", "a", undefined, 2, "abcd"]])
    expect(parseText("HPUB a 2 5\r\nabcde\r\n", limits)).toEqual([["protocolError", payloadExceeded]])
  })

  it("reads maxPayload at each message, so it can change between calls", () => {
    const recorder = new Recorder()
    const parser = new Parser(recorder, { maxControlLine: 4096, maxPayload: 10 })
    parser.parse(bytes("PUB a 8\r\n12345678\r\n"))
    parser.maxPayload = 4
    parser.parse(bytes("PUB a 8\r\n12345678\r\n"))
    expect(recorder.calls).toEqual([["pub", "a", undefined, "12345678"], ["protocolError", payloadExceeded]])
  })

  it("reports a client -ERR and ignores what follows", () => {
    expect(parseText("-ERR 'Stale Connection'\r\nPING\r\n")).toEqual([["clientError", "'Stale Connection'"]])
  })

  it("ignores all input after a protocol error", () => {
    const recorder = new Recorder()
    const parser = new Parser(recorder, defaults)
    parser.parse(bytes("XYZ\r\n"))
    parser.parse(bytes("PING\r\nPUB a 1\r\nx\r\n"))
    expect(recorder.calls).toEqual([["protocolError", unknownOperation]])
  })

  it("stops when the handler calls stop() during a callback", () => {
    const recorder = new Recorder()
    const parser: Parser = new Parser(
      Object.assign(recorder, {
        ping: () => {
          recorder.calls.push(["ping"])
          parser.stop()
        }
      }),
      defaults
    )
    parser.parse(bytes("PONG\r\nPING\r\nPONG\r\n"))
    parser.parse(bytes("PONG\r\n"))
    expect(recorder.calls).toEqual([["pong"], ["ping"]])
  })
})

describe("Parser: maximum control line", () => {
  const limits = { maxControlLine: 32, maxPayload: 1024 }
  // Like nats-server, the limit applies to the arguments: the text after the operation and its blanks.
  const pubOfLength = (length: number): string => `PUB ${"s".repeat(length - 2)} 0`

  it("accepts arguments exactly at the limit and rejects one byte more", () => {
    expect(parseText(`${pubOfLength(32)}\r\n\r\n`, limits)).toEqual([["pub", "s".repeat(30), undefined, ""]])
    expect(parseText(`${pubOfLength(33)}\r\n\r\n`, limits)).toEqual([["protocolError", controlLineExceeded]])
  })

  it("does not count a CR that arrives at a chunk end before its LF", () => {
    const input = bytes(`${pubOfLength(32)}\r\n\r\n`)
    for (let point = 1; point < input.length; point++) {
      expect(parseChunks(splitAt(input, [point]), limits)).toEqual([["pub", "s".repeat(30), undefined, ""]])
    }
  })

  it("applies to CONNECT JSON", () => {
    const json = `{"name":"${"n".repeat(22)}"}`
    expect(json.length).toBe(33)
    expect(parseText(`CONNECT ${json.slice(0, 32)}\r\n`, limits)).toEqual([["connect", json.slice(0, 32)]])
    expect(parseText(`CONNECT ${json}\r\n`, limits)).toEqual([["protocolError", controlLineExceeded]])
  })

  it("applies to SUB, UNSUB, INFO and -ERR lines", () => {
    for (const operation of ["SUB", "UNSUB", "INFO", "-ERR"]) {
      expect(parseText(`${operation} ${"x".repeat(33)}\r\n`, limits)).toEqual([["protocolError", controlLineExceeded]])
    }
  })

  it("fails as soon as a pending line passes the limit, before its end arrives", () => {
    const recorder = new Recorder()
    const parser = new Parser(recorder, { ...limits })
    parser.parse(bytes(`PUB ${"s".repeat(20)}`))
    expect(recorder.calls).toEqual([])
    parser.parse(bytes("s".repeat(13)))
    expect(recorder.calls).toEqual([["protocolError", controlLineExceeded]])
    parser.parse(bytes("s".repeat(100_000)))
    expect(recorder.calls).toHaveLength(1)
  })

  it("fails at the end of a single oversized chunk without a line end", () => {
    expect(parseText(`CONNECT {${"x".repeat(10_000)}`, limits)).toEqual([["protocolError", controlLineExceeded]])
  })
})

describe("Parser: chunk boundaries", () => {
  const input = bytes(session)

  it("gives the same calls when fed byte by byte", () => {
    expect(parseChunks(byteByByte(input))).toEqual(sessionCalls)
  })

  it("gives the same calls for every split into two chunks", () => {
    for (let point = 0; point <= input.length; point++) {
      expect(parseChunks(splitAt(input, [point])), `split at ${point}`).toEqual(sessionCalls)
    }
  })

  it("gives the same calls for random splits into many chunks", () => {
    const next = random(7)
    for (let round = 0; round < 300; round++) {
      const points = Array.from({ length: 1 + Math.floor(next() * 12) }, () => Math.floor(next() * input.length))
      expect(parseChunks(splitAt(input, points.sort((a, b) => a - b))), `points ${points}`).toEqual(sessionCalls)
    }
  })

  it("gives the same calls, error included, for every split of a failing input", () => {
    const failing = [
      "PING\r\nPUB a 2\r\nabX\r\nPING\r\n",
      "SUB a 1\r\nPUB a 2\nab\r\nMSG x\r\n",
      `PING\r\nPUB ${"s".repeat(40)} 1\r\nx\r\n`,
      "PONG\r\nHPUB a 3 2\r\nab\r\n",
      "PING\r\n-ERR 'x'\r\nPING\r\n"
    ]
    for (const text of failing) {
      const whole = bytes(text)
      const expected = parseChunks([whole], { maxControlLine: 32, maxPayload: 1024 })
      expect(expected.length).toBeGreaterThan(1)
      expect(parseChunks(byteByByte(whole), { maxControlLine: 32, maxPayload: 1024 })).toEqual(expected)
      for (let point = 0; point <= whole.length; point++) {
        expect(parseChunks(splitAt(whole, [point]), { maxControlLine: 32, maxPayload: 1024 })).toEqual(expected)
      }
    }
  })
})

describe("Parser: fuzz", () => {
  const subjects = ["a", "foo.bar", "_INBOX.x.1", "$JS.API.INFO", "x.*", "y.>", "\u00c3\u00bc.t"]
  const pick = <T>(next: () => number, items: readonly T[]): T => items[Math.floor(next() * items.length)]

  const randomFrame = (next: () => number): string => {
    const blank = () => pick(next, [" ", "  ", "\t", " \t"])
    const end = () => pick(next, ["\r\n", "\n"])
    const payload = "p".repeat(Math.floor(next() * 20)).replace(/p/g, () => pick(next, ["a", "\r", "\n", " ", "\u00ff"]))
    const reply = next() < 0.5 ? "" : `${blank()}_INBOX.r.${Math.floor(next() * 100)}`
    switch (Math.floor(next() * 9)) {
      case 0:
        return `PUB${blank()}${pick(next, subjects)}${reply}${blank()}${payload.length}${end()}${payload}\r\n`
      case 1: {
        const header = "NATS/1.0\r\nK: v\r\n\r\n".slice(0, Math.floor(next() * 19))
        return `HPUB${blank()}${pick(next, subjects)}${reply}${blank()}${header.length}${blank()}${header.length + payload.length}${end()}${header}${payload}\r\n`
      }
      case 2:
        return `SUB${blank()}${pick(next, subjects)}${next() < 0.5 ? `${blank()}q` : ""}${blank()}${Math.floor(next() * 9)}${end()}`
      case 3:
        return `UNSUB${blank()}${Math.floor(next() * 9)}${next() < 0.5 ? `${blank()}${Math.floor(next() * 5)}` : ""}${end()}`
      case 4:
        return `CONNECT${blank()}{"verbose":false}${end()}`
      case 5:
        return `INFO${blank()}{}${end()}`
      case 6:
        return `+OK${end()}`
      case 7:
        return `PONG${end()}`
      default:
        return `PING${end()}`
    }
  }

  const mutate = (input: Buffer, next: () => number): Buffer => {
    const bytesOut = [...input]
    const mutations = 1 + Math.floor(next() * 3)
    for (let count = 0; count < mutations && bytesOut.length > 0; count++) {
      const position = Math.floor(next() * bytesOut.length)
      const interesting = [0x0d, 0x0a, 0x20, 0x09, 0x30, 0x39, 0x2d, 0x50, 0x4d, 0x2e, 0x2a, 0x3e, 0x00, 0xff]
      switch (Math.floor(next() * 4)) {
        case 0:
          bytesOut[position] = pick(next, interesting)
          break
        case 1:
          bytesOut.splice(position, 1)
          break
        case 2:
          bytesOut.splice(position, 0, pick(next, interesting))
          break
        default:
          bytesOut[position] = Math.floor(next() * 256)
      }
    }
    return Buffer.from(bytesOut)
  }

  const isToken = (text: string): boolean => text.length > 0 && !/[ \t]/.test(text)
  const violations = [unknownOperation, controlLineExceeded, payloadExceeded, silent]

  /** Every call is well formed, and a protocolError or clientError, if any, comes once and last. */
  const expectWellFormed = (calls: readonly Call[], limits: Limits): void => {
    calls.forEach((call, index) => {
      const last = index === calls.length - 1
      switch (call[0]) {
        case "pub":
          expect(isToken(call[1])).toBe(true)
          if (call[2] !== undefined) expect(isToken(call[2])).toBe(true)
          expect(call[3].length).toBeLessThanOrEqual(limits.maxPayload)
          break
        case "hpub":
          expect(isToken(call[1])).toBe(true)
          if (call[2] !== undefined) expect(isToken(call[2])).toBe(true)
          expect(call[3]).toBeGreaterThanOrEqual(0)
          expect(call[3]).toBeLessThanOrEqual(call[4].length)
          expect(call[4].length).toBeLessThanOrEqual(limits.maxPayload)
          break
        case "sub":
          expect(isToken(call[1])).toBe(true)
          if (call[2] !== undefined) expect(isToken(call[2])).toBe(true)
          expect(isToken(call[3])).toBe(true)
          break
        case "unsub":
          expect(isToken(call[1])).toBe(true)
          if (call[2] !== undefined) expect(Number.isInteger(call[2]) && call[2] >= 0).toBe(true)
          break
        case "protocolError":
          expect(violations).toContainEqual(call[1])
          expect(last).toBe(true)
          break
        case "clientError":
          expect(last).toBe(true)
          break
        default:
          break
      }
    })
  }

  it("never throws, and random or mutated frames end in well-formed calls or one error, for any split", () => {
    const next = random(20240601)
    const limits = { maxControlLine: 30, maxPayload: 16 }
    let errors = 0
    const reached = new Set<string | undefined>()
    for (let iteration = 0; iteration < 1500; iteration++) {
      let input = bytes(Array.from({ length: 1 + Math.floor(next() * 6) }, () => randomFrame(next)).join(""))
      if (iteration % 3 !== 0) input = mutate(input, next)
      const whole = parseChunks([input], limits)
      expectWellFormed(whole, limits)
      const last = whole.at(-1)
      if (last?.[0] === "protocolError") {
        errors++
        reached.add(last[1].errorText)
      }
      const points = Array.from({ length: Math.floor(next() * 5) }, () => Math.floor(next() * (input.length + 1)))
      expect(parseChunks(splitAt(input, points.sort((a, b) => a - b)), limits)).toEqual(whole)
      if (iteration % 50 === 0) expect(parseChunks(byteByByte(input), limits)).toEqual(whole)
    }
    // The mutations must actually reach the error paths, and valid input must mostly get through.
    expect(errors).toBeGreaterThan(100)
    expect(errors).toBeLessThan(1400)
    expect(reached.size).toBe(violations.length)
  })

  it("parses unmutated random frames without any error", () => {
    const next = random(99)
    for (let iteration = 0; iteration < 300; iteration++) {
      const input = bytes(Array.from({ length: 1 + Math.floor(next() * 8) }, () => randomFrame(next)).join(""))
      const calls = parseChunks([input], { maxControlLine: 4096, maxPayload: 1024 })
      expect(calls.filter((call) => call[0] === "protocolError")).toEqual([])
    }
  })
})

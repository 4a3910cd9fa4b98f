import { describe, expect, it } from "vitest"
import { encodeError, encodeInfo, OK, OutboundBuffer, PING, PONG } from "./Encoder.ts"

interface Delivered {
  readonly operation: "MSG" | "HMSG"
  readonly subject: string
  readonly sid: string
  readonly reply: string | undefined
  readonly headerSize: number
  readonly message: string
}

/** A minimal MSG/HMSG reader (as a client would parse server output), kept apart from the code under test. */
const readDeliveries = (stream: Buffer): Delivered[] => {
  const delivered: Delivered[] = []
  let offset = 0
  while (offset < stream.length) {
    const lineEnd = stream.indexOf("\r\n", offset, "latin1")
    const [operation, ...args] = stream.toString("latin1", offset, lineEnd).split(" ")
    const headers = operation === "HMSG"
    if (!headers && operation !== "MSG") throw new Error(`unexpected ${operation}`)
    const total = Number(args.at(-1))
    const headerSize = headers ? Number(args.at(-2)) : 0
    const named = args.slice(0, headers ? -2 : -1)
    const messageStart = lineEnd + 2
    if (stream.toString("latin1", messageStart + total, messageStart + total + 2) !== "\r\n") throw new Error("bad framing")
    delivered.push({
      operation,
      subject: named[0],
      sid: named[1],
      reply: named[2],
      headerSize,
      message: stream.toString("latin1", messageStart, messageStart + total)
    })
    offset = messageStart + total + 2
  }
  return delivered
}

describe("protocol constants", () => {
  it("are the exact wire bytes", () => {
    expect(PING.toString()).toBe("PING\r\n")
    expect(PONG.toString()).toBe("PONG\r\n")
    expect(OK.toString()).toBe("+OK\r\n")
  })

  it("encode INFO with nats-server's space before CRLF", () => {
    expect(encodeInfo({ server_id: "N1", headers: true, max_payload: 1048576 }).toString()).toBe(
      'INFO {"server_id":"N1","headers":true,"max_payload":1048576} \r\n'
    )
  })

  it("encode -ERR with the text in single quotes, byte for byte", () => {
    expect(encodeError("Unknown Protocol Operation").toString()).toBe("-ERR 'Unknown Protocol Operation'\r\n")
    const subject = Buffer.from("\u00fc", "utf8").toString("latin1")
    expect(encodeError(`Permissions Violation for Publish to "${subject}"`)).toEqual(
      Buffer.from("-ERR 'Permissions Violation for Publish to \"\u00fc\"'\r\n", "utf8")
    )
  })
})

describe("OutboundBuffer", () => {
  it("writes MSG and HMSG lines that parse back to what was written", () => {
    const outbound = new OutboundBuffer()
    outbound.writeMsg("foo.bar", "1", undefined, Buffer.from("hello"))
    outbound.writeMsg("foo.bar", "22", "_INBOX.abc.1", Buffer.alloc(0))
    outbound.writeHmsg("kv.a", "3", undefined, 16, Buffer.from("NATS/1.0 503\r\n\r\n"))
    outbound.writeHmsg("kv.b", "4", "reply.to", 12, Buffer.from("NATS/1.0\r\n\r\nv1"))
    const expected = [
      "MSG foo.bar 1 5\r\nhello\r\n",
      "MSG foo.bar 22 _INBOX.abc.1 0\r\n\r\n",
      "HMSG kv.a 3 16 16\r\nNATS/1.0 503\r\n\r\n\r\n",
      "HMSG kv.b 4 reply.to 12 14\r\nNATS/1.0\r\n\r\nv1\r\n"
    ].join("")
    expect(outbound.length).toBe(expected.length)
    const written = outbound.take()
    expect(written.toString("latin1")).toBe(expected)
    expect(readDeliveries(written).map((delivered) => delivered.reply)).toEqual([undefined, "_INBOX.abc.1", undefined, "reply.to"])
  })

  // A small initial size exercises growth; a large one keeps writing into the tail after take().
  it.each([64, 1024 * 1024])("round-trips a long randomized sequence, across growth and takes (initial size %i)", (initialSize) => {
    let seed = 42
    const next = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed / 4294967296
    }
    const text = (length: number): string =>
      Array.from({ length }, () => String.fromCharCode(0x21 + Math.floor(next() * 0xde))).join("")
    const outbound = new OutboundBuffer(initialSize)
    const expected: Delivered[] = []
    const taken: Buffer[] = []
    const snapshots: string[] = []
    for (let index = 0; index < 2000; index++) {
      // Lengths cross the JS-loop / native thresholds for strings (24) and payloads (64).
      const subject = text(1 + Math.floor(next() * 40))
      const sid = String(Math.floor(next() * 100_000))
      const reply = next() < 0.5 ? undefined : text(1 + Math.floor(next() * 40))
      const message = Buffer.from(text(Math.floor(next() * 300)), "latin1")
      if (next() < 0.5) {
        outbound.writeMsg(subject, sid, reply, message)
        expected.push({ operation: "MSG", subject, sid, reply, headerSize: 0, message: message.toString("latin1") })
      } else {
        const headerSize = Math.floor(next() * (message.length + 1))
        outbound.writeHmsg(subject, sid, reply, headerSize, message)
        expected.push({ operation: "HMSG", subject, sid, reply, headerSize, message: message.toString("latin1") })
      }
      if (next() < 0.05) {
        const chunks = next() < 0.5 ? [outbound.take()] : outbound.takeChunks()
        taken.push(...chunks)
        snapshots.push(...chunks.map((chunk) => chunk.toString("latin1")))
        expect(outbound.length).toBe(0)
        expect(outbound.isChunked).toBe(false)
      }
    }
    taken.push(outbound.take())
    snapshots.push(taken.at(-1)!.toString("latin1"))
    // Later writes never touch memory that take() handed out.
    expect(taken.map((chunk) => chunk.toString("latin1"))).toEqual(snapshots)
    expect(readDeliveries(Buffer.concat(taken))).toEqual(expected)
  })

  it("keeps a growing backlog in chunks of at most 64 KiB without copying it", () => {
    const outbound = new OutboundBuffer(1024)
    const payload = Buffer.alloc(1000, 0x61)
    for (let index = 0; index < 1000; index++) outbound.writeMsg("s", "1", undefined, payload)
    expect(outbound.isChunked).toBe(true)
    const chunks = outbound.takeChunks()
    expect(Math.max(...chunks.map((chunk) => chunk.buffer.byteLength))).toBeLessThanOrEqual(64 * 1024)
    expect(readDeliveries(Buffer.concat(chunks)).length).toBe(1000)
    // A message larger than a chunk gets a chunk of its own.
    outbound.writeMsg("s", "1", undefined, Buffer.alloc(100_000))
    expect(readDeliveries(outbound.take()).map((delivered) => delivered.message.length)).toEqual([100_000])
  })

  it("writes a message from a range of a larger buffer as it would from a copy of the range", () => {
    const source = Buffer.from(`xxNATS/1.0\r\n\r\n${"p".repeat(100)}yy`, "latin1")
    const end = source.length - 2
    // Short (JS loop) and long (native) payloads, MSG and HMSG.
    for (const start of [2, end - 10]) {
      const fromRange = new OutboundBuffer(64)
      const fromCopy = new OutboundBuffer(64)
      fromRange.writeMsg("s", "1", "r", source, start, end)
      fromCopy.writeMsg("s", "1", "r", Buffer.from(source.subarray(start, end)))
      fromRange.writeHmsg("s", "1", undefined, 0, source, start, end)
      fromCopy.writeHmsg("s", "1", undefined, 0, Buffer.from(source.subarray(start, end)))
      expect(fromRange.take().toString("latin1")).toBe(fromCopy.take().toString("latin1"))
    }
  })

  it("writes UTF-8 subjects held as latin1 strings back as the original bytes", () => {
    const subject = Buffer.from("temp.\u00fcber", "utf8").toString("latin1")
    const outbound = new OutboundBuffer()
    outbound.writeMsg(subject, "1", undefined, Buffer.from("x"))
    expect(outbound.take()).toEqual(Buffer.concat([Buffer.from("MSG temp.\u00fcber 1 1\r\nx\r\n", "utf8")]))
  })

  it("appends raw bytes and latin1 text", () => {
    const outbound = new OutboundBuffer(64)
    outbound.writeBytes(PONG)
    outbound.writeLatin1("-ERR 'x'\r\n")
    outbound.writeBytes(Buffer.alloc(200, 0x61))
    expect(outbound.length).toBe(6 + 10 + 200)
    expect(outbound.take().toString("latin1")).toBe(`PONG\r\n-ERR 'x'\r\n${"a".repeat(200)}`)
    expect(outbound.take().length).toBe(0)
  })

  it("writes payload sizes with every digit count", () => {
    const outbound = new OutboundBuffer(64)
    const sizes = [0, 1, 9, 10, 99, 100, 12345, 100000]
    for (const size of sizes) outbound.writeMsg("s", "1", undefined, Buffer.alloc(size, 0x7a))
    expect(readDeliveries(outbound.take()).map((delivered) => delivered.message.length)).toEqual(sizes)
  })
})

describe("OutboundBuffer with recycling", () => {
  it("never reuses a chunk while any range of it is pending or being written, and does reuse written ones", () => {
    let seed = 7
    const next = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed / 4294967296
    }
    // Connections share the pool, so a chunk one of them frees too early would be overwritten by another.
    const connections = Array.from({ length: 3 }, () => ({
      outbound: new OutboundBuffer(1024, { recycle: true }),
      written: [] as Buffer[],
      inFlight: [] as Array<{ readonly buffer: Buffer; readonly snapshot: string }>,
      expected: [] as number[]
    }))
    const chunksSeen = new Set<ArrayBufferLike>()
    let reused = 0
    const complete = (connection: (typeof connections)[number]): void => {
      const oldest = connection.inFlight.shift()
      if (oldest === undefined) return
      expect(oldest.buffer.toString("latin1")).toBe(oldest.snapshot)
      connection.written.push(Buffer.from(oldest.buffer))
      connection.outbound.written()
    }
    for (let step = 0; step < 20_000; step++) {
      const connection = connections[Math.floor(next() * connections.length)]
      const roll = next()
      if (roll < 0.7) {
        const size = next() < 0.01 ? 70_000 + Math.floor(next() * 100_000) : Math.floor(next() * 3000)
        connection.outbound.writeMsg("s", String(step), undefined, Buffer.alloc(size, 0x61 + (step % 26)))
        connection.expected.push(size)
      } else if (roll < 0.85) {
        if (connection.outbound.length === 0) continue
        const buffers = next() < 0.5 ? [connection.outbound.take()] : connection.outbound.takeChunks()
        for (const buffer of buffers) {
          if (buffer.buffer.byteLength >= 64 * 1024) {
            if (chunksSeen.has(buffer.buffer) && buffer.byteOffset === 0) reused++
            chunksSeen.add(buffer.buffer)
          }
          connection.inFlight.push({ buffer, snapshot: buffer.toString("latin1") })
        }
      } else {
        complete(connection)
      }
    }
    for (const connection of connections) {
      if (connection.outbound.length > 0) {
        for (const buffer of connection.outbound.takeChunks()) connection.inFlight.push({ buffer, snapshot: buffer.toString("latin1") })
      }
      while (connection.inFlight.length > 0) complete(connection)
      const sizes = readDeliveries(Buffer.concat(connection.written)).map((delivered) => delivered.message.length)
      expect(sizes).toEqual(connection.expected)
    }
    expect(reused).toBeGreaterThan(0)
  })
})

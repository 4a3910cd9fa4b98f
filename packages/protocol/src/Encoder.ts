import { writeLatin1 } from "./latin1.ts"

export const PING: Buffer = Buffer.from("PING\r\n", "latin1")
export const PONG: Buffer = Buffer.from("PONG\r\n", "latin1")
export const OK: Buffer = Buffer.from("+OK\r\n", "latin1")

/** `INFO {json} \r\n`, with the space before CRLF that nats-server writes. */
export const encodeInfo = (info: object): Buffer => Buffer.from(`INFO ${JSON.stringify(info)} \r\n`, "utf8")

/** `-ERR '<text>'\r\n`; the text is latin1 so a quoted subject goes back out byte for byte. */
export const encodeError = (text: string): Buffer => Buffer.from(`-ERR '${text}'\r\n`, "latin1")

const SPACE = 32
const CARRIAGE_RETURN = 13
const LINE_FEED = 10
const ZERO = 48

/** Payloads up to this size are copied by a JS loop: cheaper than TypedArray.prototype.set. */
const shortPayload = 64

const decimalLength = (value: number): number => {
  let length = 1
  while (value >= 10) {
    value = Math.floor(value / 10)
    length++
  }
  return length
}

/** Writes a non-negative integer of `length` digits ending before `end`. */
const writeDecimal = (bytes: Uint8Array, end: number, value: number): void => {
  let position = end
  do {
    const quotient = Math.floor(value / 10)
    bytes[--position] = ZERO + value - quotient * 10
    value = quotient
  } while (value > 0)
}

const copyBytes = (target: Uint8Array, offset: number, source: Uint8Array): number => {
  const length = source.length
  if (length <= shortPayload) {
    for (let index = 0; index < length; index++) target[offset + index] = source[index]
  } else {
    target.set(source, offset)
  }
  return offset + length
}

const emptyBuffer = Buffer.alloc(0)

/**
 * One connection's pending output. Bytes are appended at the end of a backing buffer; take()
 * hands the pending range to the caller and later writes continue after it, so memory already
 * handed out is never written again. A full backing buffer is replaced by one at least twice
 * the pending size.
 */
export class OutboundBuffer {
  private readonly initialSize: number
  private buffer: Buffer = emptyBuffer
  private start = 0
  private end = 0

  constructor(initialSize = 32 * 1024) {
    this.initialSize = Math.max(64, initialSize)
  }

  /** Bytes written and not yet taken. */
  get length(): number {
    return this.end - this.start
  }

  writeBytes(bytes: Uint8Array): void {
    this.reserve(bytes.length)
    this.end = copyBytes(this.buffer, this.end, bytes)
  }

  writeLatin1(text: string): void {
    this.reserve(text.length)
    this.end = writeLatin1(this.buffer, this.end, text)
  }

  /** `MSG <subject> <sid> [reply] <size>\r\n<payload>\r\n` */
  writeMsg(subject: string, sid: string, reply: string | undefined, payload: Uint8Array): void {
    const payloadLength = payload.length
    const sizeLength = decimalLength(payloadLength)
    const replyLength = reply === undefined ? 0 : reply.length + 1
    this.reserve(4 + subject.length + 1 + sid.length + 1 + replyLength + sizeLength + 2 + payloadLength + 2)
    const bytes = this.buffer
    let position = this.end
    bytes[position] = 77 // M
    bytes[position + 1] = 83 // S
    bytes[position + 2] = 71 // G
    bytes[position + 3] = SPACE
    position = writeLatin1(bytes, position + 4, subject)
    bytes[position++] = SPACE
    position = writeLatin1(bytes, position, sid)
    bytes[position++] = SPACE
    if (reply !== undefined) {
      position = writeLatin1(bytes, position, reply)
      bytes[position++] = SPACE
    }
    position += sizeLength
    writeDecimal(bytes, position, payloadLength)
    bytes[position] = CARRIAGE_RETURN
    bytes[position + 1] = LINE_FEED
    position = copyBytes(bytes, position + 2, payload)
    bytes[position] = CARRIAGE_RETURN
    bytes[position + 1] = LINE_FEED
    this.end = position + 2
  }

  /** `HMSG <subject> <sid> [reply] <headerSize> <totalSize>\r\n<message>\r\n`, message = header block + payload. */
  writeHmsg(subject: string, sid: string, reply: string | undefined, headerSize: number, message: Uint8Array): void {
    const totalLength = message.length
    const headerLength = decimalLength(headerSize)
    const totalSizeLength = decimalLength(totalLength)
    const replyLength = reply === undefined ? 0 : reply.length + 1
    this.reserve(5 + subject.length + 1 + sid.length + 1 + replyLength + headerLength + 1 + totalSizeLength + 2 + totalLength + 2)
    const bytes = this.buffer
    let position = this.end
    bytes[position] = 72 // H
    bytes[position + 1] = 77 // M
    bytes[position + 2] = 83 // S
    bytes[position + 3] = 71 // G
    bytes[position + 4] = SPACE
    position = writeLatin1(bytes, position + 5, subject)
    bytes[position++] = SPACE
    position = writeLatin1(bytes, position, sid)
    bytes[position++] = SPACE
    if (reply !== undefined) {
      position = writeLatin1(bytes, position, reply)
      bytes[position++] = SPACE
    }
    position += headerLength
    writeDecimal(bytes, position, headerSize)
    bytes[position++] = SPACE
    position += totalSizeLength
    writeDecimal(bytes, position, totalLength)
    bytes[position] = CARRIAGE_RETURN
    bytes[position + 1] = LINE_FEED
    position = copyBytes(bytes, position + 2, message)
    bytes[position] = CARRIAGE_RETURN
    bytes[position + 1] = LINE_FEED
    this.end = position + 2
  }

  /** Hands over the pending bytes (the caller owns them from now on) and leaves this buffer empty. */
  take(): Buffer {
    const pending = this.buffer.subarray(this.start, this.end)
    this.start = this.end
    // Let an oversized backing buffer go once it is drained, so a burst does not pin memory.
    if (this.buffer.length > 4 * this.initialSize) {
      this.buffer = emptyBuffer
      this.start = 0
      this.end = 0
    }
    return pending
  }

  private reserve(needed: number): void {
    if (this.end + needed <= this.buffer.length) return
    const pending = this.end - this.start
    const next = Buffer.allocUnsafe(Math.max(this.initialSize, 2 * (pending + needed)))
    this.buffer.copy(next, 0, this.start, this.end)
    this.buffer = next
    this.start = 0
    this.end = pending
  }
}

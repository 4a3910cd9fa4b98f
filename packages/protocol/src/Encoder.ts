import { BufferPool } from "./BufferPool.ts"
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

/** Copies `[start, end)` of `source` to `offset`; only a long range, whose copy dwarfs it, costs a view. */
const copyRange = (target: Uint8Array, offset: number, source: Uint8Array, start: number, end: number): number => {
  const length = end - start
  if (length <= shortPayload) {
    for (let index = 0; index < length; index++) target[offset + index] = source[start + index]
  } else {
    target.set(start === 0 && end === source.length ? source : source.subarray(start, end), offset)
  }
  return offset + length
}

/** Bytes of `<subject> <sid> [reply] `, the part MSG and HMSG share. */
const routingLength = (subject: string, sid: string, reply: string | undefined): number =>
  subject.length + 1 + sid.length + 1 + (reply === undefined ? 0 : reply.length + 1)

const writeRouting = (bytes: Uint8Array, offset: number, subject: string, sid: string, reply: string | undefined): number => {
  let position = writeLatin1(bytes, offset, subject)
  bytes[position++] = SPACE
  position = writeLatin1(bytes, position, sid)
  bytes[position++] = SPACE
  if (reply !== undefined) {
    position = writeLatin1(bytes, position, reply)
    bytes[position++] = SPACE
  }
  return position
}

/** `\r\n<message>\r\n` after the size that ends at `position`; returns the offset after it. */
const writeBody = (bytes: Uint8Array, position: number, message: Uint8Array, start: number, end: number): number => {
  bytes[position] = CARRIAGE_RETURN
  bytes[position + 1] = LINE_FEED
  position = copyRange(bytes, position + 2, message, start, end)
  bytes[position] = CARRIAGE_RETURN
  bytes[position + 1] = LINE_FEED
  return position + 2
}

const emptyBuffer = Buffer.alloc(0)

/** Chunks grow to this size: one socket write per turn for a busy connection, and a backlog frees piecemeal. */
const maxChunkSize = 64 * 1024

const nextPowerOfTwo = (value: number): number => (value <= 1 ? 1 : 2 ** Math.ceil(Math.log2(value)))

/** Full-size chunks that connections have finished writing, shared by every OutboundBuffer that recycles. */
const chunkPool = new BufferPool({ capacity: 16, minimumSize: maxChunkSize, maximumSize: 4 * maxChunkSize })

/** Stands in the written-order list for output that was copied into a buffer of its own. */
const noChunk = new ArrayBuffer(0)

/**
 * One connection's pending output, kept as a list of chunks. Bytes are appended to the current
 * chunk; a full chunk is queued as it is and a new one started, so pending bytes are never copied
 * again however long the backlog grows. take() and takeChunks() hand the pending ranges over and
 * later writes continue after them, so memory already handed out is never written again.
 *
 * With `recycle`, the owner promises to call written() once for every buffer take() or takeChunks()
 * handed out, in the same order, once nothing reads it any more (a socket write's callback); chunks
 * of 64 KiB and more then go back to a shared pool instead of to the collector.
 */
export class OutboundBuffer {
  private readonly initialSize: number
  /** With recycling: the chunk behind every buffer handed out and not yet written, oldest first. */
  private readonly handedOut: ArrayBufferLike[] | undefined
  /** Full chunks waiting to be taken, oldest first. */
  private queued: Buffer[] = []
  private queuedBytes = 0
  private buffer: Buffer = emptyBuffer
  private start = 0
  private end = 0
  /** Bytes handed over by the last take: a fresh chunk starts at that size, so a steady stream needs one chunk per turn. */
  private recentOutput = 0

  constructor(initialSize = 32 * 1024, options: { readonly recycle?: boolean } = {}) {
    this.initialSize = Math.max(64, initialSize)
    this.handedOut = options.recycle === true ? [] : undefined
  }

  /** The oldest buffer handed out and not yet written is written: its chunk may be reused once no other part of it is pending. */
  written(): void {
    const handedOut = this.handedOut
    if (handedOut === undefined || handedOut.length === 0) return
    this.recycleIfIdle(handedOut.shift() as ArrayBufferLike)
  }

  /**
   * Gives `chunk` to the pool unless it is still written into, queued or being written. The ranges
   * of one chunk are handed out one after another, so a pending one sits at either end of handedOut.
   */
  private recycleIfIdle(chunk: ArrayBufferLike): void {
    const handedOut = this.handedOut
    if (handedOut === undefined || chunk === this.buffer.buffer) return
    if (this.queued.length > 0 && this.queued[0].buffer === chunk) return
    if (handedOut.length > 0 && (handedOut[0] === chunk || handedOut[handedOut.length - 1] === chunk)) return
    chunkPool.give(chunk)
  }

  private handOut(chunk: ArrayBufferLike): void {
    this.handedOut?.push(chunk)
  }

  /** Bytes written and not yet taken. */
  get length(): number {
    return this.queuedBytes + this.end - this.start
  }

  /** True when the pending bytes are more than one contiguous range (take() would have to copy them). */
  get isChunked(): boolean {
    return this.queued.length > 0
  }

  writeBytes(bytes: Uint8Array): void {
    this.reserve(bytes.length)
    this.end = copyRange(this.buffer, this.end, bytes, 0, bytes.length)
  }

  writeLatin1(text: string): void {
    this.reserve(text.length)
    this.end = writeLatin1(this.buffer, this.end, text)
  }

  /** `MSG <subject> <sid> [reply] <size>\r\n<payload>\r\n`, the payload being `[start, end)` of `bytes`. */
  writeMsg(subject: string, sid: string, reply: string | undefined, bytes: Uint8Array, start = 0, end = bytes.length): void {
    const payloadLength = end - start
    const sizeLength = decimalLength(payloadLength)
    this.reserve(4 + routingLength(subject, sid, reply) + sizeLength + 2 + payloadLength + 2)
    const buffer = this.buffer
    let position = this.end
    buffer[position] = 77 // M
    buffer[position + 1] = 83 // S
    buffer[position + 2] = 71 // G
    buffer[position + 3] = SPACE
    position = writeRouting(buffer, position + 4, subject, sid, reply) + sizeLength
    writeDecimal(buffer, position, payloadLength)
    this.end = writeBody(buffer, position, bytes, start, end)
  }

  /** `HMSG <subject> <sid> [reply] <headerSize> <totalSize>\r\n<message>\r\n`, message = header block + payload = `[start, end)` of `bytes`. */
  writeHmsg(subject: string, sid: string, reply: string | undefined, headerSize: number, bytes: Uint8Array, start = 0, end = bytes.length): void {
    const totalLength = end - start
    const headerSizeLength = decimalLength(headerSize)
    const totalSizeLength = decimalLength(totalLength)
    this.reserve(5 + routingLength(subject, sid, reply) + headerSizeLength + 1 + totalSizeLength + 2 + totalLength + 2)
    const buffer = this.buffer
    let position = this.end
    buffer[position] = 72 // H
    buffer[position + 1] = 77 // M
    buffer[position + 2] = 83 // S
    buffer[position + 3] = 71 // G
    buffer[position + 4] = SPACE
    position = writeRouting(buffer, position + 5, subject, sid, reply) + headerSizeLength
    writeDecimal(buffer, position, headerSize)
    buffer[position++] = SPACE
    position += totalSizeLength
    writeDecimal(buffer, position, totalLength)
    this.end = writeBody(buffer, position, bytes, start, end)
  }

  /** Hands over the pending bytes as one buffer (the caller owns them) and leaves this buffer empty. Copies only when isChunked. */
  take(): Buffer {
    if (this.queued.length === 0) return this.takeCurrent()
    const handedOut = this.handedOut
    const before = handedOut?.length ?? 0
    const joined = Buffer.concat(this.takeChunks(), this.recentOutput)
    if (handedOut !== undefined) {
      // The chunks were copied, so they are free now; the copy is written in their place.
      const copied = handedOut.splice(before)
      for (let index = 0; index < copied.length; index++) {
        if (index + 1 === copied.length || copied[index + 1] !== copied[index]) this.recycleIfIdle(copied[index])
      }
      handedOut.push(noChunk)
    }
    return joined
  }

  /** Hands over the pending bytes as the chunks they were written in, oldest first, and leaves this buffer empty. */
  takeChunks(): Buffer[] {
    const chunks = this.queued
    let total = this.queuedBytes
    this.queued = []
    this.queuedBytes = 0
    for (let index = 0; index < chunks.length; index++) this.handOut(chunks[index].buffer)
    if (this.end > this.start) {
      const current = this.takeCurrent()
      chunks.push(current)
      total += current.length
    }
    this.recentOutput = total
    return chunks
  }

  private takeCurrent(): Buffer {
    const pending = this.buffer.subarray(this.start, this.end)
    this.handOut(this.buffer.buffer)
    this.start = this.end
    this.recentOutput = pending.length
    // Keep the chunk while its tail can take another turn like this one, else start afresh next time:
    // between turns a connection holds at most one partly used chunk (64 KiB at most).
    if (this.buffer.length - this.end < pending.length) this.dropCurrent()
    return pending
  }

  private dropCurrent(): void {
    this.buffer = emptyBuffer
    this.start = 0
    this.end = 0
  }

  private reserve(needed: number): void {
    if (this.end + needed <= this.buffer.length) return
    const previous = this.buffer
    const previousPending = this.end > this.start
    if (previousPending) {
      this.queued.push(previous.subarray(this.start, this.end))
      this.queuedBytes += this.end - this.start
    }
    const grown = Math.max(this.initialSize, nextPowerOfTwo(this.recentOutput), 2 * previous.length)
    const size = Math.max(needed, Math.min(maxChunkSize, grown))
    this.buffer = this.handedOut === undefined || size < maxChunkSize ? Buffer.allocUnsafe(size) : chunkPool.take(size)
    if (!previousPending) this.recycleIfIdle(previous.buffer)
    this.start = 0
    this.end = 0
  }
}

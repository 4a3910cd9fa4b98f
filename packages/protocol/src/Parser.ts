import { BufferPool } from "./BufferPool.ts"
import { Latin1Interner, readLatin1 } from "./latin1.ts"

/** What the parser reports, one call per complete client operation. */
export interface ParserHandler {
  /** Raw JSON text after `CONNECT ` (decoded as UTF-8, as JSON is). */
  connect(json: string): void
  /** The payload is `[start, end)` of `buffer`, lent only for the call (no copy, no view allocated): the memory is reused afterwards. */
  pub(subject: string, reply: string | undefined, buffer: Buffer, start: number, end: number): void
  /** `[start, end)` of `buffer` is the header block followed by the payload (total bytes), lent only for the call. */
  hpub(subject: string, reply: string | undefined, headerSize: number, buffer: Buffer, start: number, end: number): void
  sub(subject: string, queue: string | undefined, sid: string): void
  /** `max` is undefined when absent or not a number (nats-server then unsubscribes at once). */
  unsub(sid: string, max: number | undefined): void
  ping(): void
  pong(): void
  /** The client sent `-ERR`; the server closes, and the parser ignores further input. */
  clientError(text: string): void
  /** The parser stopped; the broker writes `-ERR '<errorText>'` (if any) and closes. */
  protocolError(violation: ProtocolViolation): void
}

export interface ProtocolViolation {
  readonly errorText: string | undefined
  readonly reason: "Parse Error" | "Maximum Control Line Exceeded" | "Maximum Message Payload Exceeded" | "Protocol Violation"
}

const unknownOperation: ProtocolViolation = Object.freeze({ errorText: "Unknown Protocol Operation", reason: "Parse Error" })
const controlLineExceeded: ProtocolViolation = Object.freeze({
  errorText: "maximum control line exceeded",
  reason: "Maximum Control Line Exceeded"
})
const payloadExceeded: ProtocolViolation = Object.freeze({
  errorText: "Maximum Payload Violation",
  reason: "Maximum Message Payload Exceeded"
})
/** Bad arguments: nats-server closes without writing anything. */
const silentViolation: ProtocolViolation = Object.freeze({ errorText: undefined, reason: "Protocol Violation" })

// Parser states, named after nats-server's parser.go. `OP_*` states read the operation name,
// `*_SPACE` skip the blanks before the arguments, `*_ARG` collect the control line, and
// `MSG_*` read a PUB/HPUB payload and its CRLF.
const OP_START = 0
const OP_PLUS = 1
const OP_PLUS_O = 2
const OP_PLUS_OK = 3
const OP_MINUS = 4
const OP_MINUS_E = 5
const OP_MINUS_ER = 6
const OP_MINUS_ERR = 7
const OP_MINUS_ERR_SPACE = 8
const MINUS_ERR_ARG = 9
const OP_C = 10
const OP_CO = 11
const OP_CON = 12
const OP_CONN = 13
const OP_CONNE = 14
const OP_CONNEC = 15
const OP_CONNECT = 16
const CONNECT_ARG = 17
const OP_H = 18
const OP_HP = 19
const OP_HPU = 20
const OP_HPUB = 21
const OP_HPUB_SPACE = 22
const HPUB_ARG = 23
const OP_P = 24
const OP_PU = 25
const OP_PUB = 26
const OP_PUB_SPACE = 27
const PUB_ARG = 28
const OP_PI = 29
const OP_PIN = 30
const OP_PING = 31
const OP_PO = 32
const OP_PON = 33
const OP_PONG = 34
const MSG_PAYLOAD = 35
const MSG_END_R = 36
const MSG_END_N = 37
const OP_S = 38
const OP_SU = 39
const OP_SUB = 40
const OP_SUB_SPACE = 41
const SUB_ARG = 42
const OP_U = 43
const OP_UN = 44
const OP_UNS = 45
const OP_UNSU = 46
const OP_UNSUB = 47
const OP_UNSUB_SPACE = 48
const UNSUB_ARG = 49
const OP_I = 50
const OP_IN = 51
const OP_INF = 52
const OP_INFO = 53
const INFO_ARG = 54
const STOPPED = 55
const STATE_COUNT = 56

const TAB = 9
const LINE_FEED = 10
const CARRIAGE_RETURN = 13
const SPACE = 32
const LOWER_CASE = 0x20

const isBlank = (byte: number): boolean => byte === SPACE || byte === TAB

/** For states that accept exactly one letter of an operation name: the letter (lower case) and the next state. */
const expectedLetter = new Uint8Array(STATE_COUNT)
const afterLetter = new Uint8Array(STATE_COUNT)
const keyword = (states: readonly number[], letters: string): void => {
  for (let index = 0; index < letters.length; index++) {
    expectedLetter[states[index]] = letters.charCodeAt(index)
    afterLetter[states[index]] = states[index + 1]
  }
}
keyword([OP_PLUS, OP_PLUS_O, OP_PLUS_OK], "ok")
keyword([OP_MINUS, OP_MINUS_E, OP_MINUS_ER, OP_MINUS_ERR], "err")
keyword([OP_C, OP_CO, OP_CON, OP_CONN, OP_CONNE, OP_CONNEC, OP_CONNECT], "onnect")
keyword([OP_H, OP_HP, OP_HPU, OP_HPUB], "pub")
keyword([OP_PU, OP_PUB], "b")
keyword([OP_PI, OP_PIN, OP_PING], "ng")
keyword([OP_PO, OP_PON, OP_PONG], "ng")
keyword([OP_S, OP_SU, OP_SUB], "ub")
keyword([OP_U, OP_UN, OP_UNS, OP_UNSU, OP_UNSUB], "nsub")
keyword([OP_I, OP_IN, OP_INF, OP_INFO], "nfo")

/** Decimal size as nats-server reads it: 1 to 9 digits, else -1. */
const parseSize = (bytes: Uint8Array, start: number, end: number): number => {
  const length = end - start
  if (length === 0 || length > 9) return -1
  let value = 0
  for (let index = start; index < end; index++) {
    const digit = bytes[index] - 48
    if (digit < 0 || digit > 9) return -1
    value = value * 10 + digit
  }
  return value
}

const emptyPayload = Buffer.alloc(0)

/**
 * Buffers that payloads spanning two reads are assembled in, shared by every parser: a payload is
 * lent to the handler only for the call, so its buffer is reused by the next one (a stream of
 * 128 KiB publishes would otherwise allocate 128 KiB per message).
 */
const assemblyBuffers = new BufferPool({ capacity: 8, minimumSize: 16 * 1024, maximumSize: 1024 * 1024 })

/**
 * Shared by all parsers (JavaScript runs them one at a time): a subject published again, from any
 * connection, comes back as the same string, so routing's map lookups reuse its computed hash.
 */
const publishedSubjects = new Latin1Interner(4096)
const MAX_ARGUMENTS = 4

/**
 * The client protocol as a byte state machine. Any split of the input into chunks yields the
 * same handler calls. Control lines and payloads are read in place; only one that spans two
 * chunks is copied (a control line into a buffer bounded by maxControlLine).
 */
export class Parser {
  /** Largest PUB/HPUB size accepted; may be changed between parse calls. */
  maxPayload: number
  private readonly maxControlLine: number
  private readonly handler: ParserHandler
  private state = OP_START

  /** A control line carried over from the previous chunk. */
  private line: Buffer = emptyPayload
  private lineLength = 0
  private holdingLine = false

  private readonly tokenStarts = new Int32Array(MAX_ARGUMENTS)
  private readonly tokenEnds = new Int32Array(MAX_ARGUMENTS)

  /** The PUB/HPUB whose payload is being collected across chunks. */
  private subject = ""
  private reply: string | undefined = undefined
  private headerSize = -1
  /** Where the held payload is assembled: a pooled buffer, possibly longer than payloadSize. */
  private payload: Buffer = emptyPayload
  private payloadSize = 0
  private payloadLength = 0

  constructor(handler: ParserHandler, options: { maxControlLine: number; maxPayload: number }) {
    this.handler = handler
    this.maxControlLine = options.maxControlLine
    this.maxPayload = options.maxPayload
  }

  /** Stops parsing: this and later parse calls ignore input (for a connection the broker closes). */
  stop(): void {
    this.state = STOPPED
    this.release()
  }

  parse(chunk: Buffer): void {
    const length = chunk.length
    let index = 0
    while (index < length) {
      const state = this.state
      switch (state) {
        case OP_START: {
          const byte = chunk[index]
          // Shortcut for the hot operation: a whole `PUB ` lands directly in the blanks state.
          if ((byte | LOWER_CASE) === 0x70 && index + 3 < length && (chunk[index + 1] | LOWER_CASE) === 0x75 &&
            (chunk[index + 2] | LOWER_CASE) === 0x62 && isBlank(chunk[index + 3])) {
            this.state = OP_PUB_SPACE
            index += 4
            break
          }
          switch (byte | LOWER_CASE) {
            case 0x70: // p
              this.state = OP_P
              break
            case 0x68: // h
              this.state = OP_H
              break
            case 0x73: // s
              this.state = OP_S
              break
            case 0x75: // u
              this.state = OP_U
              break
            case 0x63: // c
              this.state = OP_C
              break
            case 0x69: // i
              this.state = OP_I
              break
            default:
              if (byte === 0x2b) this.state = OP_PLUS // +
              else if (byte === 0x2d) this.state = OP_MINUS // -
              else return void this.fail(unknownOperation)
          }
          index++
          break
        }
        case OP_P: {
          const letter = chunk[index] | LOWER_CASE
          if (letter === 0x75) this.state = OP_PU // u
          else if (letter === 0x69) this.state = OP_PI // i
          else if (letter === 0x6f) this.state = OP_PO // o
          else return void this.fail(unknownOperation)
          index++
          break
        }
        case OP_PUB:
        case OP_HPUB:
        case OP_SUB:
        case OP_UNSUB:
        case OP_MINUS_ERR:
          // These operation names must be followed by a blank. Each `*_SPACE` state directly
          // follows its operation state, and each `*_ARG` state its blanks state.
          if (!isBlank(chunk[index])) return void this.fail(unknownOperation)
          this.state = state + 1
          index++
          break
        case OP_PUB_SPACE:
        case OP_HPUB_SPACE:
        case OP_SUB_SPACE:
        case OP_UNSUB_SPACE:
        case OP_MINUS_ERR_SPACE:
        case OP_CONNECT:
        case OP_INFO:
          while (index < length && isBlank(chunk[index])) index++
          if (index < length) this.state = state + 1
          break
        case PUB_ARG:
        case HPUB_ARG:
        case SUB_ARG:
        case UNSUB_ARG:
        case MINUS_ERR_ARG:
        case CONNECT_ARG:
        case INFO_ARG:
          index = this.readControlLine(chunk, index)
          break
        case MSG_PAYLOAD: {
          const count = Math.min(this.payloadSize - this.payloadLength, length - index)
          chunk.copy(this.payload, this.payloadLength, index, index + count)
          this.payloadLength += count
          index += count
          if (this.payloadLength === this.payloadSize) this.state = MSG_END_R
          break
        }
        case MSG_END_R:
          if (chunk[index] !== CARRIAGE_RETURN) return void this.fail(unknownOperation)
          this.state = MSG_END_N
          index++
          break
        case MSG_END_N:
          if (chunk[index] !== LINE_FEED) return void this.fail(unknownOperation)
          index++
          this.deliverHeldMessage()
          break
        case OP_PING:
        case OP_PONG:
        case OP_PLUS_OK:
          // Like nats-server, anything up to the line feed is ignored.
          while (index < length && chunk[index] !== LINE_FEED) index++
          if (index < length) {
            index++
            this.state = OP_START
            if (state === OP_PING) this.handler.ping()
            else if (state === OP_PONG) this.handler.pong()
          }
          break
        case STOPPED:
          return
        default:
          if ((chunk[index] | LOWER_CASE) !== expectedLetter[state]) return void this.fail(unknownOperation)
          this.state = afterLetter[state]
          index++
      }
    }
  }

  /** Reads the rest of a control line starting at `index`; returns where parsing continues. */
  private readControlLine(chunk: Buffer, index: number): number {
    const length = chunk.length
    let lineFeed = index
    while (lineFeed < length && chunk[lineFeed] !== LINE_FEED) lineFeed++
    if (lineFeed === length) {
      this.holdLine(chunk, index, length)
      return length
    }
    let source = chunk
    let start = index
    let end = lineFeed
    if (this.holdingLine) {
      if (!this.holdLine(chunk, index, lineFeed)) return length
      source = this.line
      start = 0
      end = this.lineLength
      this.holdingLine = false
      this.lineLength = 0
    }
    if (end > start && source[end - 1] === CARRIAGE_RETURN) end--
    if (end - start > this.maxControlLine) return this.fail(controlLineExceeded)
    const next = lineFeed + 1
    switch (this.state) {
      case PUB_ARG:
        return this.publish(source, start, end, chunk, next, false)
      case HPUB_ARG:
        return this.publish(source, start, end, chunk, next, true)
      case SUB_ARG:
        return this.subscribe(source, start, end, next)
      case UNSUB_ARG:
        return this.unsubscribe(source, start, end, next)
      case CONNECT_ARG:
        this.state = OP_START
        this.handler.connect(source.toString("utf8", start, end))
        return next
      case INFO_ARG:
        // A client's INFO is ignored, but like nats-server it must parse as a JSON object.
        if (!isJsonObject(source.toString("utf8", start, end))) return this.fail(silentViolation)
        this.state = OP_START
        return next
      default:
        this.state = STOPPED
        this.release()
        this.handler.clientError(source.toString("utf8", start, end))
        return length
    }
  }

  /**
   * Appends `[start, end)` of the chunk to the held control line. A trailing CR is not counted
   * against the limit yet, as it may turn out to end the line. Returns false after a violation.
   */
  private holdLine(chunk: Buffer, start: number, end: number): boolean {
    const added = end - start
    const total = this.lineLength + added
    const last = added > 0 ? chunk[end - 1] : this.line[this.lineLength - 1]
    if ((last === CARRIAGE_RETURN ? total - 1 : total) > this.maxControlLine) {
      this.fail(controlLineExceeded)
      return false
    }
    if (total > this.line.length) {
      const grown = Buffer.allocUnsafe(Math.min(Math.max(256, 2 * total), this.maxControlLine + 1))
      this.line.copy(grown, 0, 0, this.lineLength)
      this.line = grown
    }
    chunk.copy(this.line, this.lineLength, start, end)
    this.lineLength = total
    this.holdingLine = true
    return true
  }

  /** PUB `subject [reply] size` or HPUB `subject [reply] headerSize totalSize`, then its payload. */
  private publish(source: Buffer, start: number, end: number, chunk: Buffer, payloadStart: number, withHeaders: boolean): number {
    const count = this.splitArguments(source, start, end)
    const minimum = withHeaders ? 3 : 2
    if (count !== minimum && count !== minimum + 1) return this.fail(silentViolation)
    const starts = this.tokenStarts
    const ends = this.tokenEnds
    const size = parseSize(source, starts[count - 1], ends[count - 1])
    let headerSize = -1
    if (withHeaders) {
      headerSize = parseSize(source, starts[count - 2], ends[count - 2])
      if (headerSize < 0) return this.fail(silentViolation)
    }
    if (size < 0 || headerSize > size) return this.fail(silentViolation)
    if (size > this.maxPayload) return this.fail(payloadExceeded)
    const subject = publishedSubjects.read(source, starts[0], ends[0])
    const reply = count === minimum ? undefined : readLatin1(source, starts[1], ends[1])
    const payloadEnd = payloadStart + size
    if (payloadEnd + 2 <= chunk.length) {
      if (chunk[payloadEnd] !== CARRIAGE_RETURN || chunk[payloadEnd + 1] !== LINE_FEED) return this.fail(unknownOperation)
      this.state = OP_START
      if (withHeaders) this.handler.hpub(subject, reply, headerSize, chunk, payloadStart, payloadEnd)
      else this.handler.pub(subject, reply, chunk, payloadStart, payloadEnd)
      return payloadEnd + 2
    }
    // The message continues in a later chunk: collect it (and its CRLF) before delivering.
    this.subject = subject
    this.reply = reply
    this.headerSize = headerSize
    this.payload = size === 0 ? emptyPayload : assemblyBuffers.take(size)
    this.payloadSize = size
    this.payloadLength = 0
    this.state = size === 0 ? MSG_END_R : MSG_PAYLOAD
    return payloadStart
  }

  private deliverHeldMessage(): void {
    const { subject, reply, headerSize, payload, payloadSize } = this
    this.state = OP_START
    this.release()
    if (headerSize >= 0) this.handler.hpub(subject, reply, headerSize, payload, 0, payloadSize)
    else this.handler.pub(subject, reply, payload, 0, payloadSize)
    if (payloadSize > 0) assemblyBuffers.give(payload.buffer)
  }

  /** SUB `subject [queue] sid` */
  private subscribe(source: Buffer, start: number, end: number, next: number): number {
    const count = this.splitArguments(source, start, end)
    if (count !== 2 && count !== 3) return this.fail(silentViolation)
    const starts = this.tokenStarts
    const ends = this.tokenEnds
    const subject = readLatin1(source, starts[0], ends[0])
    const queue = count === 3 ? readLatin1(source, starts[1], ends[1]) : undefined
    const sid = readLatin1(source, starts[count - 1], ends[count - 1])
    this.state = OP_START
    this.handler.sub(subject, queue, sid)
    return next
  }

  /** UNSUB `sid [max]` */
  private unsubscribe(source: Buffer, start: number, end: number, next: number): number {
    const count = this.splitArguments(source, start, end)
    if (count !== 1 && count !== 2) return this.fail(silentViolation)
    const sid = readLatin1(source, this.tokenStarts[0], this.tokenEnds[0])
    const max = count === 2 ? parseSize(source, this.tokenStarts[1], this.tokenEnds[1]) : -1
    this.state = OP_START
    this.handler.unsub(sid, max < 0 ? undefined : max)
    return next
  }

  /**
   * Splits `[start, end)` on runs of blanks into tokenStarts/tokenEnds; returns the token count,
   * or MAX_ARGUMENTS + 1 when there are more tokens than any operation takes.
   */
  private splitArguments(source: Buffer, start: number, end: number): number {
    let count = 0
    let position = start
    for (;;) {
      while (position < end && isBlank(source[position])) position++
      if (position === end) return count
      if (count === MAX_ARGUMENTS) return MAX_ARGUMENTS + 1
      this.tokenStarts[count] = position
      while (position < end && !isBlank(source[position])) position++
      this.tokenEnds[count++] = position
    }
  }

  /** Stops for good and reports the violation; returns an index past any input. */
  private fail(violation: ProtocolViolation): number {
    this.state = STOPPED
    this.release()
    this.handler.protocolError(violation)
    return Number.MAX_SAFE_INTEGER
  }

  private release(): void {
    this.payload = emptyPayload
    this.subject = ""
    this.reply = undefined
    this.holdingLine = false
    this.lineLength = 0
  }
}

const isJsonObject = (text: string): boolean => {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === "object" && !Array.isArray(value)
  } catch {
    return false
  }
}

import type { InternalMessage } from "@nex/broker"
import { statusMessage } from "@nex/protocol"
import { apiError, isApiError } from "./ApiErrors.ts"
import type { ApiRequest, Route } from "./ApiDispatcher.ts"
import { type ApiResponse, MessageDeleteRequest, MessageGetRequest, readBody, responseType } from "./api.ts"
import type { JetStreamEngine } from "./JetStreamEngine.ts"
import { fromWire } from "./Outbound.ts"
import type { Stream } from "./Stream.ts"
import type { StoredMessage } from "./store/index.ts"
import { formatTimestamp, parseTimestamp } from "./Time.ts"

type Lookup = { seq?: number; last_by_subj?: string; next_by_subj?: string; start_time?: number }

/**
 * The message a MSG.GET / DIRECT.GET body asks for, or why the body is refused: `seq`,
 * `last_by_subj` and `start_time` exclude each other; `next_by_subj` may add `seq` or `start_time`.
 */
const lookupOf = (body: MessageGetRequest): Lookup | "bad" => {
  const seq = body.seq ?? 0
  const last = body.last_by_subj ?? ""
  const next = body.next_by_subj ?? ""
  const start = body.start_time ?? undefined
  const startTime = start === undefined ? undefined : parseTimestamp(start)
  if (start !== undefined && startTime === undefined) return "bad"
  const exclusive = (seq > 0 ? 1 : 0) + (last !== "" ? 1 : 0) + (startTime !== undefined ? 1 : 0)
  if (exclusive > 1 || (last !== "" && next !== "")) return "bad"
  if (exclusive === 0 && next === "") return "bad"
  return {
    ...(seq > 0 ? { seq } : {}),
    ...(last !== "" ? { last_by_subj: last } : {}),
    ...(next !== "" ? { next_by_subj: next } : {}),
    ...(startTime !== undefined ? { start_time: startTime } : {})
  }
}

/** The message, lent by the store: both callers encode it at once. */
const find = (stream: Stream, lookup: Lookup): StoredMessage | undefined => {
  const store = stream.store
  if (lookup.last_by_subj !== undefined) return store.lastBySubject(lookup.last_by_subj, "lend")
  const from = lookup.start_time !== undefined ? store.firstSeqAtOrAfter(lookup.start_time) : Math.max(lookup.seq ?? 1, 1)
  if (from === undefined) return undefined
  if (lookup.next_by_subj !== undefined) return store.nextMatching(from, lookup.next_by_subj, "lend")
  return lookup.start_time !== undefined ? store.nextMatching(from, undefined, "lend") : store.get(from, "lend")
}

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("base64")

/** `STREAM.MSG.GET` and `STREAM.MSG.DELETE`. */
export const messageRoutes = (engine: JetStreamEngine): Route[] => {
  const get = (request: ApiRequest): ApiResponse => {
    const type = responseType.streamMessageGet
    if (request.payload.length === 0) return { type, error: apiError("JSBadRequestErr") }
    const body = readBody(MessageGetRequest, request.payload, false)
    if (!body.ok) return { type, error: body.error }
    const stream = engine.streams.get(request.tokens[5])
    if (stream === undefined) return { type, error: apiError("JSStreamNotFoundErr") }
    if ((body.value.batch ?? 0) > 0 || (body.value.max_bytes ?? 0) > 0) return { type, error: apiError("JSBadRequestErr") }
    const lookup = lookupOf(body.value)
    if (lookup === "bad") return { type, error: apiError("JSBadRequestErr") }
    const message = find(stream, lookup)
    if (message === undefined) return { type, error: apiError("JSNoMessageFoundErr") }
    const wire: Record<string, unknown> = { subject: message.subject, seq: message.seq }
    if (message.headers !== undefined && message.headers.length > 0) wire.hdrs = base64(message.headers)
    if (message.data.length > 0) wire.data = base64(message.data)
    wire.time = formatTimestamp(message.timestamp)
    return { type, message: wire }
  }

  const remove = (request: ApiRequest): ApiResponse => {
    const type = responseType.streamMessageDelete
    if (request.payload.length === 0) return { type, error: apiError("JSBadRequestErr") }
    const body = readBody(MessageDeleteRequest, request.payload, false)
    if (!body.ok) return { type, error: body.error }
    const stream = engine.streams.get(request.tokens[5])
    if (stream === undefined) return { type, error: apiError("JSStreamNotFoundErr") }
    const seq = body.value.seq ?? 0
    if (seq === 0) return { type, error: apiError("JSBadRequestErr") }
    const result = stream.deleteMessage(seq, body.value.no_erase !== true)
    return isApiError(result) ? { type, error: result } : { type, success: true }
  }

  return [
    { pattern: "STREAM.MSG.GET.*", handler: get },
    { pattern: "STREAM.MSG.DELETE.*", handler: remove }
  ]
}

const notFound = statusMessage(404, "Message Not Found")
const emptyPayload = new Uint8Array(0)
const plainHeaderLine = "NATS/1.0\r\n"

/** Writes `text` as UTF-8 at `offset` (the caller ensured room); returns the offset after it. */
const writeText = (target: Buffer, offset: number, text: string): number => {
  const length = text.length
  for (let index = 0; index < length; index++) {
    const code = text.charCodeAt(index)
    // Headers are nearly always ASCII: a JS loop beats a call into the native encoder.
    if (code > 0x7f) return offset + target.write(text, offset, "utf8")
    target[offset + index] = code
  }
  return offset + length
}

/** Most bytes `text` takes as UTF-8. */
const utf8Bound = (text: string): number => text.length * 3

/** Longest header block sendDirectReply appends, not counting the stream name and subject. */
const addedHeadersBound = 160

/**
 * Where replies are encoded: the broker has copied a reply into every receiver's buffer (or lent it
 * to an in-process handler) by the time publish returns, so one buffer serves every reply. A reply
 * encoded while another is being delivered gets a buffer of its own.
 */
let replyScratch = Buffer.allocUnsafe(4096)
let replyScratchBusy = false
/** Larger replies get a buffer of their own, so one big message does not pin its size for good. */
const replyScratchLimit = 64 * 1024

/**
 * Sends the stored message to `reply` with Nats-Stream / -Subject / -Sequence / -Time-Stamp
 * appended to its headers, encoded into one block: the header block, then the payload.
 */
const sendDirectReply = (stream: Stream, reply: string, message: StoredMessage): void => {
  const stored = message.headers
  const own = stored !== undefined && stored.length >= 4 ? stored.subarray(0, stored.length - 2) : undefined
  const data = message.data
  const bound = (own === undefined ? 0 : own.length) + addedHeadersBound + utf8Bound(stream.name) + utf8Bound(message.subject) + data.length
  const reentered = replyScratchBusy
  const scratch = !reentered && bound <= replyScratchLimit
  if (scratch && replyScratch.length < bound) replyScratch = Buffer.allocUnsafe(Math.min(replyScratchLimit, Math.max(bound, replyScratch.length * 2)))
  const target = scratch ? replyScratch : Buffer.allocUnsafe(bound)
  let offset = 0
  if (own === undefined) offset = writeText(target, offset, plainHeaderLine)
  else {
    target.set(own, 0)
    offset = own.length
  }
  offset = writeText(target, offset, "Nats-Stream: ")
  offset = writeText(target, offset, stream.name)
  offset = writeText(target, offset, "\r\nNats-Subject: ")
  offset = writeText(target, offset, message.subject)
  offset = writeText(target, offset, "\r\nNats-Sequence: ")
  offset = writeText(target, offset, String(message.seq))
  offset = writeText(target, offset, "\r\nNats-Time-Stamp: ")
  offset = writeText(target, offset, formatTimestamp(message.timestamp))
  const headerSize = writeText(target, offset, "\r\n\r\n")
  target.set(data, headerSize)
  replyScratchBusy = true
  try {
    stream.outbound.publishEncoded(reply, headerSize, new Uint8Array(target.buffer, target.byteOffset, headerSize + data.length))
  } finally {
    replyScratchBusy = reentered
  }
}

/**
 * `$JS.API.DIRECT.GET.<stream>` (JSON body) and `$JS.API.DIRECT.GET.<stream>.<subject>` (empty
 * body, last message on that subject): the stored message itself, or a 404/408 status. Answered
 * in the requester's read loop: a lookup is a synchronous index read, so it never waits behind
 * slower API requests, and nothing is copied out of the read buffer.
 */
export const serveDirectGet = (stream: Stream, message: InternalMessage, prefixLength: number): void => {
  const reply = message.reply
  if (reply === undefined) return
  const outbound = stream.outbound
  const status = (code: number, description: string) => outbound.publish(reply, emptyPayload, statusMessage(code, description))
  let found: StoredMessage | undefined
  if (message.subject.length > prefixLength) {
    if (message.payload.length > 0) return status(408, "Bad Request")
    found = stream.store.lastBySubject(fromWire(message.subject.slice(prefixLength + 1)), "lend")
  } else {
    if (message.payload.length === 0) return status(408, "Empty Request")
    const body = readBody(MessageGetRequest, message.payload, false)
    if (!body.ok) return status(408, "Malformed Request")
    if ((body.value.batch ?? 0) > 0 || (body.value.multi_last?.length ?? 0) > 0) return status(408, "Bad Request")
    const lookup = lookupOf(body.value)
    if (lookup === "bad") return status(408, "Bad Request")
    found = find(stream, lookup)
  }
  if (found === undefined) return outbound.publish(reply, emptyPayload, notFound)
  sendDirectReply(stream, reply, found)
}

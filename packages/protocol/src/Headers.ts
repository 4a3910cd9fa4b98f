import { readLatin1 } from "./latin1.ts"

/** A decoded header block: the optional status line and the headers in wire order. */
export interface HeaderBlock {
  readonly status: number | undefined
  readonly description: string | undefined
  readonly headers: ReadonlyArray<readonly [string, string]>
}

/** A header block that is not `NATS/1.0 ...`, or a header that cannot be written safely. */
export class HeaderFormatError extends Error {
  readonly _tag = "HeaderFormatError"
  override readonly name = "HeaderFormatError"
}

const VERSION = "NATS/1.0"
const COLON = 58
const SPACE = 32
const TAB = 9
const LINE_FEED = 10
const CARRIAGE_RETURN = 13

const isBlank = (code: number): boolean => code === SPACE || code === TAB

/** Trims spaces and TABs only: String.prototype.trim would also eat 0xA0, a byte of many UTF-8 characters. */
const trimBlanks = (text: string): string => {
  let start = 0
  let end = text.length
  while (start < end && isBlank(text.charCodeAt(start))) start++
  while (end > start && isBlank(text.charCodeAt(end - 1))) end--
  return start === 0 && end === text.length ? text : text.slice(start, end)
}

const hasLineBreak = (text: string): boolean => text.includes("\r") || text.includes("\n")

const checkKey = (key: string): void => {
  if (key.length === 0 || hasLineBreak(key) || key.includes(":") || key.includes(" ") || key.includes("\t")) {
    throw new HeaderFormatError(`invalid header key ${JSON.stringify(key)}`)
  }
}

/**
 * Encodes `NATS/1.0[ code[ description]]\r\n(Key: value\r\n)*\r\n`. Strings are written as latin1
 * (one byte per char), like every other protocol string. Throws HeaderFormatError on a key or
 * value that would break the framing.
 */
export const encodeHeaders = (block: {
  status?: number
  description?: string
  headers?: Iterable<readonly [string, string]>
}): Buffer => {
  let text = VERSION
  if (block.status !== undefined) {
    if (!Number.isInteger(block.status) || block.status < 100 || block.status > 999) {
      throw new HeaderFormatError(`invalid status ${block.status}`)
    }
    text += ` ${block.status}`
    if (block.description !== undefined && block.description.length > 0) {
      if (hasLineBreak(block.description)) throw new HeaderFormatError("status description contains a line break")
      text += ` ${block.description}`
    }
  }
  text += "\r\n"
  if (block.headers !== undefined) {
    for (const [key, value] of block.headers) {
      checkKey(key)
      if (hasLineBreak(value)) throw new HeaderFormatError(`header ${key} has a line break in its value`)
      text += `${key}: ${value}\r\n`
    }
  }
  return Buffer.from(`${text}\r\n`, "latin1")
}

/** A status message header block such as `NATS/1.0 503` or `NATS/1.0 404 No Messages`. */
export const statusMessage = (code: number, description?: string, headers?: Iterable<readonly [string, string]>): Buffer =>
  encodeHeaders({ status: code, description, headers })

/**
 * Decodes a header block tolerantly: CRLF or bare LF line ends, values trimmed of spaces, key case
 * kept, repeated keys kept in order, lines without a colon skipped. Throws HeaderFormatError when
 * the block does not start with `NATS/1.0`.
 */
export const decodeHeaders = (block: Uint8Array): HeaderBlock => {
  const text = readLatin1(block, 0, block.length)
  if (!text.startsWith(VERSION)) throw new HeaderFormatError("header block does not start with NATS/1.0")
  let lineEnd = text.indexOf("\n")
  if (lineEnd === -1) lineEnd = text.length
  const statusLine = trimBlanks(stripCarriageReturn(text.slice(VERSION.length, lineEnd)))
  let status: number | undefined
  let description: string | undefined
  let digits = 0
  while (digits < statusLine.length && isDigit(statusLine.charCodeAt(digits))) digits++
  if (digits > 0) {
    status = Number(statusLine.slice(0, digits))
    const rest = trimBlanks(statusLine.slice(digits))
    if (rest.length > 0) description = rest
  }
  const headers: Array<readonly [string, string]> = []
  let lineStart = lineEnd + 1
  while (lineStart < text.length) {
    let end = text.indexOf("\n", lineStart)
    if (end === -1) end = text.length
    const line = stripCarriageReturn(text.slice(lineStart, end))
    if (line.length === 0) break
    const colon = line.indexOf(":")
    if (colon > 0) headers.push([trimBlanks(line.slice(0, colon)), trimBlanks(line.slice(colon + 1))])
    lineStart = end + 1
  }
  return { status, description, headers }
}

const isDigit = (code: number): boolean => code >= 48 && code <= 57

const stripCarriageReturn = (line: string): string =>
  line.length > 0 && line.charCodeAt(line.length - 1) === CARRIAGE_RETURN ? line.slice(0, -1) : line

/**
 * The value of the first header named exactly `key` (case-sensitive, as nats-server matches),
 * found by scanning bytes without decoding the rest of the block.
 */
export const findHeader = (block: Uint8Array, key: string): string | undefined => {
  const length = block.length
  const keyLength = key.length
  let lineStart = block.indexOf(LINE_FEED) + 1
  if (lineStart === 0) return undefined
  while (lineStart < length) {
    const first = block[lineStart]
    if (first === CARRIAGE_RETURN || first === LINE_FEED) return undefined
    if (lineStart + keyLength < length && block[lineStart + keyLength] === COLON && keyAt(block, lineStart, key)) {
      let start = lineStart + keyLength + 1
      let end = block.indexOf(LINE_FEED, start)
      if (end === -1) end = length
      if (end > start && block[end - 1] === CARRIAGE_RETURN) end--
      while (start < end && isBlank(block[start])) start++
      while (end > start && isBlank(block[end - 1])) end--
      return readLatin1(block, start, end)
    }
    const next = block.indexOf(LINE_FEED, lineStart)
    if (next === -1) return undefined
    lineStart = next + 1
  }
  return undefined
}

const keyAt = (block: Uint8Array, offset: number, key: string): boolean => {
  for (let index = 0; index < key.length; index++) {
    if (block[offset + index] !== key.charCodeAt(index)) return false
  }
  return true
}

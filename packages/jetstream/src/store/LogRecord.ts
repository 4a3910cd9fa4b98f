import { crc32 } from "node:zlib"
import type { ReadMode, StoredMessage } from "./MessageStore.ts"

/*
 * Segment file: a 16-byte header ("NEXSEG01", format version, reserved), then records.
 * Every record starts with its total length and a CRC-32 of everything after those 8 bytes
 * (little-endian throughout):
 *   message: length u32 | crc u32 | kind=1 u8 | flags u8 (bit 0: has headers) | subject length u16
 *            | headers length u32 | seq f64 | timestamp f64 | subject | headers | data
 *   removal: length u32 | crc u32 | kind=2 u8 | 7 reserved bytes | (first f64, last f64)...
 * A removal record lists sequence ranges that are gone (deletes, purges, limits).
 */

export const segmentHeaderSize = 16
export const messageHeaderSize = 32
export const removalHeaderSize = 16
export const messageKind = 1
export const removalKind = 2
const formatVersion = 1
const segmentMagic = Buffer.from("NEXSEG01", "latin1")

export const segmentHeader = (): Buffer => {
  const header = Buffer.alloc(segmentHeaderSize)
  segmentMagic.copy(header, 0)
  header.writeUInt32LE(formatVersion, 8)
  return header
}

export const isSegmentHeader = (bytes: Uint8Array): boolean =>
  bytes.length >= segmentHeaderSize && Buffer.from(bytes.buffer, bytes.byteOffset, 8).equals(segmentMagic)

export const messageRecordLength = (subjectLength: number, headersLength: number, dataLength: number): number =>
  messageHeaderSize + subjectLength + headersLength + dataLength

/** Writes a message record at `offset` (the buffer must have room); returns its length. */
export const writeMessageRecord = (
  buffer: Buffer,
  offset: number,
  seq: number,
  timestamp: number,
  subjectBytes: Uint8Array,
  subjectLength: number,
  headers: Uint8Array | undefined,
  data: Uint8Array
): number => {
  const headersLength = headers === undefined ? 0 : headers.length
  const length = messageRecordLength(subjectLength, headersLength, data.length)
  buffer.writeUInt32LE(length, offset)
  buffer[offset + 8] = messageKind
  buffer[offset + 9] = headers === undefined ? 0 : 1
  buffer.writeUInt16LE(subjectLength, offset + 10)
  buffer.writeUInt32LE(headersLength, offset + 12)
  buffer.writeDoubleLE(seq, offset + 16)
  buffer.writeDoubleLE(timestamp, offset + 24)
  let position = offset + messageHeaderSize
  for (let index = 0; index < subjectLength; index++) buffer[position + index] = subjectBytes[index]
  position += subjectLength
  if (headers !== undefined) {
    buffer.set(headers, position)
    position += headersLength
  }
  buffer.set(data, position)
  buffer.writeUInt32LE(crc32(buffer.subarray(offset + 8, offset + length)), offset + 4)
  return length
}

/** Writes a removal record for flat [first, last, first, last, ...] ranges; returns its length. */
export const writeRemovalRecord = (buffer: Buffer, offset: number, ranges: ReadonlyArray<number>): number => {
  const length = removalHeaderSize + ranges.length * 8
  buffer.writeUInt32LE(length, offset)
  buffer.fill(0, offset + 8, offset + removalHeaderSize)
  buffer[offset + 8] = removalKind
  for (let index = 0; index < ranges.length; index++) buffer.writeDoubleLE(ranges[index], offset + removalHeaderSize + index * 8)
  buffer.writeUInt32LE(crc32(buffer.subarray(offset + 8, offset + length)), offset + 4)
  return length
}

export const removalRecordLength = (rangeCount: number): number => removalHeaderSize + rangeCount * 16

export type RecordCheck = "ok" | "short" | "badLength" | "badChecksum"

/** No record is shorter than this (a removal with one range; a message with a 1-byte subject is longer). */
const minimumRecordLength = removalHeaderSize + 16

/**
 * Checks the record at `offset`, given `available` bytes of it in `buffer` and `fileRemaining`
 * bytes left in the file from `offset`. "short" means more bytes must be read first; "badLength"
 * means the framing itself is broken, so nothing after it can be located.
 */
export const checkRecord = (buffer: Buffer, offset: number, available: number, fileRemaining: number): RecordCheck => {
  if (fileRemaining < minimumRecordLength) return "badLength"
  if (available < messageHeaderSize) return "short"
  const length = buffer.readUInt32LE(offset)
  const kind = buffer[offset + 8]
  if (kind !== messageKind && kind !== removalKind) return "badLength"
  if (length < (kind === messageKind ? messageHeaderSize + 1 : minimumRecordLength) || length > fileRemaining) return "badLength"
  if (available < length) return "short"
  if (kind === messageKind) {
    const subjectLength = buffer.readUInt16LE(offset + 10)
    const headersLength = buffer.readUInt32LE(offset + 12)
    if (subjectLength === 0 || messageHeaderSize + subjectLength + headersLength > length) return "badChecksum"
  } else if ((length - removalHeaderSize) % 16 !== 0) {
    return "badChecksum"
  }
  return crc32(buffer.subarray(offset + 8, offset + length)) === buffer.readUInt32LE(offset + 4) ? "ok" : "badChecksum"
}

export const recordLength = (buffer: Buffer, offset: number): number => buffer.readUInt32LE(offset)
export const recordKind = (buffer: Buffer, offset: number): number => buffer[offset + 8]
export const recordSeq = (buffer: Buffer, offset: number): number => buffer.readDoubleLE(offset + 16)
export const recordTimestamp = (buffer: Buffer, offset: number): number => buffer.readDoubleLE(offset + 24)
export const recordSubjectLength = (buffer: Buffer, offset: number): number => buffer.readUInt16LE(offset + 10)
export const recordHeadersLength = (buffer: Buffer, offset: number): number => buffer.readUInt32LE(offset + 12)
export const recordHasHeaders = (buffer: Buffer, offset: number): boolean => (buffer[offset + 9] & 1) === 1

/**
 * Decodes a checked message record. "copy" copies its bytes out of `buffer`; "lend" returns views
 * into `buffer` (headers and data adjacent, as the record keeps them), valid while it is unchanged.
 */
export const readMessageRecord = (buffer: Buffer, offset: number, mode: ReadMode = "copy"): StoredMessage => {
  const length = recordLength(buffer, offset)
  const subjectLength = recordSubjectLength(buffer, offset)
  const headersLength = recordHeadersLength(buffer, offset)
  const subjectStart = offset + messageHeaderSize
  const headersStart = subjectStart + subjectLength
  const end = offset + length
  let bytes: Uint8Array
  if (mode === "lend") {
    bytes = buffer.subarray(headersStart, end)
  } else {
    bytes = new Uint8Array(end - headersStart)
    bytes.set(buffer.subarray(headersStart, end))
  }
  return {
    seq: recordSeq(buffer, offset),
    subject: buffer.toString("utf8", subjectStart, headersStart),
    headers: recordHasHeaders(buffer, offset) ? bytes.subarray(0, headersLength) : undefined,
    data: bytes.subarray(headersLength),
    timestamp: recordTimestamp(buffer, offset)
  }
}

/** Reads the ranges of a checked removal record. */
export const readRemovalRanges = (buffer: Buffer, offset: number): number[] => {
  const length = recordLength(buffer, offset)
  const ranges: number[] = []
  for (let position = offset + removalHeaderSize; position < offset + length; position += 8) {
    ranges.push(buffer.readDoubleLE(position))
  }
  return ranges
}

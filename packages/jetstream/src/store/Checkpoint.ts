import { endianness } from "node:os"
import { crc32 } from "node:zlib"
import { Chunk, type MessageIndex } from "./MessageIndex.ts"

/*
 * A snapshot of the message index at a log position, so a restart loads it and replays only the
 * records after that position. Little-endian (typed arrays are copied as they are in memory):
 *   "NEXCKP01" | version u32 | reserved u32 | lastSeq f64 | lastTimestamp f64
 *   | position segment f64 | position offset f64
 *   | segment count u32 | subject count u32 | subject id limit u32 | chunk count u32
 *   | segments: (id f64, minSeq f64, maxSeq f64)...
 *   | subjects: (id u32, length u16, UTF-8 bytes)... | zero padding to 8
 *   | chunks: (number f64, sparse u32, length u32, subject u32[], size u32[], location u32[],
 *              [offsets u16[]], headers u8[], padding to 8, timestamp f64[])...
 *   | CRC-32 of everything before, u32
 * Subject chains and per-subject counts are rebuilt on load. Version 1 had no headers flags: its
 * messages all count as having headers (a scan for Nats-Msg-Ids then reads them all, as before).
 */

const magic = Buffer.from("NEXCKP01", "latin1")
const version = 2
const fixedSize = 64

if (endianness() !== "LE") throw new Error("the file store's checkpoint format assumes a little-endian machine")

export interface CheckpointSegment {
  readonly id: number
  readonly minSeq: number
  readonly maxSeq: number
}

export interface CheckpointPosition {
  readonly segmentId: number
  readonly offset: number
}

export interface CheckpointContent {
  readonly lastSeq: number
  readonly lastTimestamp: number
  readonly position: CheckpointPosition
  readonly segments: ReadonlyArray<CheckpointSegment>
}

const pad8 = (value: number): number => (value + 7) & ~7

const copyArray = (target: Buffer, position: number, array: ArrayBufferView, byteLength: number): number => {
  target.set(new Uint8Array(array.buffer, array.byteOffset, byteLength), position)
  return position + byteLength
}

/** Serialises the index as it is now. */
export const encodeCheckpoint = (index: MessageIndex, content: CheckpointContent): Buffer => {
  const table = index.table
  const subjectIds: number[] = []
  let subjectBytes = 0
  for (let id = 1; id < table.idLimit; id++) {
    if (table.countOf(id) === 0) continue
    subjectIds.push(id)
    subjectBytes += 6 + table.nameBytes(id).length
  }
  const chunks = index.liveChunks()
  let size = fixedSize + content.segments.length * 24 + pad8(subjectBytes)
  for (const chunk of chunks) {
    size += 16 + pad8(chunk.length * 13 + (chunk.offsets === undefined ? 0 : chunk.length * 2)) + chunk.length * 8
  }
  size += 4
  const out = Buffer.alloc(size)
  magic.copy(out, 0)
  out.writeUInt32LE(version, 8)
  out.writeDoubleLE(content.lastSeq, 16)
  out.writeDoubleLE(content.lastTimestamp, 24)
  out.writeDoubleLE(content.position.segmentId, 32)
  out.writeDoubleLE(content.position.offset, 40)
  out.writeUInt32LE(content.segments.length, 48)
  out.writeUInt32LE(subjectIds.length, 52)
  out.writeUInt32LE(table.idLimit, 56)
  out.writeUInt32LE(chunks.length, 60)
  let position = fixedSize
  for (const segment of content.segments) {
    out.writeDoubleLE(segment.id, position)
    out.writeDoubleLE(segment.minSeq, position + 8)
    out.writeDoubleLE(segment.maxSeq, position + 16)
    position += 24
  }
  for (const id of subjectIds) {
    const name = table.nameBytes(id)
    out.writeUInt32LE(id, position)
    out.writeUInt16LE(name.length, position + 4)
    out.set(name, position + 6)
    position += 6 + name.length
  }
  position = pad8(position)
  for (const chunk of chunks) {
    const length = chunk.length
    out.writeDoubleLE(chunk.number, position)
    out.writeUInt32LE(chunk.offsets === undefined ? 0 : 1, position + 8)
    out.writeUInt32LE(length, position + 12)
    position += 16
    position = copyArray(out, position, chunk.subject, length * 4)
    position = copyArray(out, position, chunk.size, length * 4)
    position = copyArray(out, position, chunk.location, length * 4)
    if (chunk.offsets !== undefined) position = copyArray(out, position, chunk.offsets, length * 2)
    position = copyArray(out, position, chunk.headers, length)
    position = pad8(position)
    position = copyArray(out, position, chunk.timestamp, length * 8)
  }
  out.writeUInt32LE(crc32(out.subarray(0, position)), position)
  return out
}

const readArray = <T extends Uint8Array | Uint32Array | Uint16Array | Float64Array>(bytes: Uint8Array, position: number, array: T): T => {
  new Uint8Array(array.buffer).set(bytes.subarray(position, position + array.byteLength))
  return array
}

/**
 * Loads a checkpoint into an empty index and returns what it says about the log, or a reason it
 * cannot be used.
 */
export const decodeCheckpoint = (bytes: Uint8Array, index: MessageIndex): CheckpointContent | string => {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buffer.length < fixedSize + 4 || !buffer.subarray(0, 8).equals(magic)) return "not a checkpoint file"
  const fileVersion = buffer.readUInt32LE(8)
  if (fileVersion !== version && fileVersion !== 1) return `unknown checkpoint version ${fileVersion}`
  const end = buffer.length - 4
  if (crc32(buffer.subarray(0, end)) !== buffer.readUInt32LE(end)) return "checkpoint checksum mismatch"
  const lastSeq = buffer.readDoubleLE(16)
  const lastTimestamp = buffer.readDoubleLE(24)
  const position = { segmentId: buffer.readDoubleLE(32), offset: buffer.readDoubleLE(40) }
  const segmentCount = buffer.readUInt32LE(48)
  const subjectCount = buffer.readUInt32LE(52)
  const idLimit = buffer.readUInt32LE(56)
  const chunkCount = buffer.readUInt32LE(60)
  let offset = fixedSize
  const segments: CheckpointSegment[] = []
  for (let count = 0; count < segmentCount; count++) {
    segments.push({
      id: buffer.readDoubleLE(offset),
      minSeq: buffer.readDoubleLE(offset + 8),
      maxSeq: buffer.readDoubleLE(offset + 16)
    })
    offset += 24
  }
  const table = index.table
  for (let count = 0; count < subjectCount; count++) {
    const id = buffer.readUInt32LE(offset)
    const length = buffer.readUInt16LE(offset + 4)
    table.restore(id, buffer, offset + 6, length)
    offset += 6 + length
  }
  table.finishRestore(idLimit)
  offset = pad8(offset)
  for (let count = 0; count < chunkCount; count++) {
    const number = buffer.readDoubleLE(offset)
    const sparse = buffer.readUInt32LE(offset + 8) === 1
    const length = buffer.readUInt32LE(offset + 12)
    offset += 16
    const chunk = new Chunk(number, length)
    readArray(buffer, offset, chunk.subject)
    offset += length * 4
    readArray(buffer, offset, chunk.size)
    offset += length * 4
    readArray(buffer, offset, chunk.location)
    offset += length * 4
    if (sparse) {
      chunk.offsets = readArray(buffer, offset, new Uint16Array(length))
      offset += length * 2
    }
    if (fileVersion === 1) {
      chunk.headers.fill(1)
    } else {
      readArray(buffer, offset, chunk.headers)
      offset += length
    }
    offset = pad8(offset)
    readArray(buffer, offset, chunk.timestamp)
    offset += length * 8
    chunk.length = length
    index.restoreChunk(chunk)
  }
  if (offset !== end) return "checkpoint length mismatch"
  index.rebuild(lastSeq, lastTimestamp)
  return { lastSeq, lastTimestamp, position, segments }
}

import { join } from "node:path"
import { decodeCheckpoint } from "./Checkpoint.ts"
import { type Disk, type DiskFile, readWholeFile } from "./Disk.ts"
import {
  checkRecord,
  isSegmentHeader,
  messageHeaderSize,
  messageKind,
  readRemovalRanges,
  recordHasHeaders,
  recordHeadersLength,
  recordLength,
  recordKind,
  recordSeq,
  recordSubjectLength,
  recordTimestamp,
  segmentHeader,
  segmentHeaderSize
} from "./LogRecord.ts"
import { MessageIndex } from "./MessageIndex.ts"
import { fileMessageSize, type Segment, segmentFileName, segmentIdOf } from "./SegmentLog.ts"

export const checkpointFileName = "index.ckpt"

/** What opening a file store found and did. */
export interface RecoveryReport {
  readonly checkpointLoaded: boolean
  /** Log records read after the checkpoint (all of them without one). */
  readonly replayedRecords: number
  readonly replayedBytes: number
  /** Bytes cut from torn or corrupt tails. */
  readonly truncatedBytes: number
  /** Damaged records skipped in the middle of the log (their messages are treated as deleted). */
  readonly skippedRecords: number
  readonly notes: ReadonlyArray<string>
  readonly durationMs: number
}

export interface RecoveredLog {
  readonly index: MessageIndex
  readonly segments: Segment[]
  readonly report: RecoveryReport
}

const readChunkBytes = 4 * 1024 * 1024

const fileSize = (disk: Disk, path: string): number => {
  const file = disk.open(path)
  try {
    return file.size()
  } finally {
    file.close()
  }
}

/** True when every byte of the file from `from` to `size` is zero. */
const zeroFrom = (file: DiskFile, from: number, size: number): boolean => {
  const buffer = Buffer.allocUnsafe(Math.min(readChunkBytes, Math.max(0, size - from)))
  for (let position = from; position < size; ) {
    const count = file.read(position, buffer, 0, Math.min(buffer.length, size - position))
    if (count === 0) return true
    for (let index = 0; index < count; index++) if (buffer[index] !== 0) return false
    position += count
  }
  return true
}

/** Sequential reader over segment files that keeps the current record whole in its buffer. */
class SegmentScanner {
  buffer: Buffer = Buffer.allocUnsafe(readChunkBytes)
  /** File offset of buffer[0]. */
  start = 0
  length = 0
  private segment: Segment | undefined = undefined

  scan(segment: Segment): void {
    this.segment = segment
    this.start = 0
    this.length = 0
  }

  /** Makes at least `wanted` bytes from `position` available (fewer at the end of the file). */
  fill(position: number, wanted: number): void {
    const segment = this.segment!
    if (position >= this.start && position + wanted <= this.start + this.length) return
    const size = Math.max(readChunkBytes, wanted)
    if (this.buffer.length < size) this.buffer = Buffer.allocUnsafe(size)
    this.start = position
    this.length = segment.file.read(position, this.buffer, 0, Math.min(size, segment.size - position))
  }

  available(position: number): number {
    return this.start + this.length - position
  }
}

/**
 * Rebuilds the index of the log in `directory`: loads the checkpoint if it is usable, then replays
 * every record after it. A torn or corrupt tail is truncated at the last good record; a damaged
 * record followed by good ones is skipped. Nothing that failed its checksum is ever indexed.
 */
export const recoverLog = async (disk: Disk, directory: string): Promise<RecoveredLog> => {
  const started = performance.now()
  const notes: string[] = []
  disk.mkdir(directory)
  const names = disk.list(directory)
  for (const name of names) if (name.endsWith(".tmp")) disk.remove(join(directory, name))
  const ids = names
    .map(segmentIdOf)
    .filter((id): id is number => id !== undefined)
    .sort((left, right) => left - right)

  let index = new MessageIndex()
  let checkpointLoaded = false
  let replayFrom = { segmentId: ids.length > 0 ? ids[0] : 1, offset: segmentHeaderSize }
  const known = new Map<number, { minSeq: number; maxSeq: number }>()
  const checkpointBytes = readWholeFile(disk, join(directory, checkpointFileName))
  if (checkpointBytes !== undefined) {
    let outcome: ReturnType<typeof decodeCheckpoint>
    try {
      outcome = decodeCheckpoint(checkpointBytes, index)
    } catch (error) {
      outcome = `unreadable checkpoint: ${String(error)}`
    }
    if (typeof outcome === "string") {
      notes.push(`${outcome}; replaying the whole log`)
    } else {
      const present = new Set(ids)
      const missing = outcome.segments.filter((segment) => segment.minSeq !== 0 && !present.has(segment.id))
      const positionSize = present.has(outcome.position.segmentId)
        ? fileSize(disk, join(directory, segmentFileName(outcome.position.segmentId)))
        : -1
      if (missing.length > 0 || positionSize < outcome.position.offset) {
        notes.push("checkpoint refers to log data that is missing; replaying the whole log")
      } else {
        checkpointLoaded = true
        replayFrom = outcome.position
        for (const segment of outcome.segments) known.set(segment.id, segment)
      }
    }
    if (!checkpointLoaded) index = new MessageIndex()
  }

  const segments: Segment[] = []
  for (const id of ids) {
    const path = join(directory, segmentFileName(id))
    if (checkpointLoaded && id < replayFrom.segmentId && !known.has(id)) {
      // Left over from before the checkpoint that made it unnecessary.
      disk.remove(path)
      continue
    }
    const file = disk.open(path)
    const range = known.get(id)
    segments.push({ id, path, file, size: file.size(), minSeq: range?.minSeq ?? 0, maxSeq: range?.maxSeq ?? 0 })
  }

  let replayedRecords = 0
  let replayedBytes = 0
  let truncatedBytes = 0
  let skippedRecords = 0
  /** Segments changed here (truncated or created), to sync before anything is appended. */
  const unsynced: Segment[] = []
  const table = index.table

  const truncate = (segment: Segment, at: number, reason: string): void => {
    // Zeros the log laid ahead of its end (sync "always") are no damage; the last segment keeps
    // them to append into, which spares two syncs before the store can open.
    if (zeroFrom(segment.file, at, segment.size)) {
      if (segment === segments[segments.length - 1] && at >= segmentHeaderSize) {
        segment.size = at
        return
      }
    } else {
      truncatedBytes += segment.size - at
      notes.push(`segment ${segment.id}: ${reason}; cut ${segment.size - at} bytes at offset ${at}`)
    }
    segment.file.truncate(at)
    segment.size = at
    unsynced.push(segment)
  }

  const applyRemoval = (ranges: ReadonlyArray<number>): void => {
    for (let pair = 0; pair < ranges.length; pair += 2) {
      const first = ranges[pair]
      const last = ranges[pair + 1]
      for (let seq = index.nextLive(first); seq !== 0 && seq <= last; seq = index.nextLive(seq + 1)) index.remove(seq)
      index.advanceLastSeq(last)
    }
  }

  const scanner = new SegmentScanner()
  for (let position = 0; position < segments.length; position++) {
    const segment = segments[position]
    if (segment.id < replayFrom.segmentId) continue
    const isLast = position === segments.length - 1
    let offset = segment.id === replayFrom.segmentId ? replayFrom.offset : segmentHeaderSize
    if (offset === segmentHeaderSize) {
      const header = Buffer.alloc(segmentHeaderSize)
      const count = segment.file.read(0, header, 0, segmentHeaderSize)
      if (count < segmentHeaderSize || !isSegmentHeader(header)) {
        if (!isLast && segment.size > segmentHeaderSize) {
          notes.push(`segment ${segment.id}: no valid header; ignored`)
          continue
        }
        truncate(segment, 0, "no valid header")
        segment.file.write(segmentHeader(), 0)
        segment.size = segmentHeaderSize
        continue
      }
    }
    scanner.scan(segment)
    while (offset < segment.size) {
      const remaining = segment.size - offset
      scanner.fill(offset, Math.min(remaining, messageHeaderSize))
      let check = checkRecord(scanner.buffer, offset - scanner.start, scanner.available(offset), remaining)
      if (check === "short") {
        scanner.fill(offset, recordLength(scanner.buffer, offset - scanner.start))
        check = checkRecord(scanner.buffer, offset - scanner.start, scanner.available(offset), remaining)
      }
      if (check === "badLength") {
        truncate(segment, offset, "torn or corrupt record framing")
        break
      }
      const at = offset - scanner.start
      const length = recordLength(scanner.buffer, at)
      if (check === "badChecksum") {
        let skip = false
        if (offset + length === segment.size) {
          skip = !isLast
        } else {
          const next = offset + length
          scanner.fill(next, Math.min(segment.size - next, messageHeaderSize))
          let nextCheck = checkRecord(scanner.buffer, next - scanner.start, scanner.available(next), segment.size - next)
          if (nextCheck === "short") {
            scanner.fill(next, recordLength(scanner.buffer, next - scanner.start))
            nextCheck = checkRecord(scanner.buffer, next - scanner.start, scanner.available(next), segment.size - next)
          }
          skip = nextCheck === "ok"
        }
        if (!skip) {
          truncate(segment, offset, "record failed its checksum")
          break
        }
        skippedRecords++
        notes.push(`segment ${segment.id}: skipped a damaged record at offset ${offset}`)
        offset += length
        continue
      }
      replayedRecords++
      replayedBytes += length
      if (recordKind(scanner.buffer, at) === messageKind) {
        const seq = recordSeq(scanner.buffer, at)
        if (seq > index.lastSeq) {
          const subjectLength = recordSubjectLength(scanner.buffer, at)
          const headersLength = recordHeadersLength(scanner.buffer, at)
          const subjectId = table.intern(scanner.buffer, at + messageHeaderSize, subjectLength)
          const dataLength = length - messageHeaderSize - subjectLength - headersLength
          const size = fileMessageSize(subjectLength, headersLength, dataLength)
          index.add(seq, subjectId, recordTimestamp(scanner.buffer, at), size, offset, recordHasHeaders(scanner.buffer, at))
          if (segment.minSeq === 0) segment.minSeq = seq
          segment.maxSeq = seq
        }
      } else {
        applyRemoval(readRemovalRanges(scanner.buffer, at))
      }
      offset += length
    }
  }

  if (segments.length === 0) {
    const id = checkpointLoaded ? replayFrom.segmentId + 1 : 1
    const path = join(directory, segmentFileName(id))
    const file = disk.open(path, { create: true, truncate: true })
    file.write(segmentHeader(), 0)
    segments.push({ id, path, file, size: segmentHeaderSize, minSeq: 0, maxSeq: 0 })
    unsynced.push(segments[0])
  }
  if (unsynced.length > 0) {
    await Promise.all([...new Set(unsynced)].map((segment) => segment.file.sync()))
    await disk.syncDirectory(directory)
  }

  return {
    index,
    segments,
    report: {
      checkpointLoaded,
      replayedRecords,
      replayedBytes,
      truncatedBytes,
      skippedRecords,
      notes,
      durationMs: performance.now() - started
    }
  }
}

import { grownArray } from "./grownArray.ts"
import type { SubjectFilter } from "./SubjectFilter.ts"
import { matchVerdict, SubjectTable, unknownVerdict } from "./SubjectTable.ts"

export const chunkSize = 4096
/** A chunk left with fewer live messages than this is repacked to hold only those. */
const sparseThreshold = chunkSize / 8
const firstChunkCapacity = 64

/**
 * The index entries of 4096 consecutive sequences, one typed array per field. A dense chunk is
 * indexed by `seq - base`; a sparse chunk (old, mostly deleted) keeps only its survivors, with
 * their offsets in `offsets`. A subject id of 0 marks a deleted entry.
 */
export class Chunk {
  readonly number: number
  subject: Uint32Array
  timestamp: Float64Array
  size: Uint32Array
  location: Uint32Array
  /** 1 where the message has headers, so scans for headers skip the others without reading them. */
  headers: Uint8Array
  /** Next and previous sequence with the same subject; 0 when none. */
  next: Float64Array
  prev: Float64Array
  offsets: Uint16Array | undefined = undefined
  /** Slots in use. */
  length = 0
  live = 0

  constructor(number: number, capacity: number) {
    this.number = number
    this.subject = new Uint32Array(capacity)
    this.timestamp = new Float64Array(capacity)
    this.size = new Uint32Array(capacity)
    this.location = new Uint32Array(capacity)
    this.headers = new Uint8Array(capacity)
    this.next = new Float64Array(capacity)
    this.prev = new Float64Array(capacity)
  }

  get base(): number {
    return this.number * chunkSize
  }

  /** The sequence held in a slot. */
  seqAt(slot: number): number {
    return this.number * chunkSize + (this.offsets === undefined ? slot : this.offsets[slot])
  }

  /** The first slot holding an offset ≥ `offset`. */
  slotFrom(offset: number): number {
    const offsets = this.offsets
    if (offsets === undefined) return offset
    let low = 0
    let high = this.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (offsets[middle] < offset) low = middle + 1
      else high = middle
    }
    return low
  }

  grow(capacity: number): void {
    this.subject = grownArray(this.subject, capacity)
    this.timestamp = grownArray(this.timestamp, capacity)
    this.size = grownArray(this.size, capacity)
    this.location = grownArray(this.location, capacity)
    this.headers = grownArray(this.headers, capacity)
    this.next = grownArray(this.next, capacity)
    this.prev = grownArray(this.prev, capacity)
  }

  /** Keeps only live entries. */
  repack(): void {
    const count = this.live
    const offsets = new Uint16Array(count)
    const subject = new Uint32Array(count)
    const timestamp = new Float64Array(count)
    const size = new Uint32Array(count)
    const location = new Uint32Array(count)
    const headers = new Uint8Array(count)
    const next = new Float64Array(count)
    const prev = new Float64Array(count)
    let target = 0
    for (let slot = 0; slot < this.length; slot++) {
      if (this.subject[slot] === 0) continue
      offsets[target] = this.offsets === undefined ? slot : this.offsets[slot]
      subject[target] = this.subject[slot]
      timestamp[target] = this.timestamp[slot]
      size[target] = this.size[slot]
      location[target] = this.location[slot]
      headers[target] = this.headers[slot]
      next[target] = this.next[slot]
      prev[target] = this.prev[slot]
      target++
    }
    this.offsets = offsets
    this.subject = subject
    this.timestamp = timestamp
    this.size = size
    this.location = location
    this.headers = headers
    this.next = next
    this.prev = prev
    this.length = count
  }
}

/**
 * Everything the store knows about its messages except their bytes: per sequence the subject id,
 * timestamp, accounted size, location of the payload and whether it has headers, chained per
 * subject; per subject (in the SubjectTable) count, first and last. About 37 bytes per message,
 * shared by both stores.
 */
export class MessageIndex {
  readonly table = new SubjectTable()
  messages = 0
  bytes = 0
  /** The first live sequence, or lastSeq + 1 when empty. */
  firstSeq = 1
  lastSeq = 0
  lastTimestamp = 0
  /** Slot of the entry found by the last successful `locate`. */
  slot = 0
  private chunks: Array<Chunk | undefined> = []
  private firstChunk = 0

  /** Finds the live entry for `seq`, setting `slot`; undefined if there is none. */
  locate(seq: number): Chunk | undefined {
    const number = Math.floor(seq / chunkSize)
    const chunk = this.chunks[number - this.firstChunk]
    if (chunk === undefined) return undefined
    const offset = seq - number * chunkSize
    const slot = chunk.offsets === undefined ? offset : chunk.slotFrom(offset)
    if (slot >= chunk.length || chunk.subject[slot] === 0) return undefined
    if (chunk.offsets !== undefined && chunk.offsets[slot] !== offset) return undefined
    this.slot = slot
    return chunk
  }

  timestampOf(seq: number): number {
    const chunk = this.locate(seq)
    return chunk === undefined ? 0 : chunk.timestamp[this.slot]
  }

  /** Adds the entry for a new sequence, above every existing one. */
  add(seq: number, subjectId: number, timestamp: number, size: number, location: number, hasHeaders: boolean): void {
    const number = Math.floor(seq / chunkSize)
    if (this.messages === 0) {
      this.chunks = []
      this.firstChunk = number
    }
    while (this.firstChunk + this.chunks.length <= number) this.chunks.push(undefined)
    let chunk = this.chunks[number - this.firstChunk]
    if (chunk === undefined) {
      // Only a store's first chunk starts small: growing big arrays by copying leaves freed copies in RSS.
      chunk = new Chunk(number, this.chunks.length > 1 ? chunkSize : firstChunkCapacity)
      this.chunks[number - this.firstChunk] = chunk
      const previous = this.chunks[number - this.firstChunk - 1]
      if (previous !== undefined && previous.offsets === undefined && previous.live < sparseThreshold) previous.repack()
    }
    const offset = seq - number * chunkSize
    if (offset >= chunk.subject.length) chunk.grow(Math.min(chunkSize, Math.max(offset + 1, chunk.subject.length * 2)))
    chunk.subject[offset] = subjectId
    chunk.timestamp[offset] = timestamp
    chunk.size[offset] = size
    chunk.location[offset] = location
    chunk.headers[offset] = hasHeaders ? 1 : 0
    chunk.next[offset] = 0
    const table = this.table
    if (table.countOf(subjectId) > 0) {
      const previousSeq = table.lastOf(subjectId)
      const previousChunk = this.locate(previousSeq)!
      previousChunk.next[this.slot] = seq
      chunk.prev[offset] = previousSeq
    } else {
      table.setFirst(subjectId, seq)
      chunk.prev[offset] = 0
    }
    table.setLast(subjectId, seq)
    table.addToCount(subjectId, 1)
    if (offset >= chunk.length) chunk.length = offset + 1
    chunk.live++
    if (this.messages === 0) this.firstSeq = seq
    this.messages++
    this.bytes += size
    this.lastSeq = seq
    this.lastTimestamp = timestamp
  }

  /** Removes the entry `locate` just found. */
  removeLocated(chunk: Chunk, slot: number, seq: number): void {
    const table = this.table
    const subjectId = chunk.subject[slot]
    const previousSeq = chunk.prev[slot]
    const nextSeq = chunk.next[slot]
    if (previousSeq !== 0) this.locate(previousSeq)!.next[this.slot] = nextSeq
    else table.setFirst(subjectId, nextSeq)
    if (nextSeq !== 0) this.locate(nextSeq)!.prev[this.slot] = previousSeq
    else table.setLast(subjectId, previousSeq)
    if (table.addToCount(subjectId, -1) === 0) table.release(subjectId)
    chunk.subject[slot] = 0
    chunk.live--
    this.messages--
    this.bytes -= chunk.size[slot]
    if (chunk.live === 0) {
      this.dropChunk(chunk)
    } else if (
      chunk.offsets === undefined &&
      chunk.live < sparseThreshold &&
      chunk.number < Math.floor(this.lastSeq / chunkSize)
    ) {
      chunk.repack()
    }
    if (seq === this.firstSeq) this.firstSeq = this.messages === 0 ? this.lastSeq + 1 : this.nextLive(seq + 1)
  }

  remove(seq: number): boolean {
    const chunk = this.locate(seq)
    if (chunk === undefined) return false
    this.removeLocated(chunk, this.slot, seq)
    return true
  }

  /** Drops every entry; the next sequence will be at least `nextSeq`. */
  clear(nextSeq: number): void {
    this.chunks = []
    this.firstChunk = 0
    this.table.clear()
    this.messages = 0
    this.bytes = 0
    if (nextSeq - 1 > this.lastSeq) this.lastSeq = nextSeq - 1
    this.firstSeq = this.lastSeq + 1
  }

  /** Moves the last sequence forward (sequences skipped, e.g. by a compaction past the end). */
  advanceLastSeq(seq: number): void {
    if (seq <= this.lastSeq) return
    this.lastSeq = seq
    if (this.messages === 0) {
      this.chunks = []
      this.firstSeq = seq + 1
    }
  }

  /** The first live sequence ≥ from, or 0. */
  nextLive(from: number): number {
    return this.scan(from, undefined, undefined, 0)
  }

  /** The first live sequence ≥ from whose subject matches, or 0. */
  nextMatching(from: number, filter: SubjectFilter, verdicts: Uint8Array): number {
    return this.scan(from, filter, verdicts, 0)
  }

  /** The first live sequence ≥ from of a message with headers, or 0. */
  nextWithHeaders(from: number): number {
    if (from < this.firstSeq) from = this.firstSeq
    if (from > this.lastSeq || this.messages === 0) return 0
    const startIndex = Math.floor(from / chunkSize) - this.firstChunk
    for (let index = Math.max(0, startIndex); index < this.chunks.length; index++) {
      const chunk = this.chunks[index]
      if (chunk === undefined) continue
      const headers = chunk.headers
      const subject = chunk.subject
      for (let slot = index === startIndex ? chunk.slotFrom(from - chunk.base) : 0; slot < chunk.length; slot++) {
        if (headers[slot] === 1 && subject[slot] !== 0) return chunk.seqAt(slot)
      }
    }
    return 0
  }

  /** The first live sequence ≥ from on one subject, or 0. */
  nextOfSubject(subjectId: number, from: number): number {
    const table = this.table
    if (table.countOf(subjectId) === 0) return 0
    const first = table.firstOf(subjectId)
    if (from <= first) return first
    if (from > table.lastOf(subjectId)) return 0
    const chunk = this.locate(from - 1)
    if (chunk !== undefined && chunk.subject[this.slot] === subjectId) return chunk.next[this.slot]
    return this.scan(from, undefined, undefined, subjectId)
  }

  /** Live messages in [from, to] (matching `filter` when given). */
  count(from: number, to: number, filter: SubjectFilter | undefined, verdicts: Uint8Array | undefined): number {
    if (from < this.firstSeq) from = this.firstSeq
    if (to > this.lastSeq) to = this.lastSeq
    let total = 0
    const table = this.table
    for (let index = Math.max(0, Math.floor(from / chunkSize) - this.firstChunk); index < this.chunks.length; index++) {
      const chunk = this.chunks[index]
      if (chunk === undefined) continue
      const base = chunk.base
      if (base > to) break
      const subject = chunk.subject
      const limit = to - base >= chunkSize ? chunk.length : Math.min(chunk.length, chunk.slotFrom(to - base + 1))
      for (let slot = from > base ? chunk.slotFrom(from - base) : 0; slot < limit; slot++) {
        const id = subject[slot]
        if (id === 0) continue
        if (verdicts === undefined) total++
        else {
          let verdict = verdicts[id]
          if (verdict === unknownVerdict) verdict = table.resolve(filter!, verdicts, id)
          if (verdict === matchVerdict) total++
        }
      }
    }
    return total
  }

  /** Messages on one subject at or after `from`, walking its chain back from its last message. */
  countOfSubjectFrom(subjectId: number, from: number): number {
    let total = 0
    for (let seq = this.table.lastOf(subjectId); seq >= from && seq !== 0; total++) {
      const chunk = this.locate(seq)!
      seq = chunk.prev[this.slot]
    }
    return total
  }

  /** The last live sequence ≤ from, or 0. */
  previousLive(from: number): number {
    if (from > this.lastSeq) from = this.lastSeq
    for (let index = Math.floor(from / chunkSize) - this.firstChunk; index >= 0; index--) {
      if (index >= this.chunks.length) continue
      const chunk = this.chunks[index]
      if (chunk === undefined) continue
      const base = chunk.base
      let slot = from - base >= chunkSize ? chunk.length - 1 : chunk.slotFrom(from - base + 1) - 1
      if (slot >= chunk.length) slot = chunk.length - 1
      for (; slot >= 0; slot--) if (chunk.subject[slot] !== 0) return chunk.seqAt(slot)
    }
    return 0
  }

  /** The first live sequence whose timestamp is ≥ `timestamp`, or 0 (timestamps rise with sequences). */
  firstAtOrAfter(timestamp: number): number {
    for (const chunk of this.chunks) {
      if (chunk === undefined) continue
      let lastSlot = chunk.length - 1
      while (lastSlot >= 0 && chunk.subject[lastSlot] === 0) lastSlot--
      if (lastSlot < 0 || chunk.timestamp[lastSlot] < timestamp) continue
      for (let slot = 0; slot <= lastSlot; slot++) {
        if (chunk.subject[slot] !== 0 && chunk.timestamp[slot] >= timestamp) return chunk.seqAt(slot)
      }
    }
    return 0
  }

  /** Sequences in [firstSeq, lastSeq] with no message. */
  deletedSequences(): number[] {
    const deleted: number[] = []
    if (this.messages === 0) return deleted
    let expected = this.firstSeq
    for (let seq = this.nextLive(this.firstSeq); seq !== 0; seq = this.nextLive(seq + 1)) {
      while (expected < seq) deleted.push(expected++)
      expected = seq + 1
    }
    while (expected <= this.lastSeq) deleted.push(expected++)
    return deleted
  }

  /** The chunks, oldest first, for a checkpoint. */
  liveChunks(): Chunk[] {
    return this.chunks.filter((chunk): chunk is Chunk => chunk !== undefined)
  }

  /** Adds a chunk loaded from a checkpoint (in ascending order); call `rebuild` after the last. */
  restoreChunk(chunk: Chunk): void {
    if (this.chunks.length === 0) this.firstChunk = chunk.number
    while (this.firstChunk + this.chunks.length < chunk.number) this.chunks.push(undefined)
    this.chunks.push(chunk)
  }

  /** Recomputes counters, subject chains and per-subject state after `restoreChunk` calls. */
  rebuild(lastSeq: number, lastTimestamp: number): void {
    const table = this.table
    const lastChunkOf = new Int32Array(table.idLimit)
    const lastSlotOf = new Uint16Array(table.idLimit)
    this.messages = 0
    this.bytes = 0
    for (let index = 0; index < this.chunks.length; index++) {
      const chunk = this.chunks[index]
      if (chunk === undefined) continue
      chunk.live = 0
      for (let slot = 0; slot < chunk.length; slot++) {
        const id = chunk.subject[slot]
        if (id === 0) continue
        const seq = chunk.seqAt(slot)
        if (table.countOf(id) === 0) {
          table.setFirst(id, seq)
          chunk.prev[slot] = 0
        } else {
          this.chunks[lastChunkOf[id]]!.next[lastSlotOf[id]] = seq
          chunk.prev[slot] = table.lastOf(id)
        }
        chunk.next[slot] = 0
        table.setLast(id, seq)
        table.addToCount(id, 1)
        lastChunkOf[id] = index
        lastSlotOf[id] = slot
        chunk.live++
        if (this.messages === 0) this.firstSeq = seq
        this.messages++
        this.bytes += chunk.size[slot]
      }
    }
    this.lastSeq = lastSeq
    this.lastTimestamp = lastTimestamp
    if (this.messages === 0) this.firstSeq = lastSeq + 1
  }

  private scan(from: number, filter: SubjectFilter | undefined, verdicts: Uint8Array | undefined, subjectId: number): number {
    if (from < this.firstSeq) from = this.firstSeq
    if (from > this.lastSeq || this.messages === 0) return 0
    const table = this.table
    const startIndex = Math.floor(from / chunkSize) - this.firstChunk
    for (let index = Math.max(0, startIndex); index < this.chunks.length; index++) {
      const chunk = this.chunks[index]
      if (chunk === undefined) continue
      const subject = chunk.subject
      const length = chunk.length
      const startSlot = index === startIndex ? chunk.slotFrom(from - chunk.base) : 0
      if (verdicts !== undefined) {
        for (let slot = startSlot; slot < length; slot++) {
          const id = subject[slot]
          const verdict = verdicts[id]
          if (verdict === matchVerdict) return chunk.seqAt(slot)
          if (verdict === unknownVerdict && table.resolve(filter!, verdicts, id) === matchVerdict) return chunk.seqAt(slot)
        }
      } else if (subjectId !== 0) {
        for (let slot = startSlot; slot < length; slot++) if (subject[slot] === subjectId) return chunk.seqAt(slot)
      } else {
        for (let slot = startSlot; slot < length; slot++) if (subject[slot] !== 0) return chunk.seqAt(slot)
      }
    }
    return 0
  }

  private dropChunk(chunk: Chunk): void {
    const index = chunk.number - this.firstChunk
    this.chunks[index] = undefined
    if (index !== 0) return
    let leading = 0
    while (leading < this.chunks.length && this.chunks[leading] === undefined) leading++
    this.chunks.splice(0, leading)
    this.firstChunk += leading
  }
}

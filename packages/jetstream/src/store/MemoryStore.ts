import { grownArray } from "./grownArray.ts"
import { MessageIndex } from "./MessageIndex.ts"
import { type MessageStore, noLimits, type StoreLimits, type StoredMessage } from "./MessageStore.ts"
import { type PayloadStore, StoreEngine } from "./StoreEngine.ts"

export interface MemoryStoreOptions {
  readonly limits?: StoreLimits
}

const resolved = Promise.resolve()

/**
 * Message bytes are cut from shared slabs: a typed array of its own per message costs a
 * backing-store allocation and GC work that outweigh the rest of an append.
 */
const slabSize = 64 * 1024
/** A store's first slab; each next one doubles up to slabSize, so small streams stay small. */
const firstSlabSize = 1024
/** Larger messages get a buffer of their own, so a slab's unused tail stays small. */
const largestSlabMessage = slabSize / 8
/** The slab number of a message in a buffer of its own. */
const ownBuffer = -1
const firstSlotCapacity = 64

interface Slab {
  readonly bytes: Uint8Array
  used: number
  /** Bytes of messages still stored. */
  live: number
  /** The message slot of everything ever written here; some may since be freed or moved. */
  readonly slots: number[]
}

const newSlab = (size: number): Slab => ({ bytes: new Uint8Array(size), used: 0, live: 0, slots: [] })

/**
 * Keeps messages without a heap object per message, which the garbage collector would have to
 * trace and promote while the stream holds it: each message sits in a reusable slot of typed
 * arrays (the slot is its location in the index) and its bytes in a slab. Reads build the
 * StoredMessage as views over the kept bytes.
 */
class MemoryPayloads implements PayloadStore {
  readonly kind = "memory" as const
  readonly failure = undefined
  private lastWritten = 0
  private slabs: Array<Slab | undefined> = []
  private freeSlabNumbers: number[] = []
  private currentSlab = 0
  private capacity = firstSlotCapacity
  /** 0 in a free slot. */
  private seqs = new Float64Array(firstSlotCapacity)
  private timestamps = new Float64Array(firstSlotCapacity)
  private subjectIds = new Uint32Array(firstSlotCapacity)
  private slabNumbers = new Int32Array(firstSlotCapacity)
  private offsets = new Uint32Array(firstSlotCapacity)
  private headerLengths = new Int32Array(firstSlotCapacity)
  private lengths = new Uint32Array(firstSlotCapacity)
  /** Slots in use or free; the next new slot. */
  private slotLimit = 0
  private freeSlots: number[] = []
  private live = 0
  private readonly ownBuffers = new Map<number, Uint8Array>()
  /** Each subject id's name, kept once rather than per message. */
  private readonly subjectNames: string[] = []

  constructor() {
    this.slabs.push(newSlab(firstSlabSize))
  }

  /** nats-server's memory accounting: subject + headers + payload + 16. */
  messageSize(subjectLength: number, headersLength: number, dataLength: number): number {
    return subjectLength + headersLength + dataLength + 16
  }

  write(
    seq: number,
    subject: string,
    subjectId: number,
    _subjectBytes: Uint8Array,
    _subjectLength: number,
    headers: Uint8Array | undefined,
    data: Uint8Array,
    timestamp: number
  ): number {
    let slot: number
    if (this.freeSlots.length > 0) {
      slot = this.freeSlots.pop()!
    } else {
      if (this.slotLimit === this.capacity) this.grow(this.capacity * 2)
      slot = this.slotLimit++
    }
    if (this.subjectNames[subjectId] !== subject) this.subjectNames[subjectId] = subject
    this.timestamps[slot] = timestamp
    this.subjectIds[slot] = subjectId
    this.headerLengths[slot] = headers === undefined ? -1 : headers.length
    this.store(slot, headers, data)
    // Only now is the slot live: a compaction during store must not move its previous occupant's bytes.
    this.seqs[slot] = seq
    this.live++
    this.lastWritten = seq
    return slot
  }

  /** Copies a message's bytes (so the store never aliases a caller's socket buffer) and records where. */
  private store(slot: number, headers: Uint8Array | undefined, data: Uint8Array): void {
    const headersLength = headers === undefined ? 0 : headers.length
    const length = headersLength + data.length
    let bytes: Uint8Array
    let offset = 0
    if (length > largestSlabMessage) {
      bytes = new Uint8Array(length)
      this.ownBuffers.set(slot, bytes)
      this.slabNumbers[slot] = ownBuffer
    } else {
      let slab = this.slabs[this.currentSlab]!
      while (slab.used + length > slab.bytes.length) slab = this.rollSlab(length)
      bytes = slab.bytes
      offset = slab.used
      slab.used += length
      slab.live += length
      slab.slots.push(slot)
      this.slabNumbers[slot] = this.currentSlab
    }
    if (headers !== undefined) bytes.set(headers, offset)
    bytes.set(data, offset + headersLength)
    this.offsets[slot] = offset
    this.lengths[slot] = length
  }

  private bytesOf(slot: number): Uint8Array {
    const number = this.slabNumbers[slot]
    return number === ownBuffer ? this.ownBuffers.get(slot)! : this.slabs[number]!.bytes
  }

  read(seq: number, location: number): StoredMessage | undefined {
    if (location >= this.slotLimit || this.seqs[location] !== seq) return undefined
    const bytes = this.bytesOf(location)
    const start = this.offsets[location]
    const end = start + this.lengths[location]
    const headersLength = this.headerLengths[location]
    return {
      seq,
      subject: this.subjectNames[this.subjectIds[location]],
      headers: headersLength < 0 ? undefined : bytes.subarray(start, start + headersLength),
      data: bytes.subarray(headersLength < 0 ? start : start + headersLength, end),
      timestamp: this.timestamps[location]
    }
  }

  removed(seq: number, location: number, erase: boolean): void {
    if (location >= this.slotLimit || this.seqs[location] !== seq) return
    if (erase) {
      const start = this.offsets[location]
      this.bytesOf(location).fill(0, start, start + this.lengths[location])
    }
    const number = this.free(location)
    if (number !== ownBuffer && this.sparse(number)) this.compact(number)
  }

  removedRange(first: number, last: number): void {
    const sparse = new Set<number>()
    for (let slot = 0; slot < this.slotLimit; slot++) {
      const seq = this.seqs[slot]
      if (seq === 0 || seq < first || seq > last) continue
      const number = this.free(slot)
      if (number !== ownBuffer && this.sparse(number)) sparse.add(number)
    }
    if (this.live === 0) {
      this.reset()
      return
    }
    // Only after the whole range is gone, so no message about to be removed is moved first.
    for (const number of sparse) this.compact(number)
  }

  /** Frees a slot; returns the number of the slab its bytes were in. */
  private free(slot: number): number {
    const number = this.slabNumbers[slot]
    if (number === ownBuffer) this.ownBuffers.delete(slot)
    else this.slabs[number]!.live -= this.lengths[slot]
    this.seqs[slot] = 0
    this.freeSlots.push(slot)
    this.live--
    return number
  }

  /** True when a slab other than the current one is empty or mostly so, and should be compacted. */
  private sparse(number: number): boolean {
    const slab = this.slabs[number]!
    return number !== this.currentSlab && (slab.live === 0 || slab.live * 4 < slab.used)
  }

  /**
   * Starts a new current slab with room for `length` bytes; the full one is compacted into it at
   * once if removals already thinned it.
   */
  private rollSlab(length: number): Slab {
    const full = this.currentSlab
    const slab = newSlab(Math.max(length, Math.min(slabSize, this.slabs[full]!.bytes.length * 2)))
    if (this.freeSlabNumbers.length > 0) {
      this.currentSlab = this.freeSlabNumbers.pop()!
      this.slabs[this.currentSlab] = slab
    } else {
      this.currentSlab = this.slabs.length
      this.slabs.push(slab)
    }
    if (this.sparse(full)) this.compact(full)
    return this.slabs[this.currentSlab]!
  }

  /**
   * Moves a mostly empty slab's messages into the current one, so the few left cannot pin it:
   * memory stays within four times the stored bytes. Readers holding views of the old one keep them.
   */
  private compact(number: number): void {
    const slab = this.slabs[number]
    if (slab === undefined || number === this.currentSlab) return
    for (const slot of slab.slots) {
      if (this.seqs[slot] === 0 || this.slabNumbers[slot] !== number) continue
      const start = this.offsets[slot]
      const headersLength = this.headerLengths[slot]
      const message = slab.bytes.subarray(start, start + this.lengths[slot])
      if (headersLength < 0) this.store(slot, undefined, message)
      else this.store(slot, message.subarray(0, headersLength), message.subarray(headersLength))
    }
    this.slabs[number] = undefined
    this.freeSlabNumbers.push(number)
  }

  private grow(capacity: number): void {
    this.seqs = grownArray(this.seqs, capacity)
    this.timestamps = grownArray(this.timestamps, capacity)
    this.subjectIds = grownArray(this.subjectIds, capacity)
    this.slabNumbers = grownArray(this.slabNumbers, capacity)
    this.offsets = grownArray(this.offsets, capacity)
    this.headerLengths = grownArray(this.headerLengths, capacity)
    this.lengths = grownArray(this.lengths, capacity)
    this.capacity = capacity
  }

  /** Back to an empty store, letting go of every slab and slot. */
  private reset(): void {
    this.slabs = [newSlab(firstSlabSize)]
    this.freeSlabNumbers = []
    this.currentSlab = 0
    this.capacity = firstSlotCapacity
    this.seqs = new Float64Array(firstSlotCapacity)
    this.timestamps = new Float64Array(firstSlotCapacity)
    this.subjectIds = new Uint32Array(firstSlotCapacity)
    this.slabNumbers = new Int32Array(firstSlotCapacity)
    this.offsets = new Uint32Array(firstSlotCapacity)
    this.headerLengths = new Int32Array(firstSlotCapacity)
    this.lengths = new Uint32Array(firstSlotCapacity)
    this.slotLimit = 0
    this.freeSlots = []
    this.live = 0
    this.ownBuffers.clear()
  }

  durableSeq(): number {
    return this.lastWritten
  }

  /** Every append is durable before it returns: there is never anything to tell. */
  setDurabilityListener(): void {}

  flush(): Promise<void> {
    return resolved
  }

  close(): Promise<void> {
    this.reset()
    return resolved
  }
}

/** A store that keeps everything in memory (stream `storage: "memory"`). */
export const openMemoryStore = (options: MemoryStoreOptions = {}): MessageStore =>
  new StoreEngine(new MessageIndex(), new MemoryPayloads(), options.limits ?? noLimits)

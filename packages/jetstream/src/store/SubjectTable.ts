import type { SubjectFilter } from "./SubjectFilter.ts"

/** Verdict of a filter for a subject id: not yet computed, matches, does not match. */
export const unknownVerdict = 0
export const matchVerdict = 1
export const noMatchVerdict = 2

const verdictCacheLimit = 64
/** Per-id data lives in pages of this many ids (the first page grows up to it). */
const idPageBits = 14
const idPageSize = 1 << idPageBits
const idPageMask = idPageSize - 1
const firstIdPageSize = 64
/** Subject names live in pages of this many bytes (the first page grows up to it); a name never spans two. */
const namePageBits = 20
const namePageSize = 1 << namePageBits
const nameOffsetMask = namePageSize - 1

const hashBytes = (bytes: Uint8Array, start: number, length: number): number => {
  let hash = 0x811c9dc5
  for (let index = start; index < start + length; index++) {
    hash ^= bytes[index]
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

/** Per-id state for up to `idPageSize` consecutive ids. */
class IdPage {
  /** Name page number << namePageBits | offset in that page. */
  nameStart: Uint32Array
  nameLength: Uint16Array
  count: Uint32Array
  first: Float64Array
  last: Float64Array

  constructor(size: number, from?: IdPage) {
    this.nameStart = new Uint32Array(size)
    this.nameLength = new Uint16Array(size)
    this.count = new Uint32Array(size)
    this.first = new Float64Array(size)
    this.last = new Float64Array(size)
    if (from !== undefined) {
      this.nameStart.set(from.nameStart)
      this.nameLength.set(from.nameLength)
      this.count.set(from.count)
      this.first.set(from.first)
      this.last.set(from.last)
    }
  }

  get size(): number {
    return this.count.length
  }

  get footprint(): number {
    return this.size * 26
  }
}

/**
 * Interns the distinct subjects of a stream as small integer ids and keeps, per id, the message
 * count and the first and last sequence. Names live in paged byte arenas, per-id state in pages of
 * typed arrays (so growing never copies big arrays), and the hash table is open addressing over a
 * typed array: about 60–70 bytes per subject and no heap objects. Id 0 is never a subject (the
 * message index uses it for "no message").
 */
export class SubjectTable {
  /** Scratch space the caller encodes a subject into before `lookup`/`intern`. */
  scratch: Buffer = Buffer.allocUnsafe(1024)
  /** Number of subjects that currently have messages. */
  live = 0

  private idPages: IdPage[] = [new IdPage(firstIdPageSize)]
  private capacity = firstIdPageSize
  private namePages: Buffer[] = [Buffer.allocUnsafe(4096)]
  /** Bytes used in the last name page. */
  private namePageUsed = 0
  private nameBytesUsed = 0
  private nameBytesGarbage = 0
  private slots = new Uint32Array(firstIdPageSize * 2)
  private freeIds: number[] = []
  private nextId = 1
  private readonly verdictCache = new Map<string, Uint8Array>()

  /** One past the highest id ever handed out; ids below it are live or free. */
  get idLimit(): number {
    return this.nextId
  }

  countOf(id: number): number {
    return this.idPages[id >>> idPageBits].count[id & idPageMask]
  }

  /** The first sequence of the subject's messages (0 when it has none). */
  firstOf(id: number): number {
    return this.idPages[id >>> idPageBits].first[id & idPageMask]
  }

  lastOf(id: number): number {
    return this.idPages[id >>> idPageBits].last[id & idPageMask]
  }

  setFirst(id: number, seq: number): void {
    this.idPages[id >>> idPageBits].first[id & idPageMask] = seq
  }

  setLast(id: number, seq: number): void {
    this.idPages[id >>> idPageBits].last[id & idPageMask] = seq
  }

  /** Adjusts the message count; returns the new count. */
  addToCount(id: number, delta: number): number {
    const page = this.idPages[id >>> idPageBits]
    return (page.count[id & idPageMask] += delta)
  }

  /** Encodes `subject` as UTF-8 into `scratch` and returns its byte length. */
  encode(subject: string): number {
    const length = subject.length
    if (length * 3 > this.scratch.length) this.scratch = Buffer.allocUnsafe(length * 3 + 64)
    const scratch = this.scratch
    for (let index = 0; index < length; index++) {
      const code = subject.charCodeAt(index)
      if (code > 0x7f) return scratch.write(subject, 0, "utf8")
      scratch[index] = code
    }
    return length
  }

  /** The id of an existing subject, or 0. */
  idOf(subject: string): number {
    return this.lookup(this.scratch, 0, this.encode(subject))
  }

  private lookup(bytes: Uint8Array, start: number, length: number): number {
    const mask = this.slots.length - 1
    for (let slot = hashBytes(bytes, start, length) & mask; ; slot = (slot + 1) & mask) {
      const id = this.slots[slot]
      if (id === 0) return 0
      const page = this.idPages[id >>> idPageBits]
      if (page.nameLength[id & idPageMask] === length && this.sameName(page.nameStart[id & idPageMask], length, bytes, start)) {
        return id
      }
    }
  }

  /** The id of the subject, adding it if new. */
  intern(bytes: Uint8Array, start: number, length: number): number {
    const existing = this.lookup(bytes, start, length)
    if (existing !== 0) return existing
    const id = this.freeIds.length > 0 ? this.freeIds.pop()! : this.nextId++
    this.add(id, bytes, start, length)
    return id
  }

  /** Re-adds a subject under a known id, when loading a checkpoint. */
  restore(id: number, bytes: Uint8Array, start: number, length: number): void {
    if (id >= this.nextId) this.nextId = id + 1
    this.add(id, bytes, start, length)
  }

  /** After `restore` calls: makes every id below `idLimit` that got no subject reusable. */
  finishRestore(idLimit: number): void {
    if (idLimit > this.nextId) {
      this.ensureCapacity(idLimit)
      this.nextId = idLimit
    }
    this.freeIds = []
    for (let id = this.nextId - 1; id >= 1; id--) if (!this.isLive(id)) this.freeIds.push(id)
  }

  /** Forgets a subject that no longer has messages; its id may be handed out again. */
  release(id: number): void {
    const mask = this.slots.length - 1
    let slot = this.hashOf(id) & mask
    while (this.slots[slot] !== id) slot = (slot + 1) & mask
    this.removeSlot(slot)
    const page = this.idPages[id >>> idPageBits]
    const offset = id & idPageMask
    this.nameBytesGarbage += page.nameLength[offset]
    page.nameLength[offset] = 0
    page.count[offset] = 0
    page.first[offset] = 0
    page.last[offset] = 0
    this.freeIds.push(id)
    this.live--
    for (const verdicts of this.verdictCache.values()) if (id < verdicts.length) verdicts[id] = unknownVerdict
    if (this.nameBytesGarbage > namePageSize && this.nameBytesGarbage > this.nameBytesUsed / 2) this.compactNames()
  }

  /** Forgets every subject. */
  clear(): void {
    this.idPages = [new IdPage(firstIdPageSize)]
    this.capacity = firstIdPageSize
    this.namePages = [Buffer.allocUnsafe(4096)]
    this.namePageUsed = 0
    this.nameBytesUsed = 0
    this.nameBytesGarbage = 0
    this.slots = new Uint32Array(firstIdPageSize * 2)
    this.freeIds = []
    this.nextId = 1
    this.live = 0
    this.verdictCache.clear()
  }

  name(id: number): string {
    const address = this.idPages[id >>> idPageBits].nameStart[id & idPageMask]
    const start = address & nameOffsetMask
    return this.namePages[address >>> namePageBits].toString("utf8", start, start + this.nameLengthOf(id))
  }

  /** The UTF-8 bytes of a subject (a view into the arena, valid until the next change). */
  nameBytes(id: number): Uint8Array {
    const address = this.idPages[id >>> idPageBits].nameStart[id & idPageMask]
    const start = address & nameOffsetMask
    return this.namePages[address >>> namePageBits].subarray(start, start + this.nameLengthOf(id))
  }

  private isLive(id: number): boolean {
    return this.nameLengthOf(id) !== 0
  }

  /**
   * Per-id verdicts of `filter`, filled lazily: read `verdicts[id]` and call `resolve` when it is
   * `unknownVerdict`. Index 0 is always `noMatchVerdict`.
   */
  verdicts(filter: SubjectFilter): Uint8Array {
    let verdicts = this.verdictCache.get(filter.key)
    if (verdicts === undefined || verdicts.length < this.capacity) {
      const grown = new Uint8Array(this.capacity)
      if (verdicts !== undefined) grown.set(verdicts)
      grown[0] = noMatchVerdict
      verdicts = grown
      this.verdictCache.delete(filter.key)
      if (this.verdictCache.size >= verdictCacheLimit) {
        this.verdictCache.delete(this.verdictCache.keys().next().value!)
      }
      this.verdictCache.set(filter.key, verdicts)
    }
    return verdicts
  }

  resolve(filter: SubjectFilter, verdicts: Uint8Array, id: number): number {
    const address = this.idPages[id >>> idPageBits].nameStart[id & idPageMask]
    const start = address & nameOffsetMask
    const page = this.namePages[address >>> namePageBits]
    const verdict = filter.matchesBytes(page, start, start + this.nameLengthOf(id)) ? matchVerdict : noMatchVerdict
    verdicts[id] = verdict
    return verdict
  }

  /** Bytes held by the table's arrays, for memory accounting. */
  get footprint(): number {
    let total = this.slots.byteLength
    for (const page of this.namePages) total += page.length
    for (const page of this.idPages) total += page.footprint
    return total
  }

  private nameLengthOf(id: number): number {
    return this.idPages[id >>> idPageBits].nameLength[id & idPageMask]
  }

  private hashOf(id: number): number {
    const address = this.idPages[id >>> idPageBits].nameStart[id & idPageMask]
    return hashBytes(this.namePages[address >>> namePageBits], address & nameOffsetMask, this.nameLengthOf(id))
  }

  private sameName(address: number, length: number, bytes: Uint8Array, start: number): boolean {
    const page = this.namePages[address >>> namePageBits]
    const nameStart = address & nameOffsetMask
    // From the end: subjects of one stream tend to share their leading tokens.
    for (let index = length - 1; index >= 0; index--) {
      if (page[nameStart + index] !== bytes[start + index]) return false
    }
    return true
  }

  private add(id: number, bytes: Uint8Array, start: number, length: number): void {
    if (length === 0 || length > 0xffff) throw new Error(`subject length ${length} out of range`)
    this.ensureCapacity(id + 1)
    const page = this.idPages[id >>> idPageBits]
    page.nameStart[id & idPageMask] = this.storeName(bytes, start, length)
    page.nameLength[id & idPageMask] = length
    this.live++
    if (this.live * 2 > this.slots.length) this.rehash(this.slots.length * 2)
    else this.placeSlot(id, hashBytes(bytes, start, length))
    for (const verdicts of this.verdictCache.values()) if (id < verdicts.length) verdicts[id] = unknownVerdict
  }

  /** Copies a name into the arena; returns its page-and-offset address. */
  private storeName(bytes: Uint8Array, start: number, length: number): number {
    let page = this.namePages[this.namePages.length - 1]
    if (this.namePageUsed + length > page.length) {
      if (page.length < namePageSize && this.namePages.length === 1) {
        let size = page.length * 2
        while (size < this.namePageUsed + length) size *= 2
        const grown = Buffer.allocUnsafe(Math.min(size, namePageSize))
        page.copy(grown, 0, 0, this.namePageUsed)
        this.namePages[0] = grown
        page = grown
      }
      if (this.namePageUsed + length > page.length) {
        page = Buffer.allocUnsafe(namePageSize)
        this.namePages.push(page)
        this.namePageUsed = 0
      }
    }
    page.set(bytes.subarray(start, start + length), this.namePageUsed)
    const address = ((this.namePages.length - 1) << namePageBits) | this.namePageUsed
    this.namePageUsed += length
    this.nameBytesUsed += length
    return address >>> 0
  }

  private placeSlot(id: number, hash: number): void {
    const mask = this.slots.length - 1
    let slot = hash & mask
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask
    this.slots[slot] = id
  }

  /** Linear-probing delete by backward shift, so lookups never need tombstones. */
  private removeSlot(slot: number): void {
    const slots = this.slots
    const mask = slots.length - 1
    let hole = slot
    slots[hole] = 0
    for (let probe = (hole + 1) & mask; slots[probe] !== 0; probe = (probe + 1) & mask) {
      const home = this.hashOf(slots[probe]) & mask
      const stays = hole <= probe ? home > hole && home <= probe : home > hole || home <= probe
      if (!stays) {
        slots[hole] = slots[probe]
        slots[probe] = 0
        hole = probe
      }
    }
  }

  private rehash(size: number): void {
    this.slots = new Uint32Array(size)
    for (let id = 1; id < this.nextId; id++) if (this.isLive(id)) this.placeSlot(id, this.hashOf(id))
  }

  private ensureCapacity(needed: number): void {
    while (this.capacity < needed) {
      const lastPage = this.idPages[this.idPages.length - 1]
      if (lastPage.size < idPageSize) {
        this.idPages[this.idPages.length - 1] = new IdPage(lastPage.size * 2, lastPage)
        this.capacity += lastPage.size
      } else {
        this.idPages.push(new IdPage(idPageSize))
        this.capacity += idPageSize
      }
    }
  }

  private compactNames(): void {
    const names: Array<[number, Uint8Array]> = []
    for (let id = 1; id < this.nextId; id++) if (this.isLive(id)) names.push([id, this.nameBytes(id).slice()])
    this.namePages = [Buffer.allocUnsafe(4096)]
    this.namePageUsed = 0
    this.nameBytesUsed = 0
    this.nameBytesGarbage = 0
    for (const [id, name] of names) this.idPages[id >>> idPageBits].nameStart[id & idPageMask] = this.storeName(name, 0, name.length)
  }
}

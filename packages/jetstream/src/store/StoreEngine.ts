import { MessageIndex } from "./MessageIndex.ts"
import {
  type AppendRejection,
  type AppendResult,
  appendRejectionText,
  type DurabilityListener,
  type MessageStore,
  type PurgeRequest,
  type ReadMode,
  type Rejected,
  type StoreLimits,
  type StoredMessage,
  type StoreState
} from "./MessageStore.ts"
import { compileFilter, type FilterInput, type SubjectFilter } from "./SubjectFilter.ts"
import { matchVerdict, unknownVerdict } from "./SubjectTable.ts"
import { timerDelay } from "./timerDelay.ts"

/** Where a store keeps message bytes: in memory, or in the segmented log. */
export interface PayloadStore {
  readonly kind: "memory" | "file"
  /** Set once the store cannot write any more (an I/O error); appends are then refused. */
  readonly failure: Error | undefined
  /** The size nats-server accounts for a message in this kind of store. */
  messageSize(subjectLength: number, headersLength: number, dataLength: number): number
  /** Stores a message; returns its location (meaning is up to the payload store). */
  write(
    seq: number,
    subject: string,
    /** The subject's id in the index's SubjectTable. */
    subjectId: number,
    subjectBytes: Uint8Array,
    subjectLength: number,
    headers: Uint8Array | undefined,
    data: Uint8Array,
    timestamp: number
  ): number
  read(seq: number, location: number, mode: ReadMode): StoredMessage | undefined
  removed(seq: number, location: number, erase: boolean): void
  /** Every message in [first, last] is gone (purge, compaction). */
  removedRange(first: number, last: number): void
  /** See MessageStore.durableSeq. */
  durableSeq(): number
  setDurabilityListener(listener: DurabilityListener | undefined): void
  flush(): Promise<void>
  close(): Promise<void>
}

const resolved = Promise.resolve()

/** Nanoseconds since the Unix epoch, as a float64. */
export const currentTimestamp = (): number => Math.round((performance.timeOrigin + performance.now()) * 1e6)

const rejection = (reason: AppendRejection): Rejected => ({ ok: false, reason, description: appendRejectionText[reason] })

/**
 * The behaviour both stores share — sequences, limits, purge, scans, counts — over a MessageIndex
 * and a PayloadStore that holds the bytes.
 */
export class StoreEngine implements MessageStore {
  readonly kind: "memory" | "file"
  protected readonly index: MessageIndex
  protected readonly payloads: PayloadStore
  protected closed = false
  private currentLimits: StoreLimits
  private ageTimer: ReturnType<typeof setTimeout> | undefined = undefined

  constructor(index: MessageIndex, payloads: PayloadStore, limits: StoreLimits) {
    this.index = index
    this.payloads = payloads
    this.kind = payloads.kind
    this.currentLimits = limits
  }

  get limits(): StoreLimits {
    return this.currentLimits
  }

  append(subject: string, headers: Uint8Array | undefined, data: Uint8Array, timestamp?: number): AppendResult {
    if (this.closed) return rejection("storeClosed")
    if (this.payloads.failure !== undefined) return rejection("storeFailed")
    const limits = this.currentLimits
    const headersLength = headers === undefined ? 0 : headers.length
    if (limits.maxMsgSize > 0 && headersLength + data.length > limits.maxMsgSize) return rejection("maxMsgSize")
    const index = this.index
    const table = index.table
    const subjectLength = table.encode(subject)
    const subjectId = table.intern(table.scratch, 0, subjectLength)
    const size = this.payloads.messageSize(subjectLength, headersLength, data.length)
    if (limits.discard === "new") {
      const refused = this.refusedByDiscardNew(subjectId, headersLength + data.length)
      if (refused !== undefined) {
        if (table.countOf(subjectId) === 0) table.release(subjectId)
        return rejection(refused)
      }
    }
    const seq = index.lastSeq + 1
    const stamp = timestamp ?? currentTimestamp()
    const location = this.payloads.write(seq, subject, subjectId, table.scratch, subjectLength, headers, data, stamp)
    index.add(seq, subjectId, stamp, size, location, headers !== undefined)
    this.enforceCountLimits(subjectId)
    if (limits.maxAgeMs > 0 && this.ageTimer === undefined) this.armAgeTimer()
    return { ok: true, seq, timestamp: stamp }
  }

  get(seq: number, mode: ReadMode = "copy"): StoredMessage | undefined {
    const chunk = this.index.locate(seq)
    if (chunk === undefined) return undefined
    return this.payloads.read(seq, chunk.location[this.index.slot], mode)
  }

  nextMatchingSeq(fromSeq: number, filter?: FilterInput): number | undefined {
    const seq = this.findNext(fromSeq, compileFilter(filter))
    return seq === 0 ? undefined : seq
  }

  nextSeqWithHeaders(fromSeq: number): number | undefined {
    const seq = this.index.nextWithHeaders(fromSeq)
    return seq === 0 ? undefined : seq
  }

  nextMatching(fromSeq: number, filter?: FilterInput, mode: ReadMode = "copy"): StoredMessage | undefined {
    const compiled = compileFilter(filter)
    for (let seq = this.findNext(fromSeq, compiled); seq !== 0; seq = this.findNext(seq + 1, compiled)) {
      const message = this.get(seq, mode)
      if (message !== undefined) return message
    }
    return undefined
  }

  lastSeqBySubject(filter: FilterInput): number {
    const index = this.index
    const table = index.table
    if (index.messages === 0) return 0
    // One literal subject (every KV get): a table lookup, without compiling a filter per call.
    if (typeof filter === "string" && filter !== "" && filter.indexOf("*") < 0 && filter.indexOf(">") < 0) {
      const id = table.idOf(filter)
      return id === 0 ? 0 : table.lastOf(id)
    }
    const compiled = compileFilter(filter)
    if (compiled.matchesAll) return index.previousLive(index.lastSeq)
    let last = 0
    if (compiled.literals !== undefined) {
      for (const literal of compiled.literals) {
        const id = table.idOf(literal)
        if (id !== 0 && table.lastOf(id) > last) last = table.lastOf(id)
      }
      return last
    }
    this.forEachMatchingSubject(compiled, (id) => {
      if (table.lastOf(id) > last) last = table.lastOf(id)
    })
    return last
  }

  lastBySubject(filter: FilterInput, mode: ReadMode = "copy"): StoredMessage | undefined {
    const seq = this.lastSeqBySubject(filter)
    return seq === 0 ? undefined : this.get(seq, mode)
  }

  lastSeqsBySubject(filter?: FilterInput): number[] {
    const table = this.index.table
    const sequences: number[] = []
    this.forEachMatchingSubject(compileFilter(filter), (id) => sequences.push(table.lastOf(id)))
    return sequences.sort((left, right) => left - right)
  }

  firstSeqAtOrAfter(timestamp: number): number | undefined {
    const seq = this.index.firstAtOrAfter(timestamp)
    return seq === 0 ? undefined : seq
  }

  delete(seq: number, options?: { readonly erase?: boolean }): boolean {
    if (this.closed) return false
    return this.removeMessage(seq, options?.erase === true)
  }

  purge(request: PurgeRequest = {}): number {
    if (this.closed) return 0
    const index = this.index
    const filter = compileFilter(request.subject)
    const upToSeq = request.upToSeq ?? 0
    const keep = request.keep ?? 0
    if (filter.matchesAll) {
      if (upToSeq > 1) return this.compact(upToSeq)
      if (keep > 0) {
        let excess = index.messages - keep
        let purged = 0
        while (excess-- > 0 && this.removeMessage(index.firstSeq, false)) purged++
        return purged
      }
      return this.compact(index.lastSeq + 1)
    }
    let toRemove = this.numPending(index.firstSeq, filter)
    if (keep > 0) toRemove = Math.max(0, toRemove - keep)
    const bound = upToSeq > 1 ? upToSeq - 1 : index.lastSeq
    let purged = 0
    for (let seq = this.findNext(index.firstSeq, filter); seq !== 0 && seq <= bound && purged < toRemove; ) {
      const next = this.findNext(seq + 1, filter)
      if (this.removeMessage(seq, false)) purged++
      seq = next
    }
    return purged
  }

  compact(seq: number): number {
    if (this.closed) return 0
    const index = this.index
    if (seq <= index.firstSeq && seq <= index.lastSeq + 1) return 0
    const purged = index.messages
    const firstRemoved = index.firstSeq
    if (seq > index.lastSeq) {
      index.clear(seq)
      this.payloads.removedRange(firstRemoved, seq - 1)
      return purged
    }
    let removed = 0
    for (let current = index.firstSeq; current < seq && index.messages > 0; current = index.firstSeq) {
      index.remove(current)
      removed++
    }
    this.payloads.removedRange(firstRemoved, seq - 1)
    return removed
  }

  subjectsState(filter?: FilterInput): Map<string, number> {
    const compiled = compileFilter(filter)
    const table = this.index.table
    const counts = new Map<string, number>()
    if (compiled.literals !== undefined) {
      for (const literal of compiled.literals) {
        const id = table.idOf(literal)
        if (id !== 0) counts.set(literal, table.countOf(id))
      }
      return counts
    }
    this.forEachMatchingSubject(compiled, (id) => counts.set(table.name(id), table.countOf(id)))
    return counts
  }

  numPending(fromSeq: number, filter?: FilterInput, lastPerSubject = false): number {
    const index = this.index
    const table = index.table
    const from = Math.max(fromSeq, index.firstSeq)
    if (from > index.lastSeq || index.messages === 0) return 0
    const compiled = compileFilter(filter)
    if (lastPerSubject) {
      let subjects = 0
      this.forEachMatchingSubject(compiled, (id) => {
        if (table.lastOf(id) >= from) subjects++
      })
      return subjects
    }
    if (compiled.matchesAll) {
      if (from <= index.firstSeq) return index.messages
      if (index.lastSeq - from < from - index.firstSeq) return index.count(from, index.lastSeq, undefined, undefined)
      return index.messages - index.count(index.firstSeq, from - 1, undefined, undefined)
    }
    if (compiled.literals !== undefined) {
      let total = 0
      for (const literal of compiled.literals) {
        const id = table.idOf(literal)
        if (id === 0 || table.lastOf(id) < from) continue
        if (from <= table.firstOf(id)) total += table.countOf(id)
        else total += index.countOfSubjectFrom(id, from)
      }
      return total
    }
    const verdicts = table.verdicts(compiled)
    if (index.lastSeq - from < from - index.firstSeq) return index.count(from, index.lastSeq, compiled, verdicts)
    let total = 0
    this.forEachMatchingSubject(compiled, (id) => {
      total += table.countOf(id)
    })
    return total - index.count(index.firstSeq, from - 1, compiled, verdicts)
  }

  state(): StoreState {
    const index = this.index
    const empty = index.messages === 0
    return {
      messages: index.messages,
      bytes: index.bytes,
      firstSeq: index.lastSeq === 0 && empty ? 0 : index.firstSeq,
      firstTs: empty ? 0 : index.timestampOf(index.firstSeq),
      lastSeq: index.lastSeq,
      lastTs: index.lastTimestamp,
      numSubjects: index.table.live,
      numDeleted: empty ? 0 : index.lastSeq - index.firstSeq + 1 - index.messages
    }
  }

  deletedSequences(): number[] {
    return this.index.deletedSequences()
  }

  updateLimits(limits: StoreLimits): void {
    this.currentLimits = limits
    if (this.closed) return
    const table = this.index.table
    if (limits.maxMsgsPerSubject > 0) {
      for (let id = 1; id < table.idLimit; id++) {
        while (table.countOf(id) > limits.maxMsgsPerSubject) this.removeMessage(table.firstOf(id), false)
      }
    }
    this.enforceCountLimits(0)
    if (this.ageTimer !== undefined) clearTimeout(this.ageTimer)
    this.ageTimer = undefined
    this.expireOld()
  }

  durableSeq(): number {
    return this.payloads.durableSeq()
  }

  setDurabilityListener(listener: DurabilityListener | undefined): void {
    this.payloads.setDurabilityListener(listener)
  }

  flush(): Promise<void> {
    return this.closed ? resolved : this.payloads.flush()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.ageTimer !== undefined) clearTimeout(this.ageTimer)
    this.ageTimer = undefined
    await this.payloads.close()
  }

  /** Drops whatever the limits no longer allow; used after recovery too. */
  protected enforceAllLimits(): void {
    this.updateLimits(this.currentLimits)
  }

  private findNext(fromSeq: number, filter: SubjectFilter): number {
    const index = this.index
    if (filter.matchesAll) return index.nextLive(fromSeq)
    const table = index.table
    const literals = filter.literals
    if (literals !== undefined && literals.length <= 8) {
      let best = 0
      for (const literal of literals) {
        const id = table.idOf(literal)
        if (id === 0) continue
        const seq = index.nextOfSubject(id, fromSeq)
        if (seq !== 0 && (best === 0 || seq < best)) best = seq
      }
      return best
    }
    return index.nextMatching(fromSeq, filter, table.verdicts(filter))
  }

  private forEachMatchingSubject(filter: SubjectFilter, visit: (id: number) => void): void {
    const table = this.index.table
    const verdicts = filter.matchesAll ? undefined : table.verdicts(filter)
    for (let id = 1; id < table.idLimit; id++) {
      if (table.countOf(id) === 0) continue
      if (verdicts !== undefined) {
        let verdict = verdicts[id]
        if (verdict === unknownVerdict) verdict = table.resolve(filter, verdicts, id)
        if (verdict !== matchVerdict) continue
      }
      visit(id)
    }
  }

  private removeMessage(seq: number, erase: boolean): boolean {
    const index = this.index
    const chunk = index.locate(seq)
    if (chunk === undefined) return false
    const slot = index.slot
    const location = chunk.location[slot]
    index.removeLocated(chunk, slot, seq)
    this.payloads.removed(seq, location, erase)
    return true
  }

  /**
   * nats-server 2.9's discard-new rules: a message that replaces one at the subject limit is let in.
   * Its max_bytes test weighs only the new message's headers and payload (not its accounted size),
   * so a stream can fill up to max_bytes and then trims its oldest messages as under discard old.
   */
  private refusedByDiscardNew(subjectId: number, length: number): AppendRejection | undefined {
    const limits = this.currentLimits
    const index = this.index
    const table = index.table
    const atSubjectLimit = limits.maxMsgsPerSubject > 0 && table.countOf(subjectId) >= limits.maxMsgsPerSubject
    if (atSubjectLimit && limits.discardNewPerSubject) return "maxMsgsPerSubject"
    if (limits.maxMsgs > 0 && index.messages >= limits.maxMsgs && !atSubjectLimit) return "maxMsgs"
    if (limits.maxBytes > 0 && index.bytes + length >= limits.maxBytes) {
      if (!atSubjectLimit) return "maxBytes"
      const oldest = index.locate(table.firstOf(subjectId))
      if (oldest === undefined) return "maxBytes"
      // The replaced message's accounted size against the new one's length: the file store refuses a tie, the memory store does not.
      const oldestSize = oldest.size[index.slot]
      if (this.kind === "file" ? oldestSize <= length : oldestSize < length) return "maxBytes"
    }
    return undefined
  }

  private enforceCountLimits(subjectId: number): void {
    const limits = this.currentLimits
    const index = this.index
    const table = index.table
    if (subjectId !== 0 && limits.maxMsgsPerSubject > 0) {
      while (table.countOf(subjectId) > limits.maxMsgsPerSubject) this.removeMessage(table.firstOf(subjectId), false)
    }
    if (limits.maxMsgs > 0) while (index.messages > limits.maxMsgs) this.removeMessage(index.firstSeq, false)
    if (limits.maxBytes > 0) while (index.bytes > limits.maxBytes) this.removeMessage(index.firstSeq, false)
  }

  private expireOld(): void {
    const maxAge = this.currentLimits.maxAgeMs
    if (maxAge <= 0 || this.closed) return
    const index = this.index
    const cutoff = (Date.now() - maxAge) * 1e6
    while (index.messages > 0 && index.timestampOf(index.firstSeq) <= cutoff) this.removeMessage(index.firstSeq, false)
    this.armAgeTimer()
  }

  private armAgeTimer(): void {
    const index = this.index
    if (this.ageTimer !== undefined || index.messages === 0 || this.currentLimits.maxAgeMs <= 0) return
    const expiresAt = index.timestampOf(index.firstSeq) / 1e6 + this.currentLimits.maxAgeMs
    this.ageTimer = setTimeout(
      () => {
        this.ageTimer = undefined
        this.expireOld()
      },
      timerDelay(Math.ceil(expiresAt - Date.now()))
    )
    this.ageTimer.unref()
  }
}

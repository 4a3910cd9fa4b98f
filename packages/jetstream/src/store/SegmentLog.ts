import { join } from "node:path"
import type { Disk, DiskFile } from "./Disk.ts"
import {
  checkRecord,
  messageHeaderSize,
  messageKind,
  messageRecordLength,
  readMessageRecord,
  recordKind,
  recordLength,
  recordSeq,
  removalRecordLength,
  segmentHeader,
  segmentHeaderSize,
  writeMessageRecord,
  writeRemovalRecord
} from "./LogRecord.ts"
import type { MessageIndex } from "./MessageIndex.ts"
import type { DurabilityListener, ReadMode, StoredMessage } from "./MessageStore.ts"
import type { PayloadStore } from "./StoreEngine.ts"

/** When an append is acknowledged: after an fdatasync covers it, after its write, or the same with no periodic sync. */
export type SyncPolicy = "always" | "interval" | "never"

/** One segment file of the log. */
export interface Segment {
  readonly id: number
  readonly path: string
  readonly file: DiskFile
  /** Bytes written to the file; bytes still pending in memory are not counted. */
  size: number
  /** Lowest and highest message sequence in the segment; 0 when it holds none. */
  minSeq: number
  maxSeq: number
}

export const segmentFileName = (id: number): string => `${String(id).padStart(12, "0")}.seg`

export const segmentIdOf = (name: string): number | undefined => {
  const match = /^(\d{12})\.seg$/.exec(name)
  return match === null ? undefined : Number(match[1])
}

/** nats-server's file-store accounting for a message. */
export const fileMessageSize = (subjectLength: number, headersLength: number, dataLength: number): number =>
  headersLength === 0 ? 22 + subjectLength + dataLength + 8 : 22 + subjectLength + 4 + headersLength + dataLength + 8

/** A caller of syncNow, waiting for the sync that covers what was written before its call. */
interface SyncWaiter {
  readonly promise: Promise<void>
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
}

const newSyncWaiter = (): SyncWaiter => {
  let resolve!: () => void
  let reject!: (error: unknown) => void
  const promise = new Promise<void>((onResolve, onReject) => {
    resolve = onResolve
    reject = onReject
  })
  return { promise, resolve, reject }
}

/** Recently read stretches of segment files, shared by every store in the process. */
interface ReadWindow {
  segment: Segment | undefined
  start: number
  length: number
  buffer: Buffer
}

const windowSize = 256 * 1024
const windows: ReadWindow[] = Array.from({ length: 16 }, () => ({
  segment: undefined,
  start: 0,
  length: 0,
  buffer: Buffer.alloc(0)
}))
let nextWindow = 0
/** The window the last read used. */
let lastWindow: ReadWindow | undefined = undefined

/** Pending bytes beyond which a batch is written at once instead of when its appends are done. */
const eagerFlushBytes = 1 << 20
/**
 * Under sync "interval" and "never" an append is acknowledged once written, so a burst is written
 * every this many appends rather than only at its end: the broker flushes replies every 16 requests
 * of a read, and each such flush then carries the acks of the appends before it.
 */
const appendsPerWrite = 16
/**
 * Under sync "always", batches up to this size are written into zeros laid down ahead of the log's
 * end: an fdatasync that does not change the file's size needs no journal commit (about a third
 * of its cost on ext4). Bigger batches, where the commit is a small share, just extend the file.
 */
const runwayBatchBytes = 64 * 1024
const runwayBytes = 256 * 1024
let runwayZeros: Buffer | undefined
/**
 * Under sync "always", a burst of appends (one socket read) syncs part-way on this thread, after
 * 16 appends, then 32 more, 64 more and so on, so that the first acks leave while the rest is
 * appended and the client keeps working: a client with 64 KV puts in flight otherwise waits for
 * all 64 to be synced together. Only syncs into a runway already on the device run here (no
 * journal commit: a median of about 140 µs on this machine's disk); the burst's last sync still
 * goes to the thread pool, so this thread reads on meanwhile. Each such sync is followed by three
 * times its length without one, so one stream's syncs block at most a quarter of the time: with
 * many connections bursting into one stream, group commit on the thread pool does better. A
 * sync slower than the limit stalls every connection, so when most recent ones were (a slow
 * disk, not the odd outlier of a fast one), they pause for a while.
 */
const inlineSyncLimitMs = 0.5
const inlineSyncPauseMs = 1000
const inlineSyncSpacing = 3

export interface SegmentLogOptions {
  readonly disk: Disk
  readonly directory: string
  readonly sync: SyncPolicy
  readonly syncIntervalMs: number
  readonly segmentBytes: number
  readonly index: MessageIndex
  /** Recovered segments in id order; the last one is appended to. */
  readonly segments: Segment[]
  /** Called after each write of a batch. */
  readonly onWritten: () => void
}

/**
 * The append-only log under a file store, as its PayloadStore. Appends are encoded into one
 * buffer and written in one write once the code that made them returns; under sync "always"
 * they are durable (and the listener told) when an fdatasync started after their write
 * completes, and all appends made while a sync runs share the next one (group commit).
 */
export class SegmentLog implements PayloadStore {
  readonly kind = "file" as const
  failure: Error | undefined = undefined
  segments: Segment[]
  active: Segment
  /** Bytes written to segment files since open. */
  bytesWritten = 0
  /** Records that failed their checksum when read. */
  corruptReads = 0
  private readonly disk: Disk
  private readonly directory: string
  private readonly policy: SyncPolicy
  private readonly segmentBytes: number
  private readonly index: MessageIndex
  private readonly onWritten: () => void
  private pending = Buffer.allocUnsafe(16 * 1024)
  private pendingLength = 0
  /** Messages in the pending bytes, and the sequence of the last one. */
  private pendingAppends = 0
  private pendingLastSeq: number
  /** The last sequence written to a file, and the last one an fdatasync covers. */
  private writtenSeq: number
  private syncedSeq: number
  /** The last sequence the listener was told is durable. */
  private toldSeq: number
  private listener: DurabilityListener | undefined = undefined
  /** Flat [first, last, first, last, ...] ranges removed since the last write. */
  private pendingRemovals: number[] = []
  private flushScheduled = false
  private awaitingSync: SyncWaiter[] = []
  private syncing = false
  private readonly dirty = new Set<Segment>()
  /** True at open: the recovered files' names may not be durable yet (recovery syncs only what it changed). */
  private directoryDirty = true
  private retiredFiles: DiskFile[] = []
  /** Segments holding messages, in sequence order. */
  private bySeq: Segment[]
  private lastFound: Segment | undefined = undefined
  private intervalTimer: ReturnType<typeof setInterval> | undefined = undefined
  /** End of the zeros written ahead of the active segment's last record (its file size). */
  private runwayEnd: number
  /** The runway as of the start of the last completed sync: writes inside it change no metadata. */
  private syncedRunwaySegment: Segment | undefined = undefined
  private syncedRunwayEnd = 0
  /** Pending appends at which the current burst next syncs on this thread (see inlineSyncLimitMs). */
  private inlineSyncAppends = appendsPerWrite
  /** Running share of syncs on this thread slower than the limit, and when the next may run. */
  private slowInlineSyncs = 0
  private inlineSyncResumesAt = 0

  constructor(options: SegmentLogOptions) {
    this.disk = options.disk
    this.directory = options.directory
    this.policy = options.sync
    this.segmentBytes = options.segmentBytes
    this.index = options.index
    this.onWritten = options.onWritten
    this.segments = options.segments
    this.active = options.segments[options.segments.length - 1]
    this.bySeq = this.segments.filter((segment) => segment.minSeq !== 0)
    this.runwayEnd = this.active.file.size()
    // What recovery found is on disk.
    this.pendingLastSeq = this.writtenSeq = this.syncedSeq = this.toldSeq = options.index.lastSeq
    if (this.policy === "interval") {
      this.intervalTimer = setInterval(() => {
        this.syncNow().catch(() => {})
      }, options.syncIntervalMs)
      this.intervalTimer.unref()
    }
  }

  messageSize(subjectLength: number, headersLength: number, dataLength: number): number {
    return fileMessageSize(subjectLength, headersLength, dataLength)
  }

  write(
    seq: number,
    _subject: string,
    _subjectId: number,
    subjectBytes: Uint8Array,
    subjectLength: number,
    headers: Uint8Array | undefined,
    data: Uint8Array,
    timestamp: number
  ): number {
    const length = messageRecordLength(subjectLength, headers === undefined ? 0 : headers.length, data.length)
    const end = this.active.size + this.pendingLength
    if (end + length > this.segmentBytes && end > segmentHeaderSize) this.roll()
    this.reserve(length)
    const active = this.active
    const location = active.size + this.pendingLength
    this.pendingLength += writeMessageRecord(this.pending, this.pendingLength, seq, timestamp, subjectBytes, subjectLength, headers, data)
    if (active.minSeq === 0) {
      active.minSeq = seq
      this.bySeq.push(active)
    }
    active.maxSeq = seq
    this.pendingLastSeq = seq
    this.pendingAppends++
    if (this.pendingAppends >= this.inlineSyncAppends && this.policy === "always" && this.syncsInline()) {
      this.inlineSyncAppends *= 2
      this.flushPending(true)
    } else if (this.pendingLength >= eagerFlushBytes || (this.pendingAppends >= appendsPerWrite && this.policy !== "always")) {
      this.flushPending()
    } else this.scheduleFlush()
    return location
  }

  read(seq: number, location: number, mode: ReadMode): StoredMessage | undefined {
    const segment = this.segmentOf(seq)
    if (segment === undefined) return undefined
    let buffer: Buffer
    let offset: number
    let available: number
    if (segment === this.active && location >= segment.size) {
      buffer = this.pending
      offset = location - segment.size
      available = this.pendingLength - offset
      // The next append may overwrite the pending buffer, so its records are never lent.
      mode = "copy"
    } else {
      const window = this.windowFor(segment, location)
      buffer = window.buffer
      offset = location - window.start
      available = window.length - offset
    }
    if (
      available < messageHeaderSize ||
      checkRecord(buffer, offset, available, available) !== "ok" ||
      recordKind(buffer, offset) !== messageKind ||
      recordSeq(buffer, offset) !== seq
    ) {
      this.corruptReads++
      return undefined
    }
    return readMessageRecord(buffer, offset, mode)
  }

  removed(seq: number, location: number, erase: boolean): void {
    const ranges = this.pendingRemovals
    const last = ranges.length - 1
    if (last > 0 && seq === ranges[last] + 1) {
      ranges[last] = seq
    } else if (last > 0 && seq > ranges[last] && this.noLiveBetween(ranges[last] + 1, seq - 1)) {
      ranges[last] = seq
    } else {
      ranges.push(seq, seq)
    }
    if (erase) this.eraseWhenDurable(seq, location)
    this.scheduleFlush()
  }

  removedRange(first: number, last: number): void {
    if (last < first) return
    this.pendingRemovals.push(first, last)
    this.scheduleFlush()
  }

  durableSeq(): number {
    return this.policy === "always" ? this.syncedSeq : this.writtenSeq
  }

  setDurabilityListener(listener: DurabilityListener | undefined): void {
    this.listener = listener
  }

  flush(): Promise<void> {
    return this.syncNow()
  }

  /** Writes what is pending and syncs every file written so far, whatever the policy. */
  syncNow(): Promise<void> {
    this.flushPending()
    if (this.failure !== undefined) return Promise.reject(this.failure)
    const waiter = newSyncWaiter()
    this.awaitingSync.push(waiter)
    this.requestSync()
    return waiter.promise
  }

  async close(): Promise<void> {
    if (this.intervalTimer !== undefined) clearInterval(this.intervalTimer)
    this.intervalTimer = undefined
    if (this.failure === undefined) await this.syncNow()
  }

  closeFiles(): void {
    this.trimRunway()
    for (const segment of this.segments) {
      forgetWindows(segment)
      segment.file.close()
    }
    for (const file of this.retiredFiles) file.close()
    this.retiredFiles = []
  }

  /** Writes the pending batch to the active segment; under sync "always", `syncHere` syncs it on this thread. */
  flushPending(syncHere = false): void {
    this.flushScheduled = false
    if (this.failure !== undefined) return
    try {
      if (this.pendingRemovals.length > 0) {
        const ranges = this.pendingRemovals
        this.pendingRemovals = []
        this.reserve(removalRecordLength(ranges.length / 2))
        this.pendingLength += writeRemovalRecord(this.pending, this.pendingLength, ranges)
      }
      if (this.pendingLength > 0) {
        const active = this.active
        if (this.policy === "always" && this.pendingLength <= runwayBatchBytes) this.extendRunway()
        active.file.write(this.pending.subarray(0, this.pendingLength), active.size)
        active.size += this.pendingLength
        this.bytesWritten += this.pendingLength
        this.pendingLength = 0
        this.pendingAppends = 0
        this.writtenSeq = this.pendingLastSeq
        this.dirty.add(active)
      }
    } catch (error) {
      this.fail(error)
      return
    }
    if (this.policy !== "always") this.tell(this.writtenSeq)
    else if (syncHere) this.syncInline()
    else if (this.writtenSeq > this.syncedSeq) this.requestSync()
    this.onWritten()
  }

  /** Where the next record will go, once pending bytes are written. */
  position(): { readonly segmentId: number; readonly offset: number } {
    return { segmentId: this.active.id, offset: this.active.size + this.pendingLength }
  }

  /** Segments, other than the active one, in which no message is live any more. */
  deadSegments(): Segment[] {
    return this.segments.filter((segment) => {
      if (segment === this.active) return false
      if (segment.minSeq === 0) return true
      const next = this.index.nextLive(segment.minSeq)
      return next === 0 || next > segment.maxSeq
    })
  }

  /** Deletes segment files a durable checkpoint no longer needs. */
  retire(dead: ReadonlyArray<Segment>): void {
    if (dead.length === 0) return
    const gone = new Set(dead)
    this.segments = this.segments.filter((segment) => !gone.has(segment))
    this.bySeq = this.bySeq.filter((segment) => !gone.has(segment))
    if (this.lastFound !== undefined && gone.has(this.lastFound)) this.lastFound = undefined
    for (const segment of dead) {
      forgetWindows(segment)
      this.dirty.delete(segment)
      try {
        this.disk.remove(segment.path)
      } catch (error) {
        this.fail(error)
      }
      this.retiredFiles.push(segment.file)
    }
    this.directoryDirty = true
    if (!this.syncing) this.closeRetired()
  }

  /**
   * Writes pending records once the code that appended them returns (one write per socket read,
   * or per appendsPerWrite appends), so an ack waits for no extra turn of the event loop. Under sync "always" a sync already
   * running writes them when it ends instead: appends that arrive while the disk is busy share
   * the next fdatasync.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    if (this.syncing && this.policy === "always") return
    queueMicrotask(this.flushIfScheduled)
  }

  private readonly flushIfScheduled = (): void => {
    this.inlineSyncAppends = appendsPerWrite
    if (this.flushScheduled) this.flushPending()
  }

  private reserve(length: number): void {
    if (this.pendingLength + length <= this.pending.length) return
    let size = this.pending.length * 2
    while (size < this.pendingLength + length) size *= 2
    const grown = Buffer.allocUnsafe(size)
    this.pending.copy(grown, 0, 0, this.pendingLength)
    this.pending = grown
  }

  /** Makes sure zeros lie beyond the pending batch, laying down another runway if they do not. */
  private extendRunway(): void {
    const active = this.active
    const end = active.size + this.pendingLength
    if (end <= this.runwayEnd) return
    const runwayEnd = Math.min(end + runwayBytes, Math.max(this.segmentBytes, end))
    const from = Math.max(active.size, this.runwayEnd)
    runwayZeros ??= Buffer.alloc(runwayBytes)
    for (let position = from; position < runwayEnd; position += runwayBytes) {
      active.file.write(runwayZeros.subarray(0, Math.min(runwayBytes, runwayEnd - position)), position)
    }
    this.runwayEnd = runwayEnd
  }

  /** Cuts the active segment's unused zeros (recovery would cut them too). */
  private trimRunway(): void {
    if (this.runwayEnd <= this.active.size || this.failure !== undefined) return
    try {
      this.active.file.truncate(this.active.size)
    } catch (error) {
      this.fail(error)
    }
    this.runwayEnd = this.active.size
  }

  private roll(): void {
    this.flushPending()
    this.trimRunway()
    if (this.failure !== undefined) return
    const id = this.active.id + 1
    const path = join(this.directory, segmentFileName(id))
    let file: DiskFile
    try {
      file = this.disk.open(path, { create: true, truncate: true })
    } catch (error) {
      this.fail(error)
      return
    }
    const segment: Segment = { id, path, file, size: 0, minSeq: 0, maxSeq: 0 }
    this.segments.push(segment)
    this.active = segment
    this.runwayEnd = 0
    this.reserve(segmentHeaderSize)
    segmentHeader().copy(this.pending, 0)
    this.pendingLength = segmentHeaderSize
    this.directoryDirty = true
  }

  /** True when a sync now may run on this thread: it would cover only writes into the active segment's synced runway. */
  private syncsInline(): boolean {
    if (this.syncing || this.directoryDirty || this.failure !== undefined) return false
    const dirty = this.dirty.size
    if (dirty > 1 || (dirty === 1 && !this.dirty.has(this.active))) return false
    if (this.syncedRunwaySegment !== this.active || this.active.size + this.pendingLength > this.syncedRunwayEnd) return false
    return performance.now() >= this.inlineSyncResumesAt
  }

  private syncInline(): void {
    const started = performance.now()
    try {
      this.active.file.syncBlocking()
    } catch (error) {
      this.fail(error)
      return
    }
    const ended = performance.now()
    this.dirty.clear()
    this.slowInlineSyncs += ((ended - started > inlineSyncLimitMs ? 1 : 0) - this.slowInlineSyncs) / 16
    this.inlineSyncResumesAt = ended + (ended - started) * inlineSyncSpacing
    if (this.slowInlineSyncs > 0.5) {
      this.inlineSyncResumesAt = ended + inlineSyncPauseMs
      // After the pause, three slow syncs in a row bring it back.
      this.slowInlineSyncs = 0.4
    }
    this.syncedSeq = this.writtenSeq
    const waiters = this.awaitingSync
    this.awaitingSync = []
    this.settle(waiters)
  }

  private requestSync(): void {
    if (this.syncing || this.failure !== undefined) return
    this.syncing = true
    void this.syncLoop()
  }

  /**
   * Syncs until nothing awaits a sync: no syncNow caller, and under sync "always" no append
   * written since the last one. Each sync starts as soon as the last one returns, with everything
   * appended meanwhile; what the last one covered is told while the next runs.
   */
  private async syncLoop(): Promise<void> {
    let synced: SyncWaiter[] = []
    for (;;) {
      // Appends made while the last sync ran were left pending for this one.
      if (this.flushScheduled) this.flushPending()
      const waiters = this.awaitingSync
      this.awaitingSync = []
      const covered = this.writtenSeq
      const runwaySegment = this.active
      const runwayEnd = this.runwayEnd
      const needed = waiters.length > 0 || (this.policy === "always" && covered > this.syncedSeq)
      const work = needed ? this.syncDirty() : undefined
      this.settle(synced)
      if (work === undefined) break
      try {
        await work
      } catch (error) {
        this.fail(error)
        for (const waiter of waiters) waiter.reject(error)
        break
      }
      this.syncedSeq = covered
      this.syncedRunwaySegment = runwaySegment
      this.syncedRunwayEnd = runwayEnd
      synced = waiters
    }
    this.syncing = false
    // An ack told above may have led to an append, left pending for a sync that no longer runs.
    if (this.flushScheduled) queueMicrotask(this.flushIfScheduled)
    this.closeRetired()
  }

  /** Starts an fdatasync of every file written since the last one (and of the directory if names changed). */
  private syncDirty(): Promise<unknown> {
    const files = [...this.dirty]
    this.dirty.clear()
    const directory = this.directoryDirty
    this.directoryDirty = false
    try {
      const work: Array<Promise<void>> = files.map((segment) => segment.file.sync())
      if (directory) work.push(this.disk.syncDirectory(this.directory))
      return work.length === 1 ? work[0] : Promise.all(work)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** Releases the syncNow callers an fdatasync covered and tells how far durability reaches. */
  private settle(waiters: ReadonlyArray<SyncWaiter>): void {
    for (const waiter of waiters) waiter.resolve()
    this.tell(this.durableSeq())
  }

  private tell(seq: number): void {
    if (seq <= this.toldSeq) return
    this.toldSeq = seq
    this.listener?.durableThrough(seq)
  }

  private closeRetired(): void {
    for (const file of this.retiredFiles) {
      try {
        file.close()
      } catch {
        // Already gone with the disk; nothing left to release.
      }
    }
    this.retiredFiles = []
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return
    this.failure = error instanceof Error ? error : new Error(String(error))
    // What a completed sync covered stays acknowledged; the rest fails.
    this.tell(this.durableSeq())
    this.listener?.failed(this.failure)
    for (const waiter of this.awaitingSync) waiter.reject(this.failure)
    this.awaitingSync = []
  }

  private noLiveBetween(first: number, last: number): boolean {
    const next = this.index.nextLive(first)
    return next === 0 || next > last
  }

  private segmentOf(seq: number): Segment | undefined {
    const last = this.lastFound
    if (last !== undefined && seq >= last.minSeq && seq <= last.maxSeq) return last
    const list = this.bySeq
    let low = 0
    let high = list.length - 1
    while (low <= high) {
      const middle = (low + high) >>> 1
      const segment = list[middle]
      if (seq < segment.minSeq) high = middle - 1
      else if (seq > segment.maxSeq) low = middle + 1
      else {
        this.lastFound = segment
        return segment
      }
    }
    return undefined
  }

  /**
   * A window holding the whole record at `position`. A miss reads a fresh window from there; when
   * an earlier window showed the record to be large, it reads just the record and the next one's
   * header, so a scan over large records reads each byte once.
   */
  private windowFor(segment: Segment, position: number): ReadWindow {
    let knownLength = 0
    for (const window of windows) {
      if (window.segment !== segment || position < window.start) continue
      const offset = position - window.start
      if (offset + messageHeaderSize > window.length) continue
      const length = recordLength(window.buffer, offset)
      if (offset + length <= window.length) return (lastWindow = window)
      knownLength = length
    }
    // Never the window just read from: its record may still be lent out.
    if (windows[nextWindow] === lastWindow) nextWindow = (nextWindow + 1) % windows.length
    const window = windows[nextWindow]
    nextWindow = (nextWindow + 1) % windows.length
    lastWindow = window
    if (window.buffer.length < windowSize) window.buffer = Buffer.allocUnsafe(windowSize)
    window.segment = segment
    window.start = position
    // A length beyond the file's end is corrupt; the record check below will say so.
    const large = knownLength >= windowSize / 2 && position + knownLength <= segment.size
    const wanted = large ? knownLength + messageHeaderSize : windowSize
    if (wanted > window.buffer.length) window.buffer = Buffer.allocUnsafe(wanted)
    window.length = segment.file.read(position, window.buffer, 0, Math.min(wanted, segment.size - position))
    if (window.length >= messageHeaderSize) {
      const length = recordLength(window.buffer, 0)
      if (length > window.length && position + length <= segment.size) {
        if (length > window.buffer.length) window.buffer = Buffer.allocUnsafe(length)
        window.length = segment.file.read(position, window.buffer, 0, length)
      }
    }
    return window
  }

  /** Overwrites a deleted message's bytes once its removal record is on disk. */
  private eraseWhenDurable(seq: number, location: number): void {
    const segment = this.segmentOf(seq)
    if (segment === undefined) return
    this.syncNow().then(
      () => {
        if (!this.segments.includes(segment) || this.failure !== undefined) return
        try {
          const header = Buffer.alloc(messageHeaderSize)
          if (segment.file.read(location, header, 0, messageHeaderSize) < messageHeaderSize) return
          const length = recordLength(header, 0)
          segment.file.write(new Uint8Array(length - messageHeaderSize), location + messageHeaderSize)
          forgetWindows(segment)
          this.dirty.add(segment)
        } catch (error) {
          this.fail(error)
        }
      },
      () => {}
    )
  }
}

const forgetWindows = (segment: Segment): void => {
  for (const window of windows) if (window.segment === segment) window.segment = undefined
}

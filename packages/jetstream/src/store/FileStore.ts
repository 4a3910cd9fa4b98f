import { join } from "node:path"
import { encodeCheckpoint } from "./Checkpoint.ts"
import { type Disk, nodeDisk } from "./Disk.ts"
import type { MessageIndex } from "./MessageIndex.ts"
import { type MessageStore, noLimits, type StoreLimits } from "./MessageStore.ts"
import { checkpointFileName, recoverLog, type RecoveryReport } from "./Recovery.ts"
import { SegmentLog, type SyncPolicy } from "./SegmentLog.ts"
import { StoreEngine } from "./StoreEngine.ts"
import { writeFileAtomic } from "./writeFileAtomic.ts"

export interface FileStoreOptions {
  readonly limits?: StoreLimits
  /** Default "always": an append is acknowledged only once an fdatasync covers it. */
  readonly sync?: SyncPolicy
  /** How often "interval" syncs; nats-server's default is 2 minutes. */
  readonly syncIntervalMs?: number
  readonly disk?: Disk
  /** A segment file is closed and a new one started beyond this size. */
  readonly segmentBytes?: number
  /**
   * Log bytes written after which a checkpoint is taken (at least twice the last checkpoint's
   * size, so checkpoints never cost more than the log they save replaying).
   */
  readonly checkpointBytes?: number
}

export interface FileStoreStats {
  readonly checkpoints: number
  readonly corruptReads: number
  readonly lastCheckpointError: string | undefined
}

export interface FileMessageStore extends MessageStore {
  readonly recovery: RecoveryReport
  readonly stats: FileStoreStats
  /** Writes a checkpoint now, so a restart replays nothing logged before this call. */
  checkpoint(): Promise<void>
}

const defaultSegmentBytes = 64 * 1024 * 1024
const defaultCheckpointBytes = 64 * 1024 * 1024
/** Segment locations are stored as 32-bit offsets. */
const maximumSegmentBytes = 2 ** 32 - 1

class FileStore extends StoreEngine implements FileMessageStore {
  readonly recovery: RecoveryReport
  private readonly log: SegmentLog
  private readonly disk: Disk
  private readonly directory: string
  private readonly checkpointBytes: number
  private checkpointing: Promise<void> | undefined = undefined
  private checkpointScheduled = false
  private writtenAtCheckpoint = 0
  private lastCheckpointSize = 0
  private checkpointCount = 0
  private lastCheckpointError: string | undefined = undefined
  private checkpointExists: boolean

  constructor(
    index: MessageIndex,
    log: SegmentLog,
    limits: StoreLimits,
    recovery: RecoveryReport,
    disk: Disk,
    directory: string,
    checkpointBytes: number
  ) {
    super(index, log, limits)
    this.log = log
    this.recovery = recovery
    this.disk = disk
    this.directory = directory
    this.checkpointBytes = checkpointBytes
    this.checkpointExists = recovery.checkpointLoaded
    // The tail just replayed counts as log written since the checkpoint.
    this.writtenAtCheckpoint = -recovery.replayedBytes
    this.enforceAllLimits()
  }

  get stats(): FileStoreStats {
    return {
      checkpoints: this.checkpointCount,
      corruptReads: this.log.corruptReads,
      lastCheckpointError: this.lastCheckpointError
    }
  }

  checkpoint(): Promise<void> {
    if (this.checkpointing === undefined) {
      this.checkpointing = this.writeCheckpoint().finally(() => {
        this.checkpointing = undefined
      })
    }
    return this.checkpointing
  }

  override async close(): Promise<void> {
    if (this.closed) return
    await super.close()
    if (this.checkpointing !== undefined) await this.checkpointing.catch(() => {})
    if (this.log.failure === undefined && (!this.checkpointExists || this.log.bytesWritten !== this.writtenAtCheckpoint)) {
      await this.writeCheckpoint().catch((error: unknown) => {
        this.lastCheckpointError = String(error)
      })
    }
    this.log.closeFiles()
  }

  /**
   * Takes a checkpoint in the background once enough log has been written since the last one. It
   * starts on a later turn: a write can happen in the middle of an append, before the index has it.
   */
  checkpointIfDue(): void {
    if (this.checkpointScheduled || this.checkpointing !== undefined) return
    const due = Math.max(this.checkpointBytes, 2 * this.lastCheckpointSize)
    if (this.log.bytesWritten - this.writtenAtCheckpoint < due) return
    this.checkpointScheduled = true
    setImmediate(() => {
      this.checkpointScheduled = false
      if (this.closed || this.log.failure !== undefined) return
      this.checkpoint().catch((error: unknown) => {
        this.lastCheckpointError = String(error)
      })
    })
  }

  private async writeCheckpoint(): Promise<void> {
    const log = this.log
    log.flushPending()
    if (log.failure !== undefined) throw log.failure
    const dead = log.deadSegments()
    const kept = log.segments.filter((segment) => !dead.includes(segment))
    const bytes = encodeCheckpoint(this.index, {
      lastSeq: this.index.lastSeq,
      lastTimestamp: this.index.lastTimestamp,
      position: log.position(),
      segments: kept.map((segment) => ({ id: segment.id, minSeq: segment.minSeq, maxSeq: segment.maxSeq }))
    })
    const writtenAtSnapshot = log.bytesWritten
    // The checkpoint may only claim log bytes that are on disk.
    await log.syncNow()
    await writeFileAtomic(this.disk, join(this.directory, checkpointFileName), bytes)
    this.checkpointExists = true
    this.writtenAtCheckpoint = writtenAtSnapshot
    this.lastCheckpointSize = bytes.length
    this.checkpointCount++
    log.retire(dead)
  }
}

/**
 * Opens (or creates) the file store in `directory`: loads its checkpoint, replays the log after
 * it, truncates a torn tail, then applies the limits.
 */
export const openFileStore = async (directory: string, options: FileStoreOptions = {}): Promise<FileMessageStore> => {
  const disk = options.disk ?? nodeDisk
  const segmentBytes = Math.min(options.segmentBytes ?? defaultSegmentBytes, maximumSegmentBytes)
  const recovered = await recoverLog(disk, directory)
  let store: FileStore | undefined
  const log = new SegmentLog({
    disk,
    directory,
    sync: options.sync ?? "always",
    syncIntervalMs: options.syncIntervalMs ?? 120_000,
    segmentBytes,
    index: recovered.index,
    segments: recovered.segments,
    onWritten: () => store?.checkpointIfDue()
  })
  store = new FileStore(
    recovered.index,
    log,
    options.limits ?? noLimits,
    recovered.report,
    disk,
    directory,
    options.checkpointBytes ?? defaultCheckpointBytes
  )
  return store
}

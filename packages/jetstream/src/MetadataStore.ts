import { rmSync } from "node:fs"
import { join } from "node:path"
import type { ConsumerConfig } from "./ConsumerConfig.ts"
import { type ConsumerState, decodeConsumerState } from "./ConsumerState.ts"
import { type Disk, nodeDisk, readWholeFile, writeFileAtomic } from "./store/index.ts"
import type { StreamConfig } from "./StreamConfig.ts"

export interface StoredStream {
  readonly config: StreamConfig
  /** Creation time, nanoseconds since the epoch. */
  readonly created: number
}

export interface StoredConsumer {
  readonly name: string
  readonly config: ConsumerConfig
  readonly created: number
}

export interface RecoveredStream {
  readonly stream: StoredStream
  readonly consumers: ReadonlyArray<{ readonly consumer: StoredConsumer; readonly state: ConsumerState | undefined }>
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const streamFile = "stream.json"
const consumersDirectory = "consumers"
const consumerFile = "consumer.json"
const stateFile = "state.json"
const consumerLogFile = "consumers.log"
/** The consumer log is rewritten with only the live records once it holds this many more. */
const consumerLogSlack = 1024

/** One line of a stream's consumer log: a durable consumer saved (with its initial state) or removed. */
type ConsumerRecord = { readonly consumer: StoredConsumer; readonly state?: ConsumerState } | { readonly remove: string }

/** A stream's consumer log including the records still batched: each live consumer's line, and how many lines it has. */
interface ConsumerLog {
  readonly lines: Map<string, string>
  records: number
}

const readJson = (disk: Disk, path: string): unknown => {
  const bytes = readWholeFile(disk, path)
  if (bytes === undefined) return undefined
  try {
    return JSON.parse(decoder.decode(bytes))
  } catch {
    return undefined
  }
}

/**
 * Stream and durable consumer metadata under the store directory:
 * `<root>/<stream>/stream.json`, `<root>/<stream>/messages/` (the file store),
 * `<root>/<stream>/consumers.log` (one JSON line per durable consumer saved or removed) and
 * `<root>/<stream>/consumers/<name>/state.json`, written only once a consumer's state changes. A
 * burst of consumer creations costs one append and one fsync per batch instead of files per
 * consumer. Every other file is replaced atomically (temp file, fsync, rename), and writes run one
 * at a time so two never share a temp file.
 */
export class MetadataStore {
  readonly root: string
  private readonly disk: Disk
  private chain: Promise<void> = Promise.resolve()
  private readonly consumerLogs = new Map<string, ConsumerLog>()
  /** Consumer log lines waiting for the next append, per stream; they go out together. */
  private recordBatch: Map<string, string> | undefined
  private recordBatchWritten: Promise<void> = Promise.resolve()

  constructor(root: string, disk: Disk = nodeDisk) {
    this.root = root
    this.disk = disk
  }

  messagesDirectory(stream: string): string {
    return join(this.root, stream, "messages")
  }

  saveStream(stored: StoredStream): Promise<void> {
    return this.enqueue(async () => {
      const directory = join(this.root, stored.config.name)
      this.disk.mkdir(directory)
      await writeFileAtomic(this.disk, join(directory, streamFile), encoder.encode(JSON.stringify(stored)))
    })
  }

  removeStream(stream: string): Promise<void> {
    this.consumerLogs.delete(stream)
    // Records of a stream created again under this name must go out after the removal.
    this.recordBatch?.delete(stream)
    this.recordBatch = undefined
    return this.enqueue(async () => {
      this.removeTree(join(this.root, stream))
      await this.disk.syncDirectory(this.root)
    })
  }

  /** Records a durable consumer's config, and the state it starts from (used until a state file exists). */
  saveConsumer(stream: string, stored: StoredConsumer, state?: ConsumerState): Promise<void> {
    return this.appendRecord(stream, state === undefined ? { consumer: stored } : { consumer: stored, state })
  }

  saveConsumerState(stream: string, consumer: string, state: ConsumerState): Promise<void> {
    return this.enqueue(async () => {
      if (this.consumerLogs.get(stream)?.lines.has(consumer) !== true) return
      const directory = join(this.root, stream, consumersDirectory, consumer)
      this.disk.mkdir(directory)
      await writeFileAtomic(this.disk, join(directory, stateFile), encoder.encode(JSON.stringify(state)))
    })
  }

  removeConsumer(stream: string, consumer: string): Promise<void> {
    const recorded = this.appendRecord(stream, { remove: consumer })
    const removed = this.enqueue(async () => {
      this.removeTree(join(this.root, stream, consumersDirectory, consumer))
    })
    return Promise.all([recorded, removed]).then(() => {})
  }

  /** Resolves once every write queued so far is done. */
  settled(): Promise<void> {
    return this.chain
  }

  /** Every stream with its durable consumers, as last written. */
  recover(): RecoveredStream[] {
    const recovered: RecoveredStream[] = []
    for (const name of this.disk.list(this.root)) {
      const stream = readJson(this.disk, join(this.root, name, streamFile)) as StoredStream | undefined
      if (stream?.config?.name !== name) continue
      const records = this.recoverConsumerLog(name)
      const consumers: Array<{ consumer: StoredConsumer; state: ConsumerState | undefined }> = []
      const directory = join(this.root, name, consumersDirectory)
      for (const consumerName of this.disk.list(directory)) {
        if (records.has(consumerName)) continue
        // Written by a version that kept one config file per consumer.
        const consumer = readJson(this.disk, join(directory, consumerName, consumerFile)) as StoredConsumer | undefined
        if (consumer?.name === consumerName) records.set(consumerName, { consumer })
      }
      for (const [consumerName, record] of records) {
        const stateBytes = readWholeFile(this.disk, join(directory, consumerName, stateFile))
        const state = stateBytes === undefined ? record.state : decodeConsumerState(decoder.decode(stateBytes))
        consumers.push({ consumer: record.consumer, state })
      }
      if (records.size > 0 || this.disk.exists(join(this.root, name, consumerLogFile))) {
        const lines = new Map([...records].map(([consumerName, record]) => [consumerName, JSON.stringify(record)]))
        this.consumerLogs.set(name, { lines, records: lines.size })
        void this.enqueue(() => this.writeConsumerLog(name, lines))
      }
      recovered.push({ stream, consumers })
    }
    return recovered
  }

  /** The live records of a stream's consumer log; a torn last line (power cut) is ignored. */
  private recoverConsumerLog(stream: string): Map<string, { consumer: StoredConsumer; state?: ConsumerState }> {
    const live = new Map<string, { consumer: StoredConsumer; state?: ConsumerState }>()
    const bytes = readWholeFile(this.disk, join(this.root, stream, consumerLogFile))
    if (bytes === undefined) return live
    for (const line of decoder.decode(bytes).split("\n")) {
      let record: ConsumerRecord
      try {
        record = JSON.parse(line) as ConsumerRecord
      } catch {
        continue
      }
      if ("remove" in record) live.delete(record.remove)
      else if (typeof record.consumer?.name === "string") live.set(record.consumer.name, record)
    }
    return live
  }

  /** Whether a durable consumer of `stream` is recorded (or about to be). */
  hasConsumer(stream: string, consumer: string): boolean {
    return this.consumerLogs.get(stream)?.lines.has(consumer) === true
  }

  private appendRecord(stream: string, record: ConsumerRecord): Promise<void> {
    let log = this.consumerLogs.get(stream)
    if (log === undefined) {
      log = { lines: new Map(), records: 0 }
      this.consumerLogs.set(stream, log)
    }
    const line = JSON.stringify(record)
    if ("remove" in record) log.lines.delete(record.remove)
    else log.lines.set(record.consumer.name, line)
    log.records++
    let batch = this.recordBatch
    if (batch === undefined) {
      const opened = new Map<string, string>()
      batch = opened
      this.recordBatch = opened
      this.recordBatchWritten = this.enqueue(async () => {
        if (this.recordBatch === opened) this.recordBatch = undefined
        for (const [name, text] of opened) await this.appendToConsumerLog(name, text)
      })
    }
    batch.set(stream, `${batch.get(stream) ?? ""}${line}\n`)
    return this.recordBatchWritten
  }

  private async appendToConsumerLog(stream: string, text: string): Promise<void> {
    const log = this.consumerLogs.get(stream)
    if (log === undefined) return
    if (log.records > log.lines.size + consumerLogSlack) {
      // The live lines already include this batch's records.
      log.records = log.lines.size
      return this.writeConsumerLog(stream, log.lines)
    }
    const path = join(this.root, stream, consumerLogFile)
    const created = !this.disk.exists(path)
    const file = this.disk.open(path, { create: true })
    try {
      file.write(encoder.encode(text), file.size())
      await file.sync()
    } finally {
      file.close()
    }
    if (created) await this.disk.syncDirectory(join(this.root, stream))
  }

  /** Replaces a stream's consumer log with one line per live consumer. */
  private writeConsumerLog(stream: string, lines: ReadonlyMap<string, string>): Promise<void> {
    let text = ""
    for (const line of lines.values()) text += `${line}\n`
    return writeFileAtomic(this.disk, join(this.root, stream, consumerLogFile), encoder.encode(text))
  }

  private enqueue(write: () => Promise<void>): Promise<void> {
    const next = this.chain.then(write)
    this.chain = next.catch(() => {})
    return next
  }

  private removeTree(path: string): void {
    rmSync(path, { recursive: true, force: true })
  }
}

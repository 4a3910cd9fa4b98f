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
 * `<root>/<stream>/consumers/<name>/{consumer,state}.json`. Every file is replaced atomically
 * (temp file, fsync, rename), and writes run one at a time so two never share a temp file.
 */
export class MetadataStore {
  readonly root: string
  private readonly disk: Disk
  private chain: Promise<void> = Promise.resolve()

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
    return this.enqueue(async () => {
      this.removeTree(join(this.root, stream))
      await this.disk.syncDirectory(this.root)
    })
  }

  saveConsumer(stream: string, stored: StoredConsumer): Promise<void> {
    return this.enqueue(async () => {
      const directory = join(this.root, stream, consumersDirectory, stored.name)
      this.disk.mkdir(directory)
      await writeFileAtomic(this.disk, join(directory, consumerFile), encoder.encode(JSON.stringify(stored)))
    })
  }

  saveConsumerState(stream: string, consumer: string, state: ConsumerState): Promise<void> {
    return this.enqueue(async () => {
      const directory = join(this.root, stream, consumersDirectory, consumer)
      if (!this.disk.exists(join(directory, consumerFile))) return
      await writeFileAtomic(this.disk, join(directory, stateFile), encoder.encode(JSON.stringify(state)))
    })
  }

  removeConsumer(stream: string, consumer: string): Promise<void> {
    return this.enqueue(async () => {
      this.removeTree(join(this.root, stream, consumersDirectory, consumer))
    })
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
      const consumers: Array<{ consumer: StoredConsumer; state: ConsumerState | undefined }> = []
      const directory = join(this.root, name, consumersDirectory)
      for (const consumerName of this.disk.list(directory)) {
        const consumer = readJson(this.disk, join(directory, consumerName, consumerFile)) as StoredConsumer | undefined
        if (consumer?.name !== consumerName) continue
        const stateBytes = readWholeFile(this.disk, join(directory, consumerName, stateFile))
        consumers.push({ consumer, state: stateBytes === undefined ? undefined : decodeConsumerState(decoder.decode(stateBytes)) })
      }
      recovered.push({ stream, consumers })
    }
    return recovered
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

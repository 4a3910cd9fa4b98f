import type { InternalClient, InternalMessage, Server, Subscription } from "@nex/broker"
import { statusMessage, subjectsOverlap } from "@nex/protocol"
import { type ApiError, apiError } from "./ApiErrors.ts"
import { ApiDispatcher, apiLevel } from "./ApiDispatcher.ts"
import type { ConsumerConfigInput } from "./api.ts"
import type { Consumer } from "./Consumer.ts"
import { consumerRoutes } from "./ConsumerApi.ts"
import { InterestWatcher } from "./InterestWatcher.ts"
import { messageRoutes } from "./MessageApi.ts"
import { MetadataStore } from "./MetadataStore.ts"
import { fromWire, Outbound } from "./Outbound.ts"
import { type MessageStore, nodeDiskSyncActive, openFileStore, openMemoryStore, type SyncPolicy } from "./store/index.ts"
import { Stream, type StreamHost } from "./Stream.ts"
import { streamRoutes } from "./StreamApi.ts"
import type { StreamConfig } from "./StreamConfig.ts"
import { storeLimitsOf } from "./StreamConfig.ts"
import { nowNanos } from "./Time.ts"

export interface JetStreamOptions {
  readonly storeDir: string
  readonly sync?: SyncPolicy
  /** Bytes all memory streams may hold together; unlimited when unset. */
  readonly maxMemory?: number
  /** Bytes all file streams may hold together; unlimited when unset. */
  readonly maxStorage?: number
  /** Requests the API queue holds before it answers "temporarily unavailable". */
  readonly apiQueueLimit?: number
}

const noResponders = statusMessage(503)

/** How often durable consumer states are written (their changes are batched in between). */
const stateFlushIntervalMs = 100

/**
 * The JetStream engine: the streams, their stores and metadata, and the `$JS.API` served through
 * JetStream's internal client. Plain TypeScript; `JetStream.ts` wraps its lifecycle in Effect.
 */
export class JetStreamEngine implements StreamHost {
  readonly server: Server
  readonly client: InternalClient
  readonly options: JetStreamOptions
  readonly outbound: Outbound
  readonly interestWatcher: InterestWatcher
  readonly metadata: MetadataStore
  readonly dispatcher: ApiDispatcher
  readonly streams = new Map<string, Stream>()
  private readonly apiSubscriptions: Subscription[] = []
  private readonly dirtyStates = new Map<Consumer, Stream>()
  private stateTimer: ReturnType<typeof setTimeout> | undefined
  private stateFlush: Promise<void> = Promise.resolve()
  private closed = false

  constructor(server: Server, client: InternalClient, options: JetStreamOptions) {
    this.server = server
    this.client = client
    this.options = options
    this.outbound = new Outbound(server, client)
    // The busy poll stands aside while durable writes are syncing (see nodeDiskSyncActive).
    server.busyPoll.pauseWhile(nodeDiskSyncActive)
    this.interestWatcher = new InterestWatcher(
      (subject) => server.sublist.hasInterest(subject),
      (listener) => server.onSubscription((subscription) => listener(subscription.subject))
    )
    this.metadata = new MetadataStore(options.storeDir)
    this.dispatcher = new ApiDispatcher(this.outbound, options.apiQueueLimit)
    this.dispatcher.add([...streamRoutes(this), ...messageRoutes(this), ...consumerRoutes(this)])
  }

  get serverName(): string {
    return this.server.serverName
  }

  /** Recovers every file stream with its durable consumers, then serves the API. */
  async start(): Promise<void> {
    for (const recovered of this.metadata.recover()) {
      const config = recovered.stream.config
      let store: MessageStore
      try {
        store = await this.openStore(config)
      } catch (error) {
        // One unreadable stream must not keep the node down; nats-server skips it too.
        this.server.log.warn("jetstream stream not recovered", { stream: config.name, error: String(error) })
        continue
      }
      const stream = new Stream(this, config, store, recovered.stream.created)
      for (const { consumer, state } of recovered.consumers) {
        const restored = stream.createConsumer(consumer.config as ConsumerConfigInput, consumer.name, "", { created: consumer.created, state })
        if ("err_code" in restored) this.server.log.warn("jetstream consumer not recovered", { stream: config.name, consumer: consumer.name, error: restored.description })
      }
      this.streams.set(config.name, stream)
    }
    for (const stream of this.streams.values()) stream.start()
    const api = (message: InternalMessage) => this.apiRequest(message)
    for (const subject of ["$JS.API.*", "$JS.API.STREAM.>", "$JS.API.CONSUMER.>", "$JS.API.ACCOUNT.>", "$JS.API.META.>", "$JS.API.SERVER.>"]) {
      this.apiSubscriptions.push(this.client.subscribe(subject, api))
    }
    this.apiSubscriptions.push(this.client.subscribe("$JS.ACK.>", (message) => this.ackReceived(message)))
    this.apiSubscriptions.push(this.client.subscribe("$JS.FC.>", (message) => this.flowControlReceived(message)))
  }

  /** Stops serving, stops every consumer, writes pending states and closes the stores. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const subscription of this.apiSubscriptions) this.client.unsubscribe(subscription)
    await this.dispatcher.close()
    for (const stream of this.streams.values()) stream.stop(false)
    this.interestWatcher.stop()
    if (this.stateTimer !== undefined) clearTimeout(this.stateTimer)
    await this.flushStates()
    await this.metadata.settled()
    for (const stream of this.streams.values()) {
      await stream.store.flush().catch(() => {})
      await stream.store.close()
    }
    this.client.close()
  }

  private apiRequest(message: InternalMessage): void {
    const subject = message.subject
    // Pull requests are queued on their consumer right away: that is cheap and keeps them ordered.
    if (subject.startsWith("$JS.API.CONSUMER.MSG.NEXT.")) {
      if (message.reply === undefined) return
      const tokens = subject.split(".")
      if (tokens.length !== 7) return
      const consumer = this.streams.get(fromWire(tokens[5]))?.consumers.get(fromWire(tokens[6]))
      // nats-server has no responder for a consumer that does not exist.
      if (consumer === undefined) this.outbound.publish(message.reply, new Uint8Array(0), noResponders)
      else consumer.requestNext(message.reply, message.payload)
      return
    }
    this.dispatcher.enqueue(subject, message.reply, message.headers, message.payload)
  }

  /** `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>`. */
  private ackReceived(message: InternalMessage): void {
    const tokens = message.subject.split(".")
    let offset = 2
    if (tokens.length >= 11) offset = 4
    else if (tokens.length !== 9) return
    const consumer = this.streams.get(fromWire(tokens[offset]))?.consumers.get(fromWire(tokens[offset + 1]))
    const respond = consumer === undefined || consumer.processAck(Number(tokens[offset + 3]), Number(tokens[offset + 4]), message.payload, message.reply)
    if (respond && message.reply !== undefined) this.outbound.publish(message.reply)
  }

  private flowControlReceived(message: InternalMessage): void {
    const tokens = message.subject.split(".")
    if (tokens.length !== 5) return
    this.streams.get(fromWire(tokens[2]))?.consumers.get(fromWire(tokens[3]))?.flowControlReply(message.subject)
  }

  subscribe(subject: string, handler: (message: InternalMessage) => void): Subscription {
    return this.client.subscribe(subject, handler)
  }

  unsubscribe(subscription: Subscription): void {
    this.client.unsubscribe(subscription)
  }

  /** A new consumer's config goes out with its initial state; an updated one's state is rewritten too. */
  consumerSaved(stream: Stream, consumer: Consumer): void {
    if (!this.persistent(stream, consumer)) return
    const updated = this.metadata.hasConsumer(stream.name, consumer.name)
    void this.metadata
      .saveConsumer(stream.name, { name: consumer.name, config: consumer.config, created: consumer.created }, consumer.snapshot())
      .catch((error: unknown) => this.server.log.warn("jetstream consumer config not saved", { stream: stream.name, consumer: consumer.name, error: String(error) }))
    if (updated) this.consumerStateChanged(stream, consumer)
  }

  consumerRemoved(stream: Stream, consumer: Consumer): void {
    this.dirtyStates.delete(consumer)
    if (!this.persistent(stream, consumer)) return
    void this.metadata.removeConsumer(stream.name, consumer.name).catch(() => {})
  }

  consumerStateChanged(stream: Stream, consumer: Consumer): void {
    if (!this.persistent(stream, consumer)) return
    this.dirtyStates.set(consumer, stream)
    if (this.stateTimer === undefined && !this.closed) {
      this.stateTimer = setTimeout(() => {
        this.stateTimer = undefined
        void this.flushStates()
      }, stateFlushIntervalMs)
      this.stateTimer.unref()
    }
  }

  private persistent(stream: Stream, consumer: Consumer): boolean {
    return stream.config.storage === "file" && consumer.durable && this.streams.get(stream.name) === stream
  }

  /** Writes every changed durable state (one atomic file write each). */
  private flushStates(): Promise<void> {
    const batch = [...this.dirtyStates]
    this.dirtyStates.clear()
    this.stateFlush = this.stateFlush.then(async () => {
      for (const [consumer, stream] of batch) {
        if (stream.consumers.get(consumer.name) !== consumer) continue
        await this.metadata.saveConsumerState(stream.name, consumer.name, consumer.snapshot()).catch((error: unknown) => {
          this.server.log.warn("jetstream consumer state not saved", { stream: stream.name, consumer: consumer.name, error: String(error) })
        })
      }
    })
    return this.stateFlush
  }

  private async openStore(config: StreamConfig): Promise<MessageStore> {
    const limits = storeLimitsOf(config)
    if (config.storage === "memory") return openMemoryStore({ limits })
    return openFileStore(this.metadata.messagesDirectory(config.name), { limits, sync: this.options.sync ?? "always" })
  }

  /** Another stream whose subjects overlap `config`'s (nats-server: error 10065). */
  overlapsAnotherStream(config: StreamConfig): boolean {
    for (const stream of this.streams.values()) {
      if (stream.name === config.name) continue
      for (const subject of config.subjects) for (const other of stream.config.subjects) if (subjectsOverlap(subject, other)) return true
    }
    return false
  }

  /** Account-wide storage limits: the reservation of a new stream must fit. */
  reservationRefused(config: StreamConfig, replacing?: StreamConfig): ApiError | undefined {
    const limit = config.storage === "memory" ? this.options.maxMemory : this.options.maxStorage
    if (limit === undefined || limit <= 0) return undefined
    let reserved = config.max_bytes > 0 ? config.max_bytes : 0
    for (const stream of this.streams.values()) {
      if (stream.config.storage !== config.storage || stream.config === replacing) continue
      if (stream.config.max_bytes > 0) reserved += stream.config.max_bytes
    }
    if (reserved <= limit) return undefined
    return apiError(config.storage === "memory" ? "JSMemoryResourcesExceededErr" : "JSStorageResourcesExceededErr")
  }

  /** Whether the account's stores already hold as much as it may (publishes then fail). */
  storageExhausted(storage: StreamConfig["storage"]): boolean {
    const limit = storage === "memory" ? this.options.maxMemory : this.options.maxStorage
    if (limit === undefined || limit <= 0) return false
    return this.usage(storage) >= limit
  }

  usage(storage: StreamConfig["storage"]): number {
    let bytes = 0
    for (const stream of this.streams.values()) if (stream.config.storage === storage) bytes += stream.store.state().bytes
    return bytes
  }

  async createStream(config: StreamConfig): Promise<Stream> {
    const created = nowNanos()
    if (config.storage === "file") await this.metadata.saveStream({ config, created })
    const store = await this.openStore(config)
    if (config.first_seq !== undefined && config.first_seq > 1) store.compact(config.first_seq)
    const stream = new Stream(this, config, store, created)
    this.streams.set(config.name, stream)
    stream.start()
    return stream
  }

  async updateStream(stream: Stream, config: StreamConfig): Promise<void> {
    if (config.storage === "file") await this.metadata.saveStream({ config, created: stream.created })
    stream.update(config)
  }

  async deleteStream(stream: Stream): Promise<void> {
    this.streams.delete(stream.name)
    stream.stop(true)
    for (const consumer of stream.consumers.values()) this.dirtyStates.delete(consumer)
    await stream.store.close()
    if (stream.config.storage === "file") await this.metadata.removeStream(stream.name)
  }

  consumerCount(): number {
    let count = 0
    for (const stream of this.streams.values()) count += stream.consumers.size
    return count
  }

  /** `$JS.API.INFO`'s body (without its type). */
  accountInfo(): Record<string, unknown> {
    let reservedMemory = 0
    let reservedStorage = 0
    for (const stream of this.streams.values()) {
      if (stream.config.max_bytes <= 0) continue
      if (stream.config.storage === "memory") reservedMemory += stream.config.max_bytes
      else reservedStorage += stream.config.max_bytes
    }
    return {
      memory: this.usage("memory"),
      storage: this.usage("file"),
      reserved_memory: reservedMemory,
      reserved_storage: reservedStorage,
      streams: this.streams.size,
      consumers: this.consumerCount(),
      limits: {
        max_memory: this.options.maxMemory ?? -1,
        max_storage: this.options.maxStorage ?? -1,
        max_streams: -1,
        max_consumers: -1,
        max_ack_pending: -1,
        memory_max_stream_bytes: -1,
        storage_max_stream_bytes: -1,
        max_bytes_required: false
      },
      api: { level: apiLevel, total: this.dispatcher.total, errors: this.dispatcher.errors }
    }
  }
}

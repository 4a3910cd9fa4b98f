import type { InternalMessage, Subscription } from "@nex/broker"
import { findHeader, isValidSubject, subjectsOverlap } from "@nex/protocol"
import { type ApiError, apiError } from "./ApiErrors.ts"
import type { ConsumerConfigInput } from "./api.ts"
import { Consumer, type ConsumerHost } from "./Consumer.ts"
import {
  applyConsumerDefaults,
  checkConsumerConfig,
  checkConsumerUpdate,
  filtersOf,
  isDurable,
  sameConsumerConfig
} from "./ConsumerConfig.ts"
import type { ConsumerState } from "./ConsumerState.ts"
import { Deduplicator } from "./Deduplicator.ts"
import type { InterestWatcher } from "./InterestWatcher.ts"
import { serveDirectGet } from "./MessageApi.ts"
import { fromWire, type Outbound, toWire } from "./Outbound.ts"
import { PubAckEncoder } from "./PubAckEncoder.ts"
import { scanPublishHeaders } from "./PublishHeaders.ts"
import { type AppendResult, appendRejectionText, type DurabilityListener, type MessageStore } from "./store/index.ts"
import { hasPathSeparator, isValidName, maxNameLength, type StreamConfig, serializeStreamConfig, storeLimitsOf } from "./StreamConfig.ts"
import { formatTimestamp, nowNanos } from "./Time.ts"

/** What a stream needs from the engine around it. */
export interface StreamHost {
  readonly outbound: Outbound
  readonly interestWatcher: InterestWatcher
  readonly serverName: string
  /** Subscribes through JetStream's internal client. */
  subscribe(subject: string, handler: (message: InternalMessage) => void): Subscription
  unsubscribe(subscription: Subscription): void
  /** A durable consumer's configuration must be written (create, update). */
  consumerSaved(stream: Stream, consumer: Consumer): void
  consumerRemoved(stream: Stream, consumer: Consumer): void
  /** A durable consumer's delivery/ack state changed. */
  consumerStateChanged(stream: Stream, consumer: Consumer): void
  /** The account's storage of this kind is full (publishes fail with 10023). */
  storageExhausted(storage: StreamConfig["storage"]): boolean
}

export type ConsumerAction = "" | "create" | "update"

const encoder = new TextEncoder()
const plainStatusLine = encoder.encode("NATS/1.0\r\n")
const maxHeaderBytes = 65535

const pubAckError = (name: string, error: ApiError): Uint8Array =>
  encoder.encode(JSON.stringify({ error, stream: name, seq: 0 }))

/** 8 random letters and digits, for legacy ephemeral consumer names. */
const randomName = (): string => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
  let name = ""
  for (let index = 0; index < 8; index++) name += alphabet[Math.floor(Math.random() * alphabet.length)]
  return name
}

/** Strips a status from a published header block (`NATS/1.0 503 ...` becomes `NATS/1.0`). */
const withoutStatus = (headers: Uint8Array): Uint8Array => {
  // A plain first line is exactly "NATS/1.0\r\n": a status would sit before byte 8's line break.
  if (headers.length >= 10 && headers[8] === 13 && headers[9] === 10) return headers
  const lineEnd = headers.indexOf(10)
  if (lineEnd < 0) return headers
  const rest = headers.subarray(lineEnd + 1)
  const result = new Uint8Array(10 + rest.length)
  result.set(plainStatusLine, 0)
  result.set(rest, 10)
  return result
}

/** Released acks after which the held-ack arrays are compacted, if most of them are released. */
const heldAcksCompaction = 1024

/**
 * One stream: its store, the subscription capturing its subjects, the publish rules (expected
 * headers, dedupe, rollups, limits), retention, and its consumers.
 */
export class Stream implements ConsumerHost {
  config: StreamConfig
  readonly store: MessageStore
  readonly created: number
  readonly consumers = new Map<string, Consumer>()
  private readonly host: StreamHost
  private subscriptions: Subscription[] = []
  private directSubscriptions: Subscription[] = []
  private readonly deduplicator: Deduplicator
  /** A stream's name never changes, so neither does the start of its PubAcks. */
  private readonly pubAcks: PubAckEncoder
  private lastMessageId = ""
  /** PubAcks waiting for their message to be durable, in sequence order from `heldAcksHead`. */
  private heldAckSeqs: number[] = []
  private heldAckReplies: string[] = []
  private heldAcksHead = 0
  /** Set while the store appends: the store may tell of durable appends then, but acks wait until it returns. */
  private appending = false
  private readonly durability: DurabilityListener = {
    durableThrough: (seq) => this.releaseAcks(seq),
    failed: (error) => this.failAcks(error)
  }
  private started = false
  private closed = false
  private readonly onMessageBound = (message: InternalMessage) => this.ingest(message)
  /** Length of `$JS.API.DIRECT.GET.<stream>` on the wire; a longer subject names the message's subject. */
  private directPrefixLength = 0
  private readonly onDirectBound = (message: InternalMessage) => serveDirectGet(this, message, this.directPrefixLength)

  constructor(host: StreamHost, config: StreamConfig, store: MessageStore, created: number) {
    this.host = host
    this.config = config
    this.store = store
    this.created = created
    this.deduplicator = new Deduplicator(config.duplicate_window / 1e6)
    this.pubAcks = new PubAckEncoder(config.name)
    store.setDurabilityListener(this.durability)
  }

  get name(): string {
    return this.config.name
  }

  get wireName(): string {
    return toWire(this.config.name)
  }

  get retention(): StreamConfig["retention"] {
    return this.config.retention
  }

  get maxMsgsPerSubject(): number {
    return this.config.max_msgs_per_subject
  }

  get outbound(): Outbound {
    return this.host.outbound
  }

  get interestWatcher(): InterestWatcher {
    return this.host.interestWatcher
  }

  get serverName(): string {
    return this.host.serverName
  }

  /** Subscribes to the stream's subjects (and direct get when allowed) and starts its consumers. */
  start(): void {
    if (this.started) return
    this.started = true
    this.rebuildDeduplication()
    this.subscribe()
    for (const consumer of this.consumers.values()) consumer.start()
  }

  private subscribe(): void {
    for (const subscription of this.subscriptions) this.host.unsubscribe(subscription)
    for (const subscription of this.directSubscriptions) this.host.unsubscribe(subscription)
    this.subscriptions = this.config.subjects.map((subject) => this.host.subscribe(subject, this.onMessageBound))
    this.directPrefixLength = `$JS.API.DIRECT.GET.${this.wireName}`.length
    this.directSubscriptions = this.config.allow_direct
      ? [`$JS.API.DIRECT.GET.${this.name}`, `$JS.API.DIRECT.GET.${this.name}.>`].map((subject) => this.host.subscribe(subject, this.onDirectBound))
      : []
  }

  /** Stops consumers (telling pull requests when the stream is deleted) and unsubscribes. */
  stop(deleted: boolean): void {
    if (this.closed) return
    this.closed = true
    for (const subscription of [...this.subscriptions, ...this.directSubscriptions]) this.host.unsubscribe(subscription)
    this.subscriptions = []
    this.directSubscriptions = []
    for (const consumer of this.consumers.values()) consumer.stop(deleted)
  }

  /** Recent Nats-Msg-Ids come back after a restart, so dedupe keeps working across it. */
  private rebuildDeduplication(): void {
    const windowMs = this.config.duplicate_window / 1e6
    if (windowMs <= 0) return
    const now = Date.now()
    const from = this.store.firstSeqAtOrAfter((now - windowMs) * 1e6)
    if (from === undefined) return
    const lastSeq = this.store.state().lastSeq
    for (let seq = this.store.nextSeqWithHeaders(from); seq !== undefined && seq <= lastSeq; seq = this.store.nextSeqWithHeaders(seq + 1)) {
      const message = this.store.get(seq, "lend")
      if (message?.headers === undefined) continue
      const id = findHeader(message.headers, "Nats-Msg-Id")
      if (id !== undefined) this.deduplicator.remember(id, seq, message.timestamp / 1e6)
    }
    const last = this.store.get(lastSeq, "lend")
    this.lastMessageId = last?.headers === undefined ? "" : (findHeader(last.headers, "Nats-Msg-Id") ?? "")
  }

  /** A message published on one of the stream's subjects (called in the publisher's read loop). */
  ingest(message: InternalMessage): void {
    if (this.closed) return
    const config = this.config
    const reply = message.reply
    const canRespond = reply !== undefined && config.no_ack !== true
    const name = config.name
    // Where a refusal is reported: nowhere without a reply subject or with no_ack.
    const failTo = canRespond ? reply : undefined
    if (config.sealed) return this.fail(failTo, apiError("JSStreamSealedErr"))
    const subject = fromWire(message.subject)
    let headers = message.headers
    let messageId = ""
    let rollup = ""
    const store = this.store
    if (headers !== undefined && headers.length > 0) {
      headers = withoutStatus(headers)
      const found = scanPublishHeaders(headers)
      const expectedStream = found.expectedStream
      if (expectedStream !== undefined && expectedStream !== "" && expectedStream !== name) return this.fail(failTo, apiError("JSStreamNotMatchErr"))
      if (found.ttl !== undefined) return this.fail(failTo, apiError("JSMessageTTLDisabledErr"))
      const expectedSubjectSeq = found.expectedLastSubjectSequence
      const expectedSubject = found.expectedLastSubjectSequenceSubject
      if (expectedSubjectSeq !== undefined) {
        const checked = expectedSubject !== undefined && expectedSubject !== "" && isValidSubject(expectedSubject) ? expectedSubject : subject
        const actual = store.lastSeqBySubject(checked)
        if (actual !== Number(expectedSubjectSeq)) return this.fail(failTo, apiError("JSStreamWrongLastSequenceErrF", { seq: actual }))
      } else if (expectedSubject !== undefined && expectedSubject !== "") {
        return this.fail(failTo, apiError("JSStreamExpectedLastSeqPerSubjectInvalid"))
      }
      const expectedLastSeq = found.expectedLastSequence
      if (expectedLastSeq !== undefined) {
        const lastSeq = store.state().lastSeq
        if (lastSeq !== Number(expectedLastSeq)) return this.fail(failTo, apiError("JSStreamWrongLastSequenceErrF", { seq: lastSeq }))
      }
      messageId = found.messageId ?? ""
      if (messageId !== "") {
        const original = this.deduplicator.find(messageId)
        if (original !== undefined) {
          if (canRespond) this.host.outbound.publishEncoded(reply, 0, this.pubAcks.encodeDuplicate(original))
          return
        }
      }
      const expectedLastId = found.expectedLastMessageId
      if (expectedLastId !== undefined && expectedLastId !== "" && expectedLastId !== this.lastMessageId) {
        return this.fail(failTo, apiError("JSStreamWrongLastMsgIDErrF", { id: this.lastMessageId }))
      }
      rollup = found.rollup ?? ""
      if (rollup !== "") {
        if (!config.allow_rollup_hdrs || config.deny_purge) return this.fail(failTo, apiError("JSStreamRollupFailedF", { err: "rollup not permitted" }))
        if (rollup !== "sub" && rollup !== "all") return this.fail(failTo, apiError("JSStreamRollupFailedF", { err: `rollup value invalid: "${rollup}"` }))
      }
    }
    const headersLength = headers === undefined ? 0 : headers.length
    if (config.max_msg_size >= 0 && headersLength + message.payload.length > config.max_msg_size) {
      return this.fail(failTo, apiError("JSStreamMessageExceedsMaximumErr"))
    }
    if (headersLength > maxHeaderBytes) return this.fail(failTo, apiError("JSStreamHeaderExceedsMaximumErr"))

    if (this.host.storageExhausted(config.storage)) return this.fail(failTo, apiError("JSInsufficientResourcesErr"))
    // Interest retention keeps nothing nobody will read, but the sequence is still used.
    const skip = config.retention === "interest" && !this.hasInterestIn(subject)
    const result = this.append(subject, headers, message.payload)
    if (!result.ok) {
      if (result.reason === "maxMsgSize") return this.fail(failTo, apiError("JSStreamMessageExceedsMaximumErr"))
      return this.fail(failTo, apiError("JSStreamStoreFailedF", { err: appendRejectionText[result.reason] }))
    }
    const seq = result.seq
    this.lastMessageId = messageId
    if (messageId !== "") this.deduplicator.remember(messageId, seq)
    if (skip) {
      store.delete(seq)
    } else {
      if (rollup === "sub") this.removed(store.purge({ subject, keep: 1 }))
      else if (rollup === "all") this.removed(store.purge({ keep: 1 }))
      if (this.consumers.size > 0) for (const consumer of this.consumers.values()) consumer.messageStored(subject)
    }
    if (!canRespond) return
    // Sent within the read when already durable, so the broker's mid-read flushes carry it.
    if (store.durableSeq() >= seq) return this.sendPubAck(reply, seq)
    this.heldAckSeqs.push(seq)
    this.heldAckReplies.push(reply)
  }

  /** Tells the publisher why its message was refused, if it can be told. */
  private fail(reply: string | undefined, error: ApiError): void {
    if (reply !== undefined) this.host.outbound.publish(reply, pubAckError(this.config.name, error))
  }

  /**
   * Appends, holding back acks the store makes durable meanwhile: one sent mid-append could reach
   * a subscriber that publishes into this stream again before the store has finished.
   */
  private append(subject: string, headers: Uint8Array | undefined, payload: Uint8Array): AppendResult {
    this.appending = true
    try {
      return this.store.append(subject, headers, payload)
    } finally {
      this.appending = false
      this.releaseAcks(this.store.durableSeq())
    }
  }

  private sendPubAck(reply: string, seq: number): void {
    this.host.outbound.publishEncoded(reply, 0, this.pubAcks.encode(seq))
  }

  /** Sends the held PubAcks of messages up to `durableSeq`. */
  private releaseAcks(durableSeq: number): void {
    if (this.appending) return
    // The head moves before each send: an ack may reach a subscriber that publishes back into this stream.
    while (this.heldAcksHead < this.heldAckSeqs.length && this.heldAckSeqs[this.heldAcksHead] <= durableSeq) {
      const index = this.heldAcksHead++
      this.sendPubAck(this.heldAckReplies[index], this.heldAckSeqs[index])
    }
    const head = this.heldAcksHead
    if (head === this.heldAckSeqs.length) {
      this.heldAckSeqs.length = 0
      this.heldAckReplies.length = 0
      this.heldAcksHead = 0
    } else if (head >= heldAcksCompaction && head * 2 >= this.heldAckSeqs.length) {
      this.heldAckSeqs = this.heldAckSeqs.slice(head)
      this.heldAckReplies = this.heldAckReplies.slice(head)
      this.heldAcksHead = 0
    }
  }

  /** The store failed: held PubAcks of messages it made durable before go out, the rest fail. */
  private failAcks(error: Error): void {
    const failure = pubAckError(this.name, apiError("JSStreamStoreFailedF", { err: error.message }))
    const durableSeq = this.store.durableSeq()
    const seqs = this.heldAckSeqs
    const replies = this.heldAckReplies
    for (let index = this.heldAcksHead; index < replies.length; index++) {
      if (seqs[index] <= durableSeq) this.sendPubAck(replies[index], seqs[index])
      else this.host.outbound.publish(replies[index], failure)
    }
    this.heldAckSeqs = []
    this.heldAckReplies = []
    this.heldAcksHead = 0
  }

  private hasInterestIn(subject: string): boolean {
    for (const consumer of this.consumers.values()) if (consumer.matchesSubject(subject)) return true
    return false
  }

  acknowledged(consumer: Consumer, seq: number): void {
    if (this.config.retention === "limits") return
    if (this.config.retention === "interest") {
      // Only the subject is read: nothing needs a copy of the payload.
      const message = this.store.get(seq, "lend")
      if (message === undefined) return
      for (const other of this.consumers.values()) {
        if (other !== consumer && other.needsAck(seq, message.subject)) return
      }
    }
    this.store.delete(seq)
  }

  /** After a consumer leaves an interest stream, drop what nobody else needs. */
  private dropUnneeded(from: number): void {
    if (this.config.retention !== "interest") return
    if (this.consumers.size === 0) {
      this.removed(this.store.purge())
      return
    }
    for (let seq = this.store.nextMatchingSeq(from); seq !== undefined; seq = this.store.nextMatchingSeq(seq + 1)) {
      const message = this.store.get(seq, "lend")
      if (message === undefined) continue
      let needed = false
      for (const consumer of this.consumers.values()) {
        if (consumer.needsAck(seq, message.subject)) {
          needed = true
          break
        }
      }
      if (!needed) this.store.delete(seq)
    }
  }

  /** Tells consumers that messages went away (purge, rollup, delete). */
  private removed(count: number, checkEach = true): void {
    if (count === 0) return
    for (const consumer of this.consumers.values()) consumer.messagesRemoved(checkEach)
  }

  stateChanged(consumer: Consumer): void {
    if (consumer.durable && !consumer.closed) this.host.consumerStateChanged(this, consumer)
  }

  expired(consumer: Consumer): void {
    this.deleteConsumer(consumer.name)
  }

  /** Applies an already validated configuration update. */
  update(next: StreamConfig): void {
    const previous = this.config
    this.config = next
    this.store.updateLimits(storeLimitsOf(next))
    this.deduplicator.setWindow(next.duplicate_window / 1e6)
    if (previous.subjects.join(" ") !== next.subjects.join(" ") || previous.allow_direct !== next.allow_direct) this.subscribe()
    this.removed(1)
  }

  /**
   * CONSUMER.CREATE semantics (nats-server addConsumerWithAssignment): validate, then create,
   * return the existing one, or update it, depending on `action`.
   */
  createConsumer(input: ConsumerConfigInput, requestedName: string | undefined, action: ConsumerAction, restored?: { created: number; state?: ConsumerState }): Consumer | ApiError {
    const name = requestedName ?? (input.durable_name || input.name || this.uniqueName())
    if (hasPathSeparator(name)) return apiError("JSConsumerNameContainsPathSeparatorsErr")
    const metadata = input.metadata === null || input.metadata === undefined
      ? undefined
      : Object.fromEntries(Object.entries(input.metadata).filter(([key]) => !key.startsWith("_nats.")))
    const config = applyConsumerDefaults({ ...input, metadata }, this.config, name)
    const invalid = checkConsumerConfig(config, this.config)
    if (invalid !== undefined) return invalid
    const existing = this.consumers.get(name)
    if (existing !== undefined) {
      if (action === "create" && !sameConsumerConfig(config, existing.config)) return apiError("JSConsumerAlreadyExists")
      if (this.config.retention === "workqueue" && !this.partitionUnique(name, filtersOf(config))) return apiError("JSConsumerWQConsumerNotUniqueErr")
      const refused = checkConsumerUpdate(existing.config, config, existing.push && this.host.outbound.hasInterest(toWire(existing.config.deliver_subject ?? "")))
      if (typeof refused === "string") return apiError("JSConsumerCreateErrF", { err: refused })
      if (refused !== undefined) return refused
      if (!sameConsumerConfig(config, existing.config)) {
        existing.updateConfig(config)
        this.host.consumerSaved(this, existing)
        this.dropUnneeded(this.store.state().firstSeq)
      }
      return existing
    }
    if (action === "update") return apiError("JSConsumerDoesNotExist")
    if (restored === undefined) {
      if (this.config.max_consumers > 0 && this.consumers.size >= this.config.max_consumers) return apiError("JSMaximumConsumersLimitErr")
      if (this.config.retention === "workqueue") {
        if (config.ack_policy !== "explicit") return apiError("JSConsumerWQRequiresExplicitAckErr")
        if (this.consumers.size > 0) {
          const filters = filtersOf(config)
          if (filters.length === 0) return apiError("JSConsumerWQMultipleUnfilteredErr")
          if (!this.partitionUnique(name, filters)) return apiError("JSConsumerWQConsumerNotUniqueErr")
        }
        if (config.deliver_policy !== "all") return apiError("JSConsumerWQConsumerNotDeliverAllErr")
      }
    }
    if (isDurable(config) && Buffer.byteLength(name) > maxNameLength) return apiError("JSConsumerNameTooLongErrF", { max: maxNameLength })
    if (!isValidName(name)) return apiError("JSConsumerBadDurableNameErr")
    const consumer = new Consumer(this, name, config, restored?.created ?? nowNanos(), restored?.state)
    this.consumers.set(name, consumer)
    if (restored === undefined) this.host.consumerSaved(this, consumer)
    if (this.started && !this.closed) consumer.start()
    return consumer
  }

  private uniqueName(): string {
    for (;;) {
      const name = randomName()
      if (!this.consumers.has(name)) return name
    }
  }

  /** Workqueue consumers must not share subjects (nats-server partitionUnique). */
  private partitionUnique(name: string, filters: ReadonlyArray<string>): boolean {
    for (const [otherName, other] of this.consumers) {
      if (otherName === name) continue
      const otherFilters = other.filterSubjects
      if (otherFilters.length === 0) return false
      for (const filter of filters) for (const otherFilter of otherFilters) if (subjectsOverlap(filter, otherFilter)) return false
    }
    return true
  }

  deleteConsumer(name: string): boolean {
    const consumer = this.consumers.get(name)
    if (consumer === undefined) return false
    this.consumers.delete(name)
    consumer.stop(true)
    this.host.consumerRemoved(this, consumer)
    this.dropUnneeded(this.store.state().firstSeq)
    return true
  }

  /** STREAM.PURGE with nats-server's rules; returns how many messages went. */
  purge(request: { filter?: string; seq?: number; keep?: number }): number | ApiError {
    if (this.config.sealed) return apiError("JSStreamSealedErr")
    if (this.config.deny_purge) return apiError("JSStreamPurgeFailedF", { err: "stream purge not permitted" })
    if ((request.seq ?? 0) > 0 && (request.keep ?? 0) > 0) return apiError("JSBadRequestErr")
    if (request.filter !== undefined && request.filter !== "" && !isValidSubject(request.filter)) {
      return apiError("JSStreamPurgeFailedF", { err: "invalid subject" })
    }
    const filter = request.filter === undefined || request.filter === "" ? undefined : request.filter
    const purged = this.store.purge({ subject: filter, upToSeq: request.seq === 0 ? undefined : request.seq, keep: request.keep === 0 ? undefined : request.keep })
    this.removed(purged, filter !== undefined || (request.keep ?? 0) > 0)
    return purged
  }

  /** STREAM.MSG.DELETE. */
  deleteMessage(seq: number, erase: boolean): true | ApiError {
    if (this.config.sealed) return apiError("JSStreamSealedErr")
    if (this.config.deny_delete) return apiError("JSStreamMsgDeleteFailedF", { err: "message delete not permitted" })
    if (!this.store.delete(seq, { erase })) {
      // nats-server's file store reports the store error, its memory store the missing sequence.
      if (this.config.storage === "memory") return apiError("JSSequenceNotFoundErrF", { seq })
      return apiError("JSStreamMsgDeleteFailedF", { err: seq > this.store.state().lastSeq ? "stream store EOF" : "no message found" })
    }
    this.removed(1)
    return true
  }

  /** StreamInfo as nats-server 2.10 reports it. */
  info(options: { deletedDetails?: boolean; subjectsFilter?: string; offset?: number } = {}): Record<string, unknown> {
    const state = this.store.state()
    const wireState: Record<string, unknown> = {
      messages: state.messages,
      bytes: state.bytes,
      first_seq: state.firstSeq,
      first_ts: formatTimestamp(state.firstTs),
      last_seq: state.lastSeq,
      last_ts: formatTimestamp(state.lastTs)
    }
    let total = 0
    if (state.numSubjects > 0) wireState.num_subjects = state.numSubjects
    if (options.subjectsFilter !== undefined && options.subjectsFilter !== "") {
      const filter = options.subjectsFilter === ">" ? undefined : options.subjectsFilter
      const counts = [...this.store.subjectsState(filter)].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0))
      total = counts.length
      const page = counts.slice(options.offset ?? 0, (options.offset ?? 0) + subjectsPageLimit)
      if (page.length > 0) wireState.subjects = Object.fromEntries(page)
    }
    if (options.deletedDetails) {
      const deleted = this.store.deletedSequences()
      if (deleted.length > 0) wireState.deleted = deleted
    }
    if (state.numDeleted > 0) wireState.num_deleted = state.numDeleted
    wireState.consumer_count = this.consumers.size
    const paged = options.subjectsFilter !== undefined && options.subjectsFilter !== ""
    return {
      total,
      offset: paged ? (options.offset ?? 0) : 0,
      limit: paged ? subjectsPageLimit : 0,
      config: serializeStreamConfig(this.config),
      created: formatTimestamp(this.created),
      state: wireState,
      cluster: { leader: this.host.serverName },
      ts: formatTimestamp(nowNanos())
    }
  }
}

const subjectsPageLimit = 100_000

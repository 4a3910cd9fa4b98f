import { statusMessage } from "@nex/protocol"
import { ackKind, nakDelay } from "./AckBody.ts"
import { type ConsumerConfig, filtersOf, isDurable, isPush, serializeConsumerConfig } from "./ConsumerConfig.ts"
import type { ConsumerState } from "./ConsumerState.ts"
import { FlowControl } from "./FlowControl.ts"
import type { InterestWaiter, InterestWatcher } from "./InterestWatcher.ts"
import { type Outbound, toWire } from "./Outbound.ts"
import { parsePullRequest, type PullRequest } from "./PullRequest.ts"
import { type LastPerSubject, selectStartPosition } from "./StartPosition.ts"
import { compileFilter, type MessageStore, type StoredMessage, type SubjectFilter } from "./store/index.ts"
import { formatGoDuration, formatTimestamp, nowNanos } from "./Time.ts"
import { WaitingQueue } from "./WaitingQueue.ts"
import { timerDelay } from "./store/timerDelay.ts"

/** What a consumer needs from the stream it belongs to. */
export interface ConsumerHost {
  readonly name: string
  readonly wireName: string
  readonly store: MessageStore
  readonly retention: "limits" | "interest" | "workqueue"
  readonly maxMsgsPerSubject: number
  readonly outbound: Outbound
  readonly interestWatcher: InterestWatcher
  readonly serverName: string
  /** The consumer no longer needs `seq` (interest and workqueue streams may remove it). */
  acknowledged(consumer: Consumer, seq: number): void
  /** Delivery or ack state changed (durable consumers persist it, batched). */
  stateChanged(consumer: Consumer): void
  /** The consumer stayed inactive past its inactive_threshold. */
  expired(consumer: Consumer): void
}

interface Pending {
  /** Consumer sequence of the first delivery (kept on redelivery, as nats-server does). */
  readonly consumerSeq: number
  /** When it was last delivered (ms); the ack wait runs from here. */
  deliveredAt: number
}

interface Candidate {
  /** Lent by the store: used at once, never kept. */
  readonly message: StoredMessage
  readonly deliveryCount: number
  readonly kind: "redelivery" | "lastPerSubject" | "new"
}

const sliceMessages = 256
const sliceBytes = 2 * 1024 * 1024
/** A socket with this much unwritten output gets nothing more until it drains. */
const backpressureBytes = 8 * 1024 * 1024
const backpressureRetryMs = 5
/**
 * A push consumer with an inactive threshold looks for its subscriber every quarter threshold,
 * within these bounds: the broker has no unsubscribe events. The clients' ordered consumers (KV
 * watchers, object reads) ask for 5 minutes, so a 30 s bound makes 10,000 watchers cost 333
 * checks a second rather than 10,000, and an abandoned one goes at most 30 s late.
 */
const interestCheckMinimumMs = 20
const interestCheckMaximumMs = 30_000
const emptyPayload = new Uint8Array(0)
const flowControlRequest = statusMessage(100, "FlowControl Request")

/**
 * One consumer: a cursor over a stream with ack tracking, redelivery, pull request queueing and
 * push delivery. Plain TypeScript: messages go out in bounded slices, one slice per event-loop
 * turn, and each message is written straight into the subscribers' output buffers.
 */
export class Consumer implements InterestWaiter {
  readonly name: string
  readonly wireName: string
  readonly created: number
  config: ConsumerConfig
  private readonly host: ConsumerHost
  private filter: SubjectFilter
  private ackPrefix: string

  /** The next stream sequence to look at for new messages. */
  private streamPosition = 1
  /** The last num_pending computed, with what the store looked like then (see numPending). */
  private pendingCount: { value: number; position: number; lastSeq: number; messages: number } | undefined
  private deliveredSincePendingCount = 0
  private deliveredSeq = 0
  private ackFloorConsumer = 0
  private ackFloorStream = 0
  private readonly pending = new Map<number, Pending>()
  private readonly deliveryCounts = new Map<number, number>()
  private redeliveryQueue: number[] = []
  private readonly redeliverySet = new Set<number>()
  private lastPerSubject: LastPerSubject | undefined
  private readonly waiting: WaitingQueue
  private blockedByAckPending = false

  private lastDeliveredAt = 0
  private lastAckedAt = 0
  private lastSentAt = Date.now()
  private lastRequestAt = Date.now()
  private active = false
  private inactiveSince = Date.now()
  private readonly flowControl = new FlowControl()
  private replayLastTimestamp = 0
  private replayLastSentAt = 0

  private started = false
  private scheduled = false
  private readonly runBound = () => this.run()
  private ackTimer: ReturnType<typeof setTimeout> | undefined
  private ackTimerAt = 0
  private heartbeatTimer: ReturnType<typeof setTimeout> | undefined
  private inactivityTimer: ReturnType<typeof setTimeout> | undefined
  private delayTimer: ReturnType<typeof setTimeout> | undefined
  closed = false

  constructor(host: ConsumerHost, name: string, config: ConsumerConfig, created: number, state?: ConsumerState) {
    this.host = host
    this.name = name
    this.wireName = toWire(name)
    this.config = config
    this.created = created
    this.filter = compileFilter(filtersOf(config))
    this.ackPrefix = `$JS.ACK.${host.wireName}.${this.wireName}.`
    this.waiting = new WaitingQueue(host.outbound, (reply) => this.sendHeartbeat(reply))
    if (state === undefined) {
      // The ack floor starts at 0/0 whatever the start (nats-server's consumer store starts there).
      const start = selectStartPosition(host.store, config, this.filter, host.maxMsgsPerSubject)
      this.streamPosition = start.position
      this.lastPerSubject = start.lastPerSubject
    } else {
      this.restore(state)
    }
  }

  get push(): boolean {
    return isPush(this.config)
  }

  get durable(): boolean {
    return isDurable(this.config)
  }

  get watchedSubject(): string {
    return toWire(this.config.deliver_subject ?? "")
  }

  /** Starts delivery, heartbeats and inactivity tracking. */
  start(): void {
    if (this.started || this.closed) return
    this.started = true
    if (this.push) {
      this.active = this.host.outbound.hasInterest(this.watchedSubject)
      if (!this.active) this.loseInterest()
      this.armHeartbeat()
    }
    this.armInactivity()
    this.armAckTimer()
    this.schedule()
  }

  /** Stops every timer; a deleted pull consumer tells its waiting requests. */
  stop(deleted: boolean): void {
    if (this.closed) return
    this.closed = true
    for (const timer of [this.ackTimer, this.heartbeatTimer, this.inactivityTimer, this.delayTimer]) {
      if (timer !== undefined) clearTimeout(timer)
    }
    this.host.interestWatcher.unwatch(this)
    this.waiting.close(deleted)
  }

  private restore(state: ConsumerState): void {
    this.deliveredSeq = state.delivered.consumer_seq
    this.streamPosition = state.delivered.stream_seq + 1
    this.ackFloorConsumer = state.ack_floor.consumer_seq
    this.ackFloorStream = state.ack_floor.stream_seq
    const sorted = [...state.pending].sort((left, right) => left[0] - right[0])
    for (const [seq, consumerSeq, deliveredAt] of sorted) this.pending.set(seq, { consumerSeq, deliveredAt })
    for (const [seq, count] of state.redelivered) this.deliveryCounts.set(seq, count)
    if (state.last_per_subject !== undefined && state.last_per_subject.seqs.length > 0) {
      this.lastPerSubject = { seqs: [...state.last_per_subject.seqs], index: 0, resume: state.last_per_subject.resume }
    }
    // Messages that disappeared while the server was down are no longer pending.
    this.messagesRemoved(true)
  }

  /** The durable state to persist. */
  snapshot(): ConsumerState {
    const lastPerSubject = this.lastPerSubject
    return {
      delivered: { consumer_seq: this.deliveredSeq, stream_seq: this.streamPosition - 1 },
      ack_floor: { consumer_seq: this.ackFloorConsumer, stream_seq: this.ackFloorStream },
      pending: [...this.pending].map(([seq, entry]) => [seq, entry.consumerSeq, entry.deliveredAt] as const),
      redelivered: [...this.deliveryCounts],
      ...(lastPerSubject !== undefined && lastPerSubject.index < lastPerSubject.seqs.length
        ? { last_per_subject: { seqs: lastPerSubject.seqs.slice(lastPerSubject.index), resume: lastPerSubject.resume } }
        : {})
    }
  }

  /** Messages matching the filter not yet delivered (the `num_pending` of CONSUMER.INFO). */
  numPending(): number {
    const store = this.host.store
    const lastPerSubject = this.lastPerSubject
    if (lastPerSubject !== undefined) {
      return lastPerSubject.seqs.length - lastPerSubject.index + store.numPending(lastPerSubject.resume + 1, this.filter)
    }
    // Counting a filtered subject from the position walks every remaining message of it, so the
    // count is kept incrementally: minus what was delivered, plus what was appended since, and
    // recounted only when the store removed messages in between.
    const state = store.state()
    const cache = this.pendingCount
    let value: number
    if (cache !== undefined && cache.messages + (state.lastSeq - cache.lastSeq) === state.messages && this.streamPosition >= cache.position) {
      const appended = state.lastSeq > cache.lastSeq ? store.numPending(cache.lastSeq + 1, this.filter) : 0
      value = cache.value - this.deliveredSincePendingCount + appended
    } else {
      value = store.numPending(this.streamPosition, this.filter)
    }
    this.pendingCount = { value, position: this.streamPosition, lastSeq: state.lastSeq, messages: state.messages }
    this.deliveredSincePendingCount = 0
    return value
  }

  /** ConsumerInfo as nats-server 2.10 reports it. */
  info(): Record<string, unknown> {
    if (!this.push) this.waiting.prune(Date.now())
    const delivered: Record<string, unknown> = { consumer_seq: this.deliveredSeq, stream_seq: this.streamPosition - 1 }
    if (this.lastDeliveredAt > 0) delivered.last_active = formatTimestamp(this.lastDeliveredAt * 1e6)
    const ackFloor: Record<string, unknown> = { consumer_seq: this.ackFloorConsumer, stream_seq: this.ackFloorStream }
    if (this.lastAckedAt > 0) ackFloor.last_active = formatTimestamp(this.lastAckedAt * 1e6)
    const info: Record<string, unknown> = {
      stream_name: this.host.name,
      name: this.name,
      created: formatTimestamp(this.created),
      config: serializeConsumerConfig(this.config),
      delivered,
      ack_floor: ackFloor,
      num_ack_pending: this.pending.size,
      num_redelivered: this.deliveryCounts.size,
      num_waiting: this.waiting.length,
      num_pending: this.numPending(),
      cluster: { leader: this.host.serverName }
    }
    if (this.push && this.host.outbound.hasInterest(this.watchedSubject)) info.push_bound = true
    info.ts = formatTimestamp(nowNanos())
    return info
  }

  /** Whether this consumer still needs `seq` (interest retention keeps it until nobody does). */
  needsAck(seq: number, subject: string): boolean {
    if (!this.filter.matchesAll && !this.filter.matches(subject)) return false
    if (seq <= this.ackFloorStream) return false
    if (this.config.ack_policy !== "explicit") return true
    if (seq >= this.streamPosition) return true
    return this.pending.has(seq)
  }

  matchesSubject(subject: string): boolean {
    return this.filter.matchesAll || this.filter.matches(subject)
  }

  get filterSubjects(): ReadonlyArray<string> {
    return filtersOf(this.config)
  }

  /** A message was stored on `subject`. */
  messageStored(subject: string): void {
    if (this.filter.matchesAll || this.filter.matches(subject)) this.schedule()
  }

  /**
   * Messages were removed from the stream (purge, delete, limits): forget pending entries whose
   * message is gone and move the cursor past the stream's first sequence.
   */
  messagesRemoved(checkEach: boolean): void {
    const store = this.host.store
    const firstSeq = store.state().firstSeq
    if (this.streamPosition < firstSeq) this.streamPosition = firstSeq
    if (this.ackFloorStream < firstSeq - 1) this.ackFloorStream = firstSeq - 1
    for (const [seq, entry] of this.pending) {
      if (seq < firstSeq || (checkEach && store.nextMatchingSeq(seq) !== seq)) {
        this.pending.delete(seq)
        this.deliveryCounts.delete(seq)
        if (seq < firstSeq && entry.consumerSeq > this.ackFloorConsumer) this.ackFloorConsumer = entry.consumerSeq
      }
    }
    for (const seq of this.deliveryCounts.keys()) if (!this.pending.has(seq)) this.deliveryCounts.delete(seq)
    this.refreshAckFloor()
    this.host.stateChanged(this)
    this.schedule()
  }

  /** A `CONSUMER.MSG.NEXT` request (or `+NXT` ack) whose messages go to `reply` (wire). */
  requestNext(reply: string, payload: Uint8Array): void {
    const outbound = this.host.outbound
    const fail = (code: number, description: string) => outbound.publish(reply, emptyPayload, statusMessage(code, description))
    if (this.closed) return
    if (this.push) return fail(409, "Consumer is push based")
    const body = parsePullRequest(payload)
    if ("error" in body) return fail(400, `Bad Request - ${body.error}`)
    const config = this.config
    if ((config.max_batch ?? 0) > 0 && body.batch > (config.max_batch ?? 0)) return fail(409, `Exceeded MaxRequestBatch of ${config.max_batch}`)
    if (body.expiresNs > 0 && (config.max_expires ?? 0) > 0 && body.expiresNs > (config.max_expires ?? 0)) {
      return fail(409, `Exceeded MaxRequestExpires of ${formatGoDuration(config.max_expires ?? 0)}`)
    }
    if (body.maxBytes > 0 && (config.max_bytes ?? 0) > 0 && body.maxBytes > (config.max_bytes ?? 0)) {
      return fail(409, `Exceeded MaxRequestMaxBytes of ${config.max_bytes}`)
    }
    const now = Date.now()
    this.lastRequestAt = now
    const waiting = this.waiting
    if (waiting.length >= (config.max_waiting ?? 0)) waiting.prune(now)
    if (body.noWait) {
      const available = this.numPending() + this.redeliveryQueue.length
      if (available === 0 && body.expiresNs === 0) return fail(404, "No Messages")
      if (available > 0 && available < waiting.wantedMessages()) return fail(408, "Requests Pending")
    }
    if (waiting.length >= (config.max_waiting ?? 0)) return fail(409, "Exceeded MaxWaiting")
    waiting.add(reply, body, now)
    this.schedule()
  }

  /** Asks for a delivery slice on the next turn of the event loop. */
  schedule(): void {
    if (this.scheduled || this.closed) return
    this.scheduled = true
    setImmediate(this.runBound)
  }

  private scheduleAfter(delayMs: number): void {
    if (this.delayTimer !== undefined || this.closed) return
    this.delayTimer = setTimeout(() => {
      this.delayTimer = undefined
      this.schedule()
    }, timerDelay(delayMs))
    this.delayTimer.unref()
  }

  private run(): void {
    this.scheduled = false
    if (this.closed) return
    const push = this.push
    const outbound = this.host.outbound
    const deliverSubject = push ? this.watchedSubject : ""
    if (push) {
      if (!this.active) return
      // Interest cannot change within a slice except by a delivery closing the subscriber's
      // connection, which deliver's count shows.
      if (!outbound.hasInterest(deliverSubject)) return this.loseInterest()
      if (outbound.pendingBytes(deliverSubject) > backpressureBytes) return this.scheduleAfter(backpressureRetryMs)
    } else if (this.waiting.length === 0) {
      return
    } else if (outbound.pendingBytes(this.waiting.head().reply) > backpressureBytes) {
      return this.scheduleAfter(backpressureRetryMs)
    }
    const now = Date.now()
    let remaining = -1
    let messages = 0
    let bytes = 0
    let exhausted = false
    this.blockedByAckPending = false
    while (messages < sliceMessages && bytes < sliceBytes) {
      if (push) {
        if (this.flowControl.blocked) break
      } else if (this.waiting.length === 0) {
        break
      }
      const candidate = this.nextCandidate()
      if (candidate === undefined) {
        exhausted = !this.blockedByAckPending
        break
      }
      const message = candidate.message
      if (this.config.replay_policy === "original" && candidate.kind !== "redelivery" && this.replayLastTimestamp > 0) {
        const wait = (message.timestamp - this.replayLastTimestamp) / 1e6 - (now - this.replayLastSentAt)
        if (wait > 1) {
          this.scheduleAfter(wait)
          break
        }
      }
      if (remaining < 0) remaining = this.numPending()
      const consumerSeq = this.deliveredSeq + 1
      const pendingAfter = candidate.kind === "redelivery" ? remaining : Math.max(0, remaining - 1)
      const ackReply = `${this.ackPrefix}${candidate.deliveryCount}.${message.seq}.${consumerSeq}.${message.timestamp}.${pendingAfter}`
      const subject = toWire(message.subject)
      let headers = message.headers
      let payload = message.data
      if (this.config.headers_only) {
        headers = headersOnly(headers, payload.length)
        payload = emptyPayload
      }
      const size = subject.length + ackReply.length + (headers === undefined ? 0 : headers.length) + payload.length
      let target = deliverSubject
      let request: PullRequest | undefined
      if (!push) {
        request = this.waiting.next(size, now)
        if (request === undefined) break
        target = request.reply
      }
      this.commit(candidate)
      if (candidate.kind !== "redelivery") remaining--
      const receivers = outbound.deliver(target, subject, ackReply, headers, payload)
      this.delivered(candidate, consumerSeq, now)
      if (request !== undefined) this.waiting.served(request, size, now)
      if (push && this.config.flow_control) this.trackFlow(size)
      if (this.config.replay_policy === "original") {
        this.replayLastTimestamp = message.timestamp
        this.replayLastSentAt = now
      }
      messages++
      bytes += size
      if (push && receivers === 0 && !outbound.hasInterest(deliverSubject)) {
        this.loseInterest()
        break
      }
    }
    if (!push) {
      if (exhausted) this.waiting.finishOneShots()
      this.waiting.armTimer()
    }
    if (messages > 0) this.host.stateChanged(this)
    if (messages >= sliceMessages || bytes >= sliceBytes) this.schedule()
  }

  /** The next message to send, without consuming it (redeliveries first, as nats-server). */
  private nextCandidate(): Candidate | undefined {
    const store = this.host.store
    const maxDeliver = this.config.max_deliver
    while (this.redeliveryQueue.length > 0) {
      const seq = this.redeliveryQueue[0]
      if (!this.pending.has(seq)) {
        this.dropFromRedelivery()
        continue
      }
      const deliveryCount = (this.deliveryCounts.get(seq) ?? 1) + 1
      if (maxDeliver > 0 && deliveryCount > maxDeliver) {
        this.dropFromRedelivery()
        this.exhaust(seq)
        continue
      }
      const message = store.get(seq, "lend")
      if (message === undefined) {
        this.dropFromRedelivery()
        this.forget(seq)
        continue
      }
      return { message, deliveryCount, kind: "redelivery" }
    }
    const maxAckPending = this.config.max_ack_pending ?? 0
    if (maxAckPending > 0 && this.pending.size >= maxAckPending) {
      this.blockedByAckPending = true
      return undefined
    }
    const lastPerSubject = this.lastPerSubject
    if (lastPerSubject !== undefined) {
      while (lastPerSubject.index < lastPerSubject.seqs.length) {
        const message = store.get(lastPerSubject.seqs[lastPerSubject.index], "lend")
        if (message !== undefined) return { message, deliveryCount: 1, kind: "lastPerSubject" }
        lastPerSubject.index++
      }
      this.lastPerSubject = undefined
      if (this.streamPosition <= lastPerSubject.resume) this.streamPosition = lastPerSubject.resume + 1
    }
    const message = store.nextMatching(this.streamPosition, this.filter, "lend")
    if (message === undefined) {
      const lastSeq = store.state().lastSeq
      if (this.streamPosition <= lastSeq) this.streamPosition = lastSeq + 1
      return undefined
    }
    return { message, deliveryCount: 1, kind: "new" }
  }

  private dropFromRedelivery(): void {
    const seq = this.redeliveryQueue.shift() as number
    this.redeliverySet.delete(seq)
  }

  private commit(candidate: Candidate): void {
    const seq = candidate.message.seq
    if (candidate.kind === "redelivery") {
      this.dropFromRedelivery()
    } else if (candidate.kind === "lastPerSubject") {
      const lastPerSubject = this.lastPerSubject as LastPerSubject
      lastPerSubject.index++
      this.streamPosition = seq + 1
    } else {
      this.streamPosition = seq + 1
      this.deliveredSincePendingCount++
    }
  }

  private delivered(candidate: Candidate, consumerSeq: number, now: number): void {
    const seq = candidate.message.seq
    this.deliveredSeq = consumerSeq
    this.lastDeliveredAt = now
    this.lastSentAt = now
    this.lastRequestAt = now
    if (candidate.deliveryCount > 1) this.deliveryCounts.set(seq, candidate.deliveryCount)
    if (this.config.ack_policy === "none") {
      this.ackFloorConsumer = consumerSeq
      this.ackFloorStream = seq
      if (this.host.retention !== "limits") this.host.acknowledged(this, seq)
      return
    }
    const entry = this.pending.get(seq)
    if (entry === undefined) this.pending.set(seq, { consumerSeq, deliveredAt: now })
    else entry.deliveredAt = now
    this.armAckTimer(now + this.ackWaitMs(seq))
  }

  private trackFlow(size: number): void {
    if (!this.flowControl.delivered(size)) return
    const random = Math.random().toString(36).slice(2, 6).padEnd(4, "0")
    const reply = `$JS.FC.${this.host.wireName}.${this.wireName}.${random}`
    this.flowControl.requested(reply)
    this.host.outbound.publish(this.watchedSubject, emptyPayload, flowControlRequest, reply)
  }

  /** A client answered a flow control request (`$JS.FC...` publish). */
  flowControlReply(subject: string): void {
    if (this.flowControl.answered(subject)) this.schedule()
  }

  private loseInterest(): void {
    if (this.active) this.inactiveSince = Date.now()
    this.active = false
    this.host.interestWatcher.watch(this)
    this.armInactivity()
  }

  interestAppeared(): void {
    if (this.closed) return
    this.active = true
    this.armInactivity()
    this.schedule()
  }

  private armHeartbeat(): void {
    const heartbeatMs = (this.config.idle_heartbeat ?? 0) / 1e6
    if (heartbeatMs <= 0 || this.closed || !this.push) return
    const due = this.lastSentAt + heartbeatMs
    this.heartbeatTimer = setTimeout(() => {
      const now = Date.now()
      if (now - this.lastSentAt >= heartbeatMs) {
        if (this.host.outbound.hasInterest(this.watchedSubject)) this.sendHeartbeat(this.watchedSubject)
        this.lastSentAt = now
      }
      this.armHeartbeat()
    }, Math.max(1, due - Date.now()))
    this.heartbeatTimer.unref()
  }

  private sendHeartbeat(subject: string): void {
    const headers: Array<[string, string]> = [
      ["Nats-Last-Consumer", String(this.deliveredSeq)],
      ["Nats-Last-Stream", String(this.streamPosition - 1)]
    ]
    if (this.flowControl.outstanding !== undefined) headers.push(["Nats-Consumer-Stalled", this.flowControl.outstanding])
    this.host.outbound.publish(subject, emptyPayload, statusMessage(100, "Idle Heartbeat", headers))
  }

  private armInactivity(): void {
    if (this.inactivityTimer !== undefined) clearTimeout(this.inactivityTimer)
    this.inactivityTimer = undefined
    const thresholdMs = (this.config.inactive_threshold ?? 0) / 1e6
    if (thresholdMs <= 0 || this.closed) return
    let delay: number
    if (this.push && this.active) {
      // The broker has no unsubscribe events: look for the subscriber now and then.
      delay = Math.max(interestCheckMinimumMs, Math.min(thresholdMs / 4, interestCheckMaximumMs))
    } else {
      const since = this.push ? this.inactiveSince : this.lastRequestAt
      delay = Math.max(1, since + thresholdMs - Date.now())
    }
    this.inactivityTimer = setTimeout(() => this.checkInactivity(), timerDelay(delay))
    this.inactivityTimer.unref()
  }

  private checkInactivity(): void {
    this.inactivityTimer = undefined
    if (this.closed) return
    const thresholdMs = (this.config.inactive_threshold ?? 0) / 1e6
    const now = Date.now()
    if (this.push) {
      if (this.host.outbound.hasInterest(this.watchedSubject)) return this.armInactivity()
      if (this.active) return this.loseInterest()
      if (now - this.inactiveSince < thresholdMs) return this.armInactivity()
      return this.host.expired(this)
    }
    if (now - this.lastRequestAt < thresholdMs) return this.armInactivity()
    this.waiting.prune(now)
    if (this.waiting.length > 0) {
      this.lastRequestAt = now
      return this.armInactivity()
    }
    this.host.expired(this)
  }

  private ackWaitMs(seq: number): number {
    const backoff = this.config.backoff
    if (backoff !== undefined && backoff.length > 0) {
      const index = Math.min((this.deliveryCounts.get(seq) ?? 1) - 1, backoff.length - 1)
      return backoff[index] / 1e6
    }
    return (this.config.ack_wait ?? 30_000_000_000) / 1e6
  }

  private armAckTimer(at?: number): void {
    if (this.closed || this.config.ack_policy === "none" || this.pending.size === 0) return
    const when = at ?? Date.now() + this.ackWaitMs(0)
    if (this.ackTimer !== undefined && this.ackTimerAt <= when) return
    if (this.ackTimer !== undefined) clearTimeout(this.ackTimer)
    this.ackTimerAt = when
    this.ackTimer = setTimeout(() => this.checkPending(), timerDelay(Math.max(1, when - Date.now() + 1)))
    this.ackTimer.unref()
  }

  /** Queues every delivery whose ack wait ran out for redelivery (nats-server checkPending). */
  private checkPending(): void {
    this.ackTimer = undefined
    this.ackTimerAt = 0
    if (this.closed) return
    const now = Date.now()
    const firstSeq = this.host.store.state().firstSeq
    const maxDeliver = this.config.max_deliver
    const expired: number[] = []
    let next = Number.POSITIVE_INFINITY
    let changed = false
    let exhausted = false
    for (const [seq, entry] of this.pending) {
      if (seq < firstSeq || seq <= this.ackFloorStream) {
        this.pending.delete(seq)
        this.deliveryCounts.delete(seq)
        if (seq > this.ackFloorStream) this.ackFloorStream = seq
        if (entry.consumerSeq > this.ackFloorConsumer) this.ackFloorConsumer = entry.consumerSeq
        changed = true
        continue
      }
      const deadline = entry.deliveredAt + this.ackWaitMs(seq)
      if (now >= deadline) {
        if (this.redeliverySet.has(seq)) continue
        if (maxDeliver > 0 && (this.deliveryCounts.get(seq) ?? 1) >= maxDeliver) {
          this.exhaust(seq)
          exhausted = true
          continue
        }
        expired.push(seq)
      } else if (deadline < next) {
        next = deadline
      }
    }
    if (expired.length > 0) {
      expired.sort((left, right) => left - right)
      this.queueRedelivery(expired)
    }
    if (changed) this.refreshAckFloor()
    if (changed || exhausted) this.host.stateChanged(this)
    if (next !== Number.POSITIVE_INFINITY) this.armAckTimer(next)
    else if (this.pending.size > 0) this.armAckTimer()
    if (expired.length > 0 || changed || exhausted) this.schedule()
  }

  private queueRedelivery(seqs: ReadonlyArray<number>): void {
    for (const seq of seqs) {
      if (this.redeliverySet.has(seq)) continue
      this.redeliverySet.add(seq)
      this.redeliveryQueue.push(seq)
    }
  }

  /** Stops tracking `seq` without an ack (max deliveries reached, message gone). */
  private forget(seq: number): void {
    this.pending.delete(seq)
    this.deliveryCounts.delete(seq)
    if (this.redeliverySet.delete(seq)) this.redeliveryQueue = this.redeliveryQueue.filter((queued) => queued !== seq)
    this.refreshAckFloor()
  }

  /**
   * A message delivered max_deliver times leaves pending without being acknowledged: as in
   * nats-server the ack floor stays below it and it still counts as redelivered until the floor
   * passes it.
   */
  private exhaust(seq: number): void {
    this.pending.delete(seq)
    if (this.redeliverySet.delete(seq)) this.redeliveryQueue = this.redeliveryQueue.filter((queued) => queued !== seq)
  }

  /** With nothing left unacknowledged the ack floor catches up with delivery (nats-server). */
  private refreshAckFloor(): void {
    if (this.config.ack_policy === "none" || this.pending.size > 0) return
    this.ackFloorConsumer = this.deliveredSeq
    this.ackFloorStream = this.streamPosition - 1
    for (const seq of this.deliveryCounts.keys()) if (seq <= this.ackFloorStream) this.deliveryCounts.delete(seq)
  }

  /**
   * nats-server's explicit-ack floor rule: the floor moves only when the acked delivery was the
   * one right above it, and then up to just below the next unacknowledged message.
   */
  private advanceAckFloor(streamSeq: number, consumerSeq: number): void {
    if (this.pending.size === 0) return this.refreshAckFloor()
    if (consumerSeq !== this.ackFloorConsumer + 1) return
    this.ackFloorConsumer = consumerSeq
    this.ackFloorStream = streamSeq
    for (const [seq, entry] of this.pending) {
      if (seq <= streamSeq) continue
      if (seq < this.streamPosition) {
        this.ackFloorConsumer = entry.consumerSeq - 1
        this.ackFloorStream = seq - 1
      }
      break
    }
  }

  /**
   * An ack published to `$JS.ACK.<stream>.<consumer>.<dc>.<sseq>.<cseq>.<ts>.<pending>`. Returns
   * whether the ack's own reply (if any) should get the empty confirmation.
   */
  processAck(streamSeq: number, consumerSeq: number, body: Uint8Array, reply: string | undefined): boolean {
    if (this.closed) return true
    const kind = ackKind(body)
    switch (kind) {
      case "ack":
        this.ack(streamSeq, consumerSeq)
        return true
      case "next": {
        this.ack(streamSeq, consumerSeq)
        if (reply !== undefined) this.requestNext(reply, body.subarray(4))
        return false
      }
      case "nak":
        this.nak(streamSeq, body.subarray(4))
        return true
      case "progress": {
        const entry = this.pending.get(streamSeq)
        if (entry !== undefined) {
          entry.deliveredAt = Date.now()
          this.host.stateChanged(this)
        }
        return true
      }
      case "term":
        this.ack(streamSeq, consumerSeq)
        return true
      case "unknown":
        return true
    }
  }

  private ack(streamSeq: number, consumerSeq: number): void {
    const policy = this.config.ack_policy
    if (policy === "none") return
    const maxAckPending = this.config.max_ack_pending ?? 0
    const wasBlocked = maxAckPending > 0 && this.pending.size >= maxAckPending
    if (policy === "explicit") {
      const entry = this.pending.get(streamSeq)
      if (entry === undefined) {
        this.deliveryCounts.delete(streamSeq)
        return
      }
      this.pending.delete(streamSeq)
      this.deliveryCounts.delete(streamSeq)
      if (this.redeliverySet.delete(streamSeq)) this.redeliveryQueue = this.redeliveryQueue.filter((queued) => queued !== streamSeq)
      this.lastAckedAt = Date.now()
      this.advanceAckFloor(streamSeq, entry.consumerSeq)
      if (this.host.retention !== "limits") this.host.acknowledged(this, streamSeq)
    } else {
      if (consumerSeq <= this.ackFloorConsumer || streamSeq <= this.ackFloorStream) return
      const removed: number[] = []
      for (const seq of this.pending.keys()) {
        if (seq > streamSeq) break
        removed.push(seq)
      }
      for (const seq of removed) {
        this.pending.delete(seq)
        this.deliveryCounts.delete(seq)
        this.redeliverySet.delete(seq)
      }
      if (removed.length > 0) this.redeliveryQueue = this.redeliveryQueue.filter((queued) => this.redeliverySet.has(queued))
      this.ackFloorConsumer = consumerSeq
      this.ackFloorStream = streamSeq
      this.lastAckedAt = Date.now()
      if (this.pending.size === 0) this.refreshAckFloor()
      if (this.host.retention !== "limits") for (const seq of removed) this.host.acknowledged(this, seq)
    }
    this.host.stateChanged(this)
    if (wasBlocked || this.pending.size === 0) this.schedule()
  }

  private nak(streamSeq: number, argument: Uint8Array): void {
    const entry = this.pending.get(streamSeq)
    if (entry === undefined) return
    const delayNs = nakDelay(argument)
    if (delayNs !== undefined && delayNs > 0) {
      // Expire `delay` from now: the ack wait runs from deliveredAt.
      if (this.redeliverySet.delete(streamSeq)) this.redeliveryQueue = this.redeliveryQueue.filter((queued) => queued !== streamSeq)
      entry.deliveredAt = Date.now() - this.ackWaitMs(streamSeq) + delayNs / 1e6
      this.armAckTimer(Date.now() + delayNs / 1e6)
      this.host.stateChanged(this)
      return
    }
    this.queueRedelivery([streamSeq])
    this.schedule()
  }

  /** Applies an allowed update (checked by the caller). */
  updateConfig(next: ConsumerConfig): void {
    const previous = this.config
    this.config = next
    if (filtersOf(previous).join(" ") !== filtersOf(next).join(" ")) this.filter = compileFilter(filtersOf(next))
    if (next.deliver_subject !== previous.deliver_subject && this.push) {
      this.active = this.host.outbound.hasInterest(this.watchedSubject)
      this.host.interestWatcher.unwatch(this)
      if (!this.active) this.loseInterest()
    }
    if (next.inactive_threshold !== previous.inactive_threshold) this.armInactivity()
    if (next.ack_wait !== previous.ack_wait && this.ackTimer !== undefined) {
      clearTimeout(this.ackTimer)
      this.ackTimer = undefined
      this.armAckTimer(Date.now() + 100)
    }
    this.schedule()
  }
}

/** Header blocks of messages stored without headers, by payload size: keys() sends one per key. */
const sizeOnlyHeaders = new Map<number, Uint8Array>()
const sizeOnlyHeadersLimit = 4096

/** `Nats-Msg-Size` appended to the stored headers (or a fresh block), payload dropped. */
const headersOnly = (headers: Uint8Array | undefined, size: number): Uint8Array => {
  if (headers === undefined || headers.length < 4) {
    let block = sizeOnlyHeaders.get(size)
    if (block === undefined) {
      block = Buffer.from(`NATS/1.0\r\nNats-Msg-Size: ${size}\r\n\r\n`, "latin1")
      if (sizeOnlyHeaders.size < sizeOnlyHeadersLimit) sizeOnlyHeaders.set(size, block)
    }
    return block
  }
  const line = `Nats-Msg-Size: ${size}\r\n\r\n`
  const kept = headers.subarray(0, headers.length - 2)
  const result = Buffer.allocUnsafe(kept.length + line.length)
  result.set(kept, 0)
  result.write(line, kept.length, "latin1")
  return result
}

import { decodeHeaders, isValidSubject } from "@nex/protocol"
import type { Server } from "./Server.ts"
import { type Delivery, Subscription } from "./Subscription.ts"

/**
 * A message as an in-process subscriber sees it. `headers` and `payload` are views into the
 * publisher's buffer, valid only during the callback: that memory is reused for later messages
 * (a payload spanning two socket reads is assembled in a pooled buffer), so copy what you keep.
 */
export interface InternalMessage {
  readonly subject: string
  readonly reply: string | undefined
  /** The raw header block (NATS/1.0 …), or undefined when the message has none. */
  readonly headers: Uint8Array | undefined
  readonly payload: Uint8Array
}

export type InternalHandler = (message: InternalMessage) => void

export interface PublishOptions {
  readonly reply?: string
  /** An encoded header block (see encodeHeaders). */
  readonly headers?: Uint8Array
}

export interface RequestOptions {
  readonly timeoutMs?: number
  readonly headers?: Uint8Array
}

export class NoRespondersError extends Error {
  constructor(subject: string) {
    super(`no responders are available for subject "${subject}"`)
    this.name = "NoRespondersError"
  }
}

export class RequestTimeoutError extends Error {
  constructor(subject: string, timeoutMs: number) {
    super(`request to "${subject}" timed out after ${timeoutMs} ms`)
    this.name = "RequestTimeoutError"
  }
}

const emptyPayload = new Uint8Array(0)

/** `[start, end)` of `bytes` as a plain Uint8Array: cheaper to make than Buffer#subarray's Buffer. */
const view = (bytes: Uint8Array, start: number, end: number): Uint8Array => new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start)

/** Subjects are latin1 byte strings inside the broker; turn a UTF-8 JS string into that form. */
const toWire = (subject: string): string => {
  for (let index = 0; index < subject.length; index++) {
    if (subject.charCodeAt(index) > 127) return Buffer.from(subject, "utf8").toString("latin1")
  }
  return subject
}

/**
 * A client that lives inside the node (no socket): JetStream and other in-process layers
 * subscribe and publish through it with the same routing, queue groups and no-responders rules.
 */
export class InternalClient implements Delivery {
  readonly cid: number
  readonly name: string
  readonly echo = true
  readonly noResponders = true
  private readonly server: Server
  private readonly handlers = new Map<Subscription, InternalHandler>()
  private readonly inboxPrefix: string
  private nextSid = 1
  private nextRequest = 1
  private inbox: Subscription | undefined
  private readonly pending = new Map<string, (message: InternalMessage) => void>()
  private closed = false

  constructor(server: Server, name: string) {
    this.server = server
    this.name = name
    this.cid = server.allocateCid()
    this.inboxPrefix = `_INBOX.${server.serverId.slice(0, 8)}${this.cid}.`
  }

  subscribe(subject: string, handler: InternalHandler, options: { queue?: string; max?: number } = {}): Subscription {
    if (this.closed) throw new Error(`internal client ${this.name} is closed`)
    const wireSubject = toWire(subject)
    if (!isValidSubject(wireSubject)) throw new Error(`invalid subject "${subject}"`)
    const subscription = new Subscription(this, wireSubject, options.queue, String(this.nextSid++))
    if (options.max !== undefined) subscription.max = options.max
    this.handlers.set(subscription, handler)
    this.server.addSubscription(subscription)
    return subscription
  }

  unsubscribe(subscription: Subscription): void {
    if (this.handlers.delete(subscription)) this.server.removeSubscription(subscription)
  }

  publish(subject: string, payload: Uint8Array = emptyPayload, options: PublishOptions = {}): void {
    if (this.closed) return
    const headers = options.headers
    const reply = options.reply === undefined ? undefined : toWire(options.reply)
    if (headers === undefined || headers.length === 0) {
      this.server.publish(this, toWire(subject), reply, 0, payload)
      return
    }
    const message = new Uint8Array(headers.length + payload.length)
    message.set(headers, 0)
    message.set(payload, headers.length)
    this.server.publish(this, toWire(subject), reply, headers.length, message)
  }

  /** One request, one reply; rejects with NoRespondersError or RequestTimeoutError. */
  request(subject: string, payload: Uint8Array = emptyPayload, options: RequestOptions = {}): Promise<InternalMessage> {
    const timeoutMs = options.timeoutMs ?? 5000
    this.inbox ??= this.subscribe(`${this.inboxPrefix}*`, (message) => this.pending.get(message.subject)?.(message))
    const reply = `${this.inboxPrefix}${this.nextRequest++}`
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(reply)
        reject(new RequestTimeoutError(subject, timeoutMs))
      }, timeoutMs)
      this.pending.set(reply, (message) => {
        this.pending.delete(reply)
        clearTimeout(timer)
        if (message.payload.length === 0 && message.headers !== undefined && decodeHeaders(message.headers).status === 503) {
          reject(new NoRespondersError(subject))
        } else {
          resolve(copyMessage(message))
        }
      })
      this.publish(subject, payload, { reply, headers: options.headers })
    })
  }

  deliver(
    subscription: Subscription,
    subject: string,
    reply: string | undefined,
    headerSize: number,
    message: Uint8Array,
    start = 0,
    end = message.length
  ): boolean {
    const handler = this.handlers.get(subscription)
    if (handler === undefined) return false
    if (subscription.max > 0) {
      if (subscription.delivered >= subscription.max) return false
      if (++subscription.delivered === subscription.max) this.unsubscribe(subscription)
    } else {
      subscription.delivered++
    }
    const headers = headerSize > 0 ? view(message, start, start + headerSize) : undefined
    const payloadStart = start + headerSize
    const payload = payloadStart === end ? emptyPayload : payloadStart === 0 && end === message.length ? message : view(message, payloadStart, end)
    try {
      handler({ subject, reply, headers, payload })
    } catch (error) {
      this.server.log.warn("internal subscriber failed", { client: this.name, subject, error: String(error) })
    }
    return true
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    for (const subscription of this.handlers.keys()) this.server.removeSubscription(subscription)
    this.handlers.clear()
    this.server.internalClients.delete(this)
  }
}

const copyMessage = (message: InternalMessage): InternalMessage => ({
  subject: message.subject,
  reply: message.reply,
  headers: message.headers === undefined ? undefined : Uint8Array.from(message.headers),
  payload: Uint8Array.from(message.payload)
})

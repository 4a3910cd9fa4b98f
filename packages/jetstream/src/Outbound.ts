import { ClientConnection, type InternalClient, type Server, type Subscription } from "@nex/broker"

const emptyPayload = new Uint8Array(0)

/** Subjects inside the broker are latin1 byte strings; JetStream keeps them as text. */
export const toWire = (text: string): string => {
  for (let index = 0; index < text.length; index++) {
    if (text.charCodeAt(index) > 127) return Buffer.from(text, "utf8").toString("latin1")
  }
  return text
}

export const fromWire = (wire: string): string => {
  for (let index = 0; index < wire.length; index++) {
    if (wire.charCodeAt(index) > 127) return Buffer.from(wire, "latin1").toString("utf8")
  }
  return wire
}

/** Headers and payload as one block; no copy when the store keeps them adjacent. */
const joined = (headers: Uint8Array, payload: Uint8Array): Uint8Array => {
  if (payload.length === 0) return headers
  if (headers.buffer === payload.buffer && headers.byteOffset + headers.length === payload.byteOffset) {
    return new Uint8Array(headers.buffer, headers.byteOffset, headers.length + payload.length)
  }
  const message = new Uint8Array(headers.length + payload.length)
  message.set(headers, 0)
  message.set(payload, headers.length)
  return message
}

/**
 * How JetStream talks to clients: API replies and status messages through its internal client,
 * and consumer deliveries routed to the subscribers of a deliver (or pull reply) subject while
 * the MSG line shows the message's stream subject, as nats-server does.
 */
export class Outbound {
  readonly server: Server
  readonly client: InternalClient

  constructor(server: Server, client: InternalClient) {
    this.server = server
    this.client = client
  }

  /** A reply or status message; `subject` and `reply` are wire subjects. */
  publish(subject: string, payload: Uint8Array = emptyPayload, headers?: Uint8Array, reply?: string): void {
    this.client.publish(subject, payload, reply === undefined ? { headers } : { headers, reply })
  }

  /** A reply already encoded as header block then payload (`headerSize` bytes of headers), passed on as is. */
  publishEncoded(subject: string, headerSize: number, message: Uint8Array): void {
    this.server.publish(this.client, subject, undefined, headerSize, message)
  }

  hasInterest(subject: string): boolean {
    return this.server.sublist.hasInterest(subject)
  }

  /**
   * Routes a message to the subscribers of `target` (every plain subscription, one member per
   * queue group) showing `shownSubject` in the MSG line. Returns how many took it.
   */
  deliver(target: string, shownSubject: string, reply: string | undefined, headers: Uint8Array | undefined, payload: Uint8Array): number {
    const server = this.server
    const result = server.sublist.match(target)
    const headerSize = headers === undefined ? 0 : headers.length
    const message = headers === undefined ? payload : joined(headers, payload)
    let delivered = 0
    const plain = result.plain
    const own = this.client
    for (let index = 0; index < plain.length; index++) {
      const subscription = plain[index]
      // A stream capturing the target subject must not re-store its own deliveries.
      if (subscription.owner === own) continue
      if (subscription.owner.deliver(subscription, shownSubject, reply, headerSize, message)) delivered++
    }
    const queues = result.queues
    for (let groupIndex = 0; groupIndex < queues.length; groupIndex++) {
      const group = queues[groupIndex]
      const start = group.length === 1 ? 0 : Math.floor(Math.random() * group.length)
      for (let attempt = 0; attempt < group.length; attempt++) {
        const subscription = group[(start + attempt) % group.length]
        if (subscription.owner !== own && subscription.owner.deliver(subscription, shownSubject, reply, headerSize, message)) {
          delivered++
          break
        }
      }
    }
    server.outMsgs += delivered
    server.outBytes += delivered * message.length
    return delivered
  }

  /** The most bytes any socket subscribed to `target` has waiting to be written (backpressure). */
  pendingBytes(target: string): number {
    const result = this.server.sublist.match(target)
    let most = 0
    const visit = (subscription: Subscription) => {
      const owner = subscription.owner
      if (owner instanceof ClientConnection) {
        const pending = owner.pendingBytes
        if (pending > most) most = pending
      }
    }
    for (const subscription of result.plain) visit(subscription)
    for (const group of result.queues) for (const subscription of group) visit(subscription)
    return most
  }
}

import { randomBytes } from "node:crypto"
import { createServer, type Server as NetServer, type Socket } from "node:net"
import { availableParallelism } from "node:os"
import { encodeError, statusMessage, Sublist } from "@nex/protocol"
import { Authenticator } from "./Auth.ts"
import type { BrokerConfig } from "./BrokerConfig.ts"
import { BusyPoll } from "./BusyPoll.ts"
import { ClientConnection } from "./ClientConnection.ts"
import { InternalClient } from "./InternalClient.ts"
import type { Subscription } from "./Subscription.ts"

/** The nats-server release whose client-visible behaviour this broker follows. */
export const advertisedVersion = "2.10.24"

const closedConnectionsKept = 10_000
/** Covers the ~100 µs a sequential client takes to send its next request, with room for jitter. */
const defaultBusyPollMicros = 200

/** The 503 status nats-server (≤ 2.11) sends to a requester when nobody received the request. */
const noRespondersMessage = statusMessage(503)

/** Where a publish came from: a socket client or an in-process client. */
export interface Publisher {
  readonly cid: number
  readonly echo: boolean
  readonly noResponders: boolean
}

export interface ServerLog {
  readonly info: (message: string, fields?: Record<string, unknown>) => void
  readonly warn: (message: string, fields?: Record<string, unknown>) => void
}

export const silentLog: ServerLog = { info: () => {}, warn: () => {} }

/** A 56-character id in nats-server's style (an `N` and base32 letters). */
const newServerId = (): string => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
  const bytes = randomBytes(55)
  let id = "N"
  for (const byte of bytes) id += alphabet[byte & 31]
  return id
}

/**
 * The broker engine: accepts sockets, keeps the subject index and routes every message. Plain
 * TypeScript on purpose: per-message work never allocates an Effect or a Promise.
 */
export class Server {
  readonly config: BrokerConfig
  readonly serverId = newServerId()
  readonly serverName: string
  readonly authenticator: Authenticator
  readonly sublist = new Sublist<Subscription>()
  readonly clients = new Map<number, ClientConnection>()
  readonly closedClients: ClientConnection[] = []
  readonly internalClients = new Set<InternalClient>()
  readonly startTime = new Date()
  readonly log: ServerLog
  readonly busyPoll: BusyPoll

  inMsgs = 0
  inBytes = 0
  outMsgs = 0
  outBytes = 0
  slowConsumers = 0
  staleConnections = 0
  totalConnections = 0

  private nextCid = 1
  private subscriptionListeners: Array<(subscription: Subscription) => void> = []
  private dirtyClients: ClientConnection[] = []
  private flushScheduled = false
  private readonly flushDirtyBound = () => this.flushDirty()
  private listener: NetServer | undefined
  private sweepTimer: NodeJS.Timeout | undefined
  private shuttingDown = false
  private boundPort = 0
  /** Sockets accepted while the server is held, served once it opens (see `listen`). */
  private heldSockets: Socket[] | undefined
  private infoBase: Record<string, unknown> = {}

  constructor(config: BrokerConfig, log: ServerLog = silentLog) {
    this.config = config
    this.log = log
    this.serverName = config.serverName ?? this.serverId
    this.authenticator = new Authenticator(config.auth)
    // With one CPU the poller would take it from the very client it waits for.
    this.busyPoll = new BusyPoll(config.busyPollMicros ?? (availableParallelism() > 1 ? defaultBusyPollMicros : 0))
  }

  get port(): number {
    return this.boundPort
  }

  /**
   * Binds the listener; rejects with the socket error (EADDRINUSE …) when it cannot. With `held`,
   * sockets are accepted but get no INFO until `open()`: the port is claimed at once while the
   * layers behind it (JetStream recovery) finish, so no client ever sees a half-started node.
   */
  listen(options: { readonly held?: boolean } = {}): Promise<void> {
    if (options.held === true) this.heldSockets = []
    return new Promise((resolve, reject) => {
      const listener = createServer({ noDelay: true }, (socket) => (this.heldSockets === undefined ? this.accept(socket) : this.hold(socket)))
      const onError = (error: Error) => reject(error)
      listener.once("error", onError)
      listener.listen(this.config.port, this.config.host, () => {
        listener.off("error", onError)
        listener.on("error", (error) => this.log.warn("listener error", { error: String(error) }))
        const address = listener.address()
        this.boundPort = typeof address === "object" && address !== null ? address.port : this.config.port
        this.listener = listener
        this.infoBase = this.buildInfoBase()
        this.startSweeper()
        resolve()
      })
    })
  }

  private buildInfoBase(): Record<string, unknown> {
    const info: Record<string, unknown> = {
      server_id: this.serverId,
      server_name: this.serverName,
      version: advertisedVersion,
      proto: 1,
      go: `node${process.versions.node}`,
      host: this.config.host,
      port: this.boundPort,
      headers: true,
      max_payload: this.config.maxPayload
    }
    if (this.authenticator.required) info.auth_required = true
    if (this.config.jetstream) info.jetstream = true
    return info
  }

  /** The INFO fields every client gets (version, proto, max_payload …). */
  get info(): Readonly<Record<string, unknown>> {
    return this.infoBase
  }

  infoFor(client: ClientConnection): Record<string, unknown> {
    return { ...this.infoBase, client_id: client.cid, client_ip: client.ip }
  }

  /** Serves the sockets that arrived while held, and every later one. */
  open(): void {
    const held = this.heldSockets
    if (held === undefined) return
    this.heldSockets = undefined
    for (const socket of held) {
      socket.removeAllListeners("close")
      socket.removeAllListeners("error")
      if (!socket.destroyed) this.accept(socket)
    }
  }

  private hold(socket: Socket): void {
    const held = this.heldSockets
    if (held === undefined) return this.accept(socket)
    held.push(socket)
    // A held client that gives up is forgotten; one that waits is served by open().
    socket.once("close", () => {
      const index = held.indexOf(socket)
      if (index >= 0) held.splice(index, 1)
    })
    socket.on("error", () => socket.destroy())
  }

  private accept(socket: Socket): void {
    if (this.shuttingDown) {
      socket.destroy()
      return
    }
    if (this.clients.size >= this.config.maxConnections) {
      socket.end(encodeError("maximum connections exceeded"))
      return
    }
    const cid = this.nextCid++
    this.totalConnections++
    const client = new ClientConnection(this, socket, cid)
    if (!client.closed) this.clients.set(cid, client)
  }

  /** A connection id for an in-process client; shares the numbering with sockets. */
  allocateCid(): number {
    return this.nextCid++
  }

  connectInternal(name: string): InternalClient {
    const client = new InternalClient(this, name)
    this.internalClients.add(client)
    return client
  }

  addSubscription(subscription: Subscription): void {
    this.sublist.insert(subscription)
    for (const listener of this.subscriptionListeners) listener(subscription)
  }

  /** Calls `listener` for every new subscription (JetStream waits for interest on deliver subjects). */
  onSubscription(listener: (subscription: Subscription) => void): () => void {
    this.subscriptionListeners.push(listener)
    return () => {
      this.subscriptionListeners = this.subscriptionListeners.filter((candidate) => candidate !== listener)
    }
  }

  removeSubscription(subscription: Subscription): void {
    this.sublist.remove(subscription)
  }

  /**
   * Routes one message, `[start, end)` of `message` (all of it by default), to every matching plain
   * subscription and to one member of each queue group; sends the 503 no-responders status when a
   * request reached nobody.
   */
  publish(
    publisher: Publisher,
    subject: string,
    reply: string | undefined,
    headerSize: number,
    message: Uint8Array,
    start = 0,
    end = message.length
  ): number {
    const size = end - start
    this.inMsgs++
    this.inBytes += size
    const result = this.sublist.match(subject)
    const echo = publisher.echo
    let delivered = 0
    const plain = result.plain
    for (let index = 0; index < plain.length; index++) {
      const subscription = plain[index]
      if (!echo && subscription.owner.cid === publisher.cid) continue
      if (subscription.owner.deliver(subscription, subject, reply, headerSize, message, start, end)) delivered++
    }
    const queues = result.queues
    for (let groupIndex = 0; groupIndex < queues.length; groupIndex++) {
      const group = queues[groupIndex]
      const members = group.length
      // nats-server picks a random member; others are tried only if that one cannot take it.
      const first = members === 1 ? 0 : Math.floor(Math.random() * members)
      for (let attempt = 0; attempt < members; attempt++) {
        const subscription = group[(first + attempt) % members]
        if (!echo && subscription.owner.cid === publisher.cid) continue
        if (subscription.owner.deliver(subscription, subject, reply, headerSize, message, start, end)) {
          delivered++
          break
        }
      }
    }
    this.outMsgs += delivered
    this.outBytes += delivered * size
    if (delivered === 0 && reply !== undefined && publisher.noResponders) this.sendNoResponders(publisher, reply)
    return delivered
  }

  /** The status goes to the publisher's own subscription that matches the reply subject. */
  private sendNoResponders(publisher: Publisher, reply: string): void {
    const result = this.sublist.match(reply)
    const own = (subscription: Subscription) => subscription.owner.cid === publisher.cid
    const target = result.plain.find(own) ?? result.queues.flat().find(own)
    if (target === undefined) return
    target.owner.deliver(target, reply, undefined, noRespondersMessage.length, noRespondersMessage)
  }

  markDirty(client: ClientConnection): void {
    this.dirtyClients.push(client)
    if (!this.flushScheduled) {
      this.flushScheduled = true
      queueMicrotask(this.flushDirtyBound)
    }
  }

  /** Writes every connection's pending output, once per read (or per microtask for internal publishes). */
  flushDirty(): void {
    this.flushScheduled = false
    const dirty = this.dirtyClients
    if (dirty.length === 0) return
    this.dirtyClients = []
    for (let index = 0; index < dirty.length; index++) dirty[index].flush()
  }

  countSlowConsumer(): void {
    this.slowConsumers++
  }

  onClosed(client: ClientConnection): void {
    if (!this.clients.delete(client.cid)) return
    this.closedClients.push(client)
    if (this.closedClients.length > closedConnectionsKept) this.closedClients.shift()
    if (client.closeReason === "Slow Consumer (Pending Bytes)" || client.closeReason === "Slow Consumer (Write Deadline)") {
      this.log.warn("slow consumer closed", { cid: client.cid, name: client.name, reason: client.closeReason })
    }
  }

  /** Pings idle clients, closes stale ones and those whose writes stalled past the deadline. */
  private startSweeper(): void {
    const interval = Math.max(10, Math.min(this.config.pingIntervalMs, this.config.writeDeadlineMs, 1000))
    this.sweepTimer = setInterval(() => this.sweep(), interval)
    this.sweepTimer.unref()
  }

  private sweep(): void {
    const now = Date.now()
    const pingInterval = this.config.pingIntervalMs
    const writeDeadline = this.config.writeDeadlineMs
    for (const client of this.clients.values()) {
      if (client.writeBlockedSince !== 0 && now - client.writeBlockedSince > writeDeadline) {
        this.countSlowConsumer()
        client.close("Slow Consumer (Write Deadline)")
        continue
      }
      if (!client.connected) continue
      if (now - client.lastInbound < pingInterval) continue
      if (client.pingsOut >= this.config.pingMax) {
        this.staleConnections++
        client.errorAndClose("Stale Connection", "Stale Connection")
        continue
      }
      client.sendPing()
      // Count the ping as activity so the next one waits a full interval.
      client.lastInbound = now
    }
    this.flushDirty()
  }

  /** Stops accepting, flushes every connection and closes it; waits up to the drain timeout. */
  async shutdown(): Promise<void> {
    if (this.shuttingDown) return
    this.shuttingDown = true
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer)
    this.busyPoll.stop()
    const listenerClosed = new Promise<void>((resolve) => (this.listener ? this.listener.close(() => resolve()) : resolve()))
    for (const socket of this.heldSockets ?? []) socket.destroy()
    this.heldSockets = undefined
    const sockets = [...this.clients.values()].map((client) => client.socket)
    for (const client of [...this.clients.values()]) client.close("Server Shutdown")
    for (const internal of [...this.internalClients]) internal.close()
    const allClosed = Promise.all(
      sockets.map((socket) => (socket.closed ? Promise.resolve() : new Promise<void>((resolve) => socket.once("close", () => resolve()))))
    )
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.config.drainTimeoutMs)))
    await Promise.race([allClosed, timeout])
    if (timer !== undefined) clearTimeout(timer)
    for (const socket of sockets) socket.destroy()
    await listenerClosed
  }
}

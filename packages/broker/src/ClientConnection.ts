import type { Socket } from "node:net"
import {
  encodeError,
  encodeInfo,
  isValidLiteralSubject,
  isValidQueueName,
  isValidSubject,
  OK,
  OutboundBuffer,
  Parser,
  type ParserHandler,
  PING,
  PONG,
  type ProtocolViolation
} from "@nex/protocol"
import type { UserPermissions } from "./Permissions.ts"
import { readWithSharedBuffer } from "./readWithSharedBuffer.ts"
import type { Server } from "./Server.ts"
import { type Delivery, Subscription } from "./Subscription.ts"

/** Why a connection ended, with nats-server's wording (shown by /connz?state=closed). */
export type CloseReason =
  | "Client Closed"
  | "Authentication Timeout"
  | "Authentication Failure"
  | "Slow Consumer (Pending Bytes)"
  | "Slow Consumer (Write Deadline)"
  | "Stale Connection"
  | "Protocol Violation"
  | "Parse Error"
  | "Maximum Message Payload Exceeded"
  | "Maximum Control Line Exceeded"
  | "Maximum Connections Exceeded"
  | "Server Shutdown"
  | "Read Error"
  | "Write Error"

/** Reply prefixes only the server may hand out (nats-server refuses them from clients). */
const reservedReplyPrefixes = ["_R_.", "$JS.ACK.", "_GR_."]

const responsePermitLimit = 1024
/**
 * Requests handled from one read before the replies so far are flushed. A client that sends a
 * burst of requests then starts on the first replies while the node works through the rest,
 * instead of both sides taking turns to sit idle; 16 keeps the extra writes to a few per burst.
 */
const requestsPerFlush = 16

/**
 * One client socket: parses its bytes, applies CONNECT options, auth and permissions, and
 * buffers its outbound messages until the server flushes them once per read.
 */
export class ClientConnection implements ParserHandler, Delivery {
  readonly cid: number
  readonly socket: Socket
  readonly server: Server
  readonly ip: string
  readonly port: number
  readonly start = new Date()
  readonly subscriptions = new Map<string, Subscription>()

  connected = false
  closed = false
  closeReason: CloseReason | undefined
  stopTime: Date | undefined
  // Until CONNECT says otherwise a connection is verbose and pedantic, as in nats-server.
  verbose = true
  pedantic = true
  echo = true
  headers = false
  noResponders = false
  name: string | undefined
  lang: string | undefined
  version: string | undefined
  user: string | undefined
  permissions: UserPermissions | undefined

  inMsgs = 0
  inBytes = 0
  outMsgs = 0
  outBytes = 0
  lastActivity = Date.now()
  lastInbound = Date.now()
  pingsOut = 0
  /** Set while this connection waits in the server's flush list. */
  dirty = false
  /** When a write last left bytes the kernel would not take yet; 0 while writes keep up (see writeDeadlineMs). */
  writeBlockedSince = 0

  private readonly parser: Parser
  private outbound: OutboundBuffer | undefined
  private authTimer: NodeJS.Timeout | undefined
  /** Reply subjects of requests delivered here, which allowResponses lets this user publish to. */
  private responsePermits: Set<string> | undefined
  private readonly onWritten = (): void => this.writeCompleted()
  /**
   * The socket's writableLength as of the last write or write completion, the only times it
   * changes: checked per delivered message, where the stream getter would cost more than the check.
   */
  private socketPending = 0
  /** Requests (messages with a reply subject) handled since the last flush within this read. */
  private requestsSinceFlush = 0

  constructor(server: Server, socket: Socket, cid: number) {
    this.server = server
    this.socket = socket
    this.cid = cid
    this.ip = socket.remoteAddress ?? ""
    this.port = socket.remotePort ?? 0
    const config = server.config
    this.parser = new Parser(this, { maxControlLine: config.maxControlLine, maxPayload: config.maxPayload })
    socket.setNoDelay(true)
    readWithSharedBuffer(socket, (chunk) => this.onData(chunk))
    socket.on("error", () => this.close("Read Error"))
    socket.on("close", () => this.close("Client Closed"))
    this.writeBytes(encodeInfo(server.infoFor(this)))
    if (server.authenticator.required) {
      this.authTimer = setTimeout(() => this.errorAndClose("Authentication Timeout", "Authentication Timeout"), config.authTimeoutMs)
      this.authTimer.unref()
    }
    this.flush()
  }

  private onData(chunk: Buffer): void {
    const now = Date.now()
    this.lastActivity = now
    this.lastInbound = now
    this.requestsSinceFlush = 0
    const messagesBefore = this.inMsgs
    this.parser.parse(chunk)
    this.server.flushDirty()
    // A one-at-a-time client sends a message a read; one sending several is pipelining and
    // gains nothing from a poll that only costs its CPU.
    if (this.inMsgs - messagesBefore <= 1) this.server.busyPoll.touch()
  }

  // --- parser callbacks -----------------------------------------------------------------------

  connect(json: string): void {
    let options: Record<string, unknown>
    try {
      const parsed: unknown = JSON.parse(json)
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return this.close("Parse Error")
      options = parsed as Record<string, unknown>
    } catch {
      return this.close("Parse Error")
    }
    const protocol = options.protocol ?? 0
    if (protocol !== 0 && protocol !== 1) return this.errorAndClose("invalid client protocol", "Protocol Violation")
    const headers = options.headers === true
    const noResponders = options.no_responders === true
    if (noResponders && !headers) return this.errorAndClose("no responders requires headers support", "Protocol Violation")
    if (options.account !== undefined || options.new_account !== undefined) {
      return this.errorAndClose("Authorization Violation", "Authentication Failure")
    }
    const identity = this.server.authenticator.authenticate(options)
    if (identity === undefined) return this.errorAndClose("Authorization Violation", "Authentication Failure")
    if (this.authTimer !== undefined) {
      clearTimeout(this.authTimer)
      this.authTimer = undefined
    }
    // nats-server decodes CONNECT over defaults of verbose, pedantic and echo all true.
    this.verbose = options.verbose !== false
    this.pedantic = options.pedantic !== false
    this.echo = options.echo !== false
    this.headers = headers
    this.noResponders = noResponders
    this.name = typeof options.name === "string" ? options.name : undefined
    this.lang = typeof options.lang === "string" ? options.lang : undefined
    this.version = typeof options.version === "string" ? options.version : undefined
    this.user = identity.user
    this.permissions = identity.permissions
    this.connected = true
    if (this.verbose) this.writeBytes(OK)
  }

  pub(subject: string, reply: string | undefined, buffer: Buffer, start: number, end: number): void {
    this.publish(subject, reply, 0, buffer, start, end)
  }

  hpub(subject: string, reply: string | undefined, headerSize: number, buffer: Buffer, start: number, end: number): void {
    // HPUB without negotiated headers: nats-server closes without a word.
    if (!this.headers) return this.close("Protocol Violation")
    this.publish(subject, reply, headerSize, buffer, start, end)
  }

  sub(subject: string, queue: string | undefined, sid: string): void {
    if (!this.admitted()) return
    if (!isValidSubject(subject) || (queue !== undefined && !isValidQueueName(queue))) {
      return this.sendError("Invalid Subject")
    }
    if (queue === "_sys_" || (this.permissions !== undefined && !this.permissions.canSubscribe(subject, queue))) {
      const usingQueue = queue === undefined ? "" : ` using queue "${queue}"`
      return this.sendError(`Permissions Violation for Subscription to "${subject}"${usingQueue}`)
    }
    if (!this.subscriptions.has(sid)) {
      const limit = this.server.config.maxSubscriptions
      if (limit > 0 && this.subscriptions.size >= limit) return this.sendError("maximum subscriptions exceeded")
      const subscription = new Subscription(this, subject, queue, sid)
      this.subscriptions.set(sid, subscription)
      this.server.addSubscription(subscription)
    }
    if (this.verbose) this.writeBytes(OK)
  }

  unsub(sid: string, max: number | undefined): void {
    if (!this.admitted()) return
    const subscription = this.subscriptions.get(sid)
    if (subscription !== undefined) {
      if (max !== undefined && max > subscription.delivered) subscription.max = max
      else this.removeSubscription(subscription)
    }
    if (this.verbose) this.writeBytes(OK)
  }

  ping(): void {
    if (!this.admitted()) return
    this.writeBytes(PONG)
  }

  pong(): void {
    if (!this.admitted()) return
    this.pingsOut = 0
  }

  clientError(_text: string): void {
    this.close("Protocol Violation")
  }

  protocolError(violation: ProtocolViolation): void {
    if (violation.errorText === undefined) this.close(violation.reason)
    else this.errorAndClose(violation.errorText, violation.reason)
  }

  // --- publishing -----------------------------------------------------------------------------

  private publish(subject: string, reply: string | undefined, headerSize: number, buffer: Buffer, start: number, end: number): void {
    if (!this.admitted()) return
    this.inMsgs++
    this.inBytes += end - start
    if (this.pedantic && !isValidLiteralSubject(subject)) this.sendError("Invalid Publish Subject")
    if (this.permissions !== undefined && !this.permissions.canPublish(subject) && !this.takeResponsePermit(subject)) {
      return this.sendError(`Permissions Violation for Publish to "${subject}"`)
    }
    if (reply !== undefined && isReservedReply(reply)) {
      return this.sendError(`Permissions Violation for Publish with Reply of "${reply}"`)
    }
    if (this.verbose) this.writeBytes(OK)
    this.server.publish(this, subject, reply, headerSize, buffer, start, end)
    if (reply !== undefined && ++this.requestsSinceFlush === requestsPerFlush) {
      this.requestsSinceFlush = 0
      this.server.flushDirty()
    }
  }

  private takeResponsePermit(subject: string): boolean {
    return this.responsePermits !== undefined && this.responsePermits.delete(subject)
  }

  /** Before CONNECT only CONNECT is allowed when auth is required. */
  private admitted(): boolean {
    if (this.connected || !this.server.authenticator.required) return true
    this.errorAndClose("Authorization Violation", "Authentication Failure")
    return false
  }

  // --- delivery -------------------------------------------------------------------------------

  deliver(
    subscription: Subscription,
    subject: string,
    reply: string | undefined,
    headerSize: number,
    message: Uint8Array,
    start = 0,
    end = message.length
  ): boolean {
    if (this.closed) return false
    const permissions = this.permissions
    if (permissions !== undefined && subscription.isWildcard && permissions.hasSubscribeDeny &&
      !permissions.canDeliver(subscription.subject, subject, subscription.queue)) {
      return false
    }
    if (subscription.max > 0) {
      if (subscription.delivered >= subscription.max) return false
      subscription.delivered++
      if (subscription.delivered === subscription.max) this.removeSubscription(subscription)
    } else {
      subscription.delivered++
    }
    const outbound = this.outbound ?? this.createOutbound()
    if (headerSize === 0) outbound.writeMsg(subject, subscription.sid, reply, message, start, end)
    else if (this.headers) outbound.writeHmsg(subject, subscription.sid, reply, headerSize, message, start, end)
    else outbound.writeMsg(subject, subscription.sid, reply, message, start + headerSize, end)
    this.outMsgs++
    this.outBytes += end - start
    if (reply !== undefined && permissions !== undefined && permissions.allowResponses) this.permitResponse(reply)
    this.afterWrite(outbound)
    return true
  }

  private permitResponse(reply: string): void {
    const permits = (this.responsePermits ??= new Set())
    if (permits.size >= responsePermitLimit) permits.clear()
    permits.add(reply)
  }

  writeBytes(bytes: Uint8Array): void {
    if (this.closed) return
    const outbound = this.outbound ?? this.createOutbound()
    outbound.writeBytes(bytes)
    this.afterWrite(outbound)
  }

  sendError(text: string): void {
    this.writeBytes(encodeError(text))
  }

  sendPing(): void {
    this.pingsOut++
    this.writeBytes(PING)
  }

  private createOutbound(): OutboundBuffer {
    // Every buffer taken from it is written with onWritten, which hands it back once the socket is done with it.
    this.outbound = new OutboundBuffer(1024, { recycle: true })
    return this.outbound
  }

  private afterWrite(outbound: OutboundBuffer): void {
    if (outbound.length + this.socketPending > this.server.config.maxPending) {
      this.server.countSlowConsumer()
      this.close("Slow Consumer (Pending Bytes)")
      return
    }
    if (!this.dirty) {
      this.dirty = true
      this.server.markDirty(this)
    }
  }

  /**
   * Hands everything buffered to the socket in one write, unless the socket still holds bytes the
   * kernel would not take: then the output stays in the outbound chunks, counted against
   * maxPending, until the socket has written what it holds.
   */
  flush(): void {
    this.dirty = false
    if (this.writeBlockedSince === 0) this.writePending()
  }

  private writePending(): void {
    const outbound = this.outbound
    const socket = this.socket
    if (outbound === undefined || outbound.length === 0 || socket.destroyed) return
    this.lastActivity = Date.now()
    if (!outbound.isChunked) {
      socket.write(outbound.take(), this.onWritten)
    } else {
      socket.cork()
      for (const chunk of outbound.takeChunks()) socket.write(chunk, this.onWritten)
      socket.uncork()
    }
    this.socketPending = socket.writableLength
    if (this.socketPending > 0) this.writeBlockedSince = this.lastActivity
  }

  /** A write reached the kernel; once the socket holds nothing more, what piled up meanwhile goes out. */
  private writeCompleted(): void {
    this.outbound?.written()
    this.socketPending = this.socket.writableLength
    if (this.writeBlockedSince === 0 || this.socketPending > 0) return
    this.writeBlockedSince = 0
    this.writePending()
  }

  get pendingBytes(): number {
    return (this.outbound?.length ?? 0) + this.socket.writableLength
  }

  // --- teardown -------------------------------------------------------------------------------

  removeSubscription(subscription: Subscription): void {
    if (this.subscriptions.get(subscription.sid) !== subscription) return
    this.subscriptions.delete(subscription.sid)
    this.server.removeSubscription(subscription)
  }

  /** Writes `-ERR '<text>'`, flushes it, then closes, as nats-server does for fatal errors. */
  errorAndClose(text: string, reason: CloseReason): void {
    if (this.closed) return
    this.sendError(text)
    this.close(reason)
  }

  close(reason: CloseReason): void {
    if (this.closed) return
    this.closed = true
    this.parser.stop()
    this.closeReason = reason
    this.stopTime = new Date()
    if (this.authTimer !== undefined) clearTimeout(this.authTimer)
    for (const subscription of this.subscriptions.values()) this.server.removeSubscription(subscription)
    this.server.onClosed(this)
    const slow = reason === "Slow Consumer (Pending Bytes)" || reason === "Slow Consumer (Write Deadline)"
    if (slow || reason === "Read Error" || this.socket.destroyed) {
      this.socket.destroy()
    } else {
      this.writePending()
      this.socket.end()
      // A peer that never reads must not keep the socket open forever.
      setTimeout(() => this.socket.destroy(), 2000).unref()
    }
    this.outbound = undefined
  }
}

const isReservedReply = (reply: string): boolean => {
  const first = reply.charCodeAt(0)
  if (first !== 95 && first !== 36) return false // '_' or '$'
  for (const prefix of reservedReplyPrefixes) if (reply.startsWith(prefix)) return true
  return false
}

import { statusMessage } from "@nex/protocol"
import type { Outbound } from "./Outbound.ts"
import type { PullRequest, PullRequestBody } from "./PullRequest.ts"
import { timerDelay } from "./store/timerDelay.ts"

const emptyPayload = new Uint8Array(0)
const consumerDeleted = statusMessage(409, "Consumer Deleted")

const pendingHeaders = (request: PullRequest): Array<[string, string]> => [
  ["Nats-Pending-Messages", String(request.batch)],
  ["Nats-Pending-Bytes", String(request.maxBytes)]
]

/**
 * A pull consumer's queued `MSG.NEXT` requests (nats-server's waitQueue): FIFO with partly served
 * requests rotated to the back, the 408/409 statuses that end them, and one timer for expiries
 * and per-request idle heartbeats.
 */
export class WaitingQueue {
  private readonly requests: PullRequest[] = []
  private readonly outbound: Outbound
  private readonly sendHeartbeat: (reply: string) => void
  private timer: ReturnType<typeof setTimeout> | undefined
  private timerAt = 0
  private closed = false

  constructor(outbound: Outbound, sendHeartbeat: (reply: string) => void) {
    this.outbound = outbound
    this.sendHeartbeat = sendHeartbeat
  }

  get length(): number {
    return this.requests.length
  }

  /** The oldest request; only call when `length > 0`. */
  head(): PullRequest {
    return this.requests[0]
  }

  /** How many messages the queued requests still want. */
  wantedMessages(): number {
    let wanted = 0
    for (const request of this.requests) wanted += request.batch
    return wanted
  }

  add(reply: string, body: PullRequestBody, now: number): void {
    const heartbeatMs = body.heartbeatNs / 1e6
    this.requests.push({
      reply,
      batch: body.batch > 0 ? body.batch : 1,
      maxBytes: body.maxBytes > 0 ? body.maxBytes : 0,
      expiresAt: body.expiresNs > 0 ? now + body.expiresNs / 1e6 : 0,
      noWait: body.noWait,
      heartbeatMs,
      nextHeartbeatAt: heartbeatMs > 0 ? now + heartbeatMs : 0,
      delivered: 0
    })
    this.armTimer()
  }

  /** Drops expired requests (with a 408) and those nobody listens to any more. */
  prune(now: number): void {
    const requests = this.requests
    for (let index = 0; index < requests.length; ) {
      const request = requests[index]
      if (request.expiresAt > 0 && now >= request.expiresAt) {
        this.status(request, 408, "Request Timeout", true)
        requests.splice(index, 1)
      } else if (!this.outbound.hasInterest(request.reply)) {
        requests.splice(index, 1)
      } else {
        index++
      }
    }
  }

  /** The request the next message (of `size` bytes) goes to, dropping those that cannot take it. */
  next(size: number, now: number): PullRequest | undefined {
    const requests = this.requests
    while (requests.length > 0) {
      const request = requests[0]
      if (request.expiresAt > 0 && now >= request.expiresAt) {
        this.status(request, 408, "Request Timeout", true)
      } else if (!this.outbound.hasInterest(request.reply)) {
        // Gone quietly: the client stopped listening.
      } else if (request.maxBytes > 0 && size > request.maxBytes) {
        this.status(request, 409, "Message Size Exceeds MaxBytes", true)
      } else {
        return request
      }
      requests.shift()
    }
    return undefined
  }

  /** Books a delivery of `size` bytes to `request` (the head). */
  served(request: PullRequest, size: number, now: number): void {
    request.batch--
    request.delivered++
    if (request.maxBytes > 0) {
      request.maxBytes -= size
      if (request.maxBytes <= 0) {
        request.maxBytes = 0
        request.batch = 0
      }
    }
    const requests = this.requests
    if (request.batch <= 0) {
      requests.shift()
      if (request.maxBytes > 0) this.status(request, 409, "Batch Completed", true)
      return
    }
    if (request.heartbeatMs > 0) request.nextHeartbeatAt = now + request.heartbeatMs
    // nats-server rotates a partly served request to the back so requests share the messages.
    if (requests.length > 1) requests.push(requests.shift() as PullRequest)
  }

  /**
   * At the end of the stream `no_wait` requests end: 408 with what is left when some messages
   * came (nats-server ≤ 2.11.10), 404 when none came and the request has no expiry.
   */
  finishOneShots(): void {
    const requests = this.requests
    for (let index = 0; index < requests.length; ) {
      const request = requests[index]
      if (request.noWait && request.delivered > 0) {
        this.status(request, 408, "Request Timeout", true)
        requests.splice(index, 1)
      } else if (request.noWait && request.expiresAt === 0) {
        this.status(request, 404, "No Messages", false)
        requests.splice(index, 1)
      } else {
        index++
      }
    }
  }

  /** One timer for the earliest expiry or heartbeat. */
  armTimer(): void {
    let earliest = Number.POSITIVE_INFINITY
    for (const request of this.requests) {
      if (request.expiresAt > 0 && request.expiresAt < earliest) earliest = request.expiresAt
      if (request.heartbeatMs > 0 && request.nextHeartbeatAt < earliest) earliest = request.nextHeartbeatAt
    }
    if (earliest === Number.POSITIVE_INFINITY || this.closed) return
    if (this.timer !== undefined && this.timerAt <= earliest) return
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timerAt = earliest
    this.timer = setTimeout(() => this.onTimer(), timerDelay(earliest - Date.now()))
    this.timer.unref()
  }

  /** Stops the timer; a deleted consumer tells the requests still listening. */
  close(deleted: boolean): void {
    this.closed = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    if (deleted) {
      for (const request of this.requests) {
        if (this.outbound.hasInterest(request.reply)) this.outbound.publish(request.reply, emptyPayload, consumerDeleted)
      }
    }
    this.requests.length = 0
  }

  private onTimer(): void {
    this.timer = undefined
    this.timerAt = 0
    if (this.closed) return
    const now = Date.now()
    this.prune(now)
    for (const request of this.requests) {
      if (request.heartbeatMs > 0 && now >= request.nextHeartbeatAt) {
        this.sendHeartbeat(request.reply)
        request.nextHeartbeatAt = now + request.heartbeatMs
      }
    }
    this.armTimer()
  }

  private status(request: PullRequest, code: number, description: string, withPending: boolean): void {
    this.outbound.publish(request.reply, emptyPayload, statusMessage(code, description, withPending ? pendingHeaders(request) : undefined))
  }
}

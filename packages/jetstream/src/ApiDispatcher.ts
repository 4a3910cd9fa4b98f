import { findHeader } from "@nex/protocol"
import { type ApiError, apiError } from "./ApiErrors.ts"
import { type ApiResponse, responseType } from "./api.ts"
import { fromWire, type Outbound } from "./Outbound.ts"

/** One API request, copied out of the publisher's buffer. */
export interface ApiRequest {
  /** The subject as text, split into tokens. */
  readonly tokens: ReadonlyArray<string>
  readonly subject: string
  /** Wire subject for the answer. */
  readonly reply: string
  readonly headers: Uint8Array | undefined
  readonly payload: Uint8Array
}

/**
 * Answers a request: a JSON response to publish to the reply subject, or nothing when the
 * handler answered by itself (raw messages, statuses).
 */
export type ApiHandler = (request: ApiRequest) => ApiResponse | undefined | Promise<ApiResponse | undefined>

export interface Route {
  /** Subject pattern below `$JS.API.`, with `*` and a trailing `>`. */
  readonly pattern: string
  readonly handler: ApiHandler
}

interface Queued {
  readonly request: ApiRequest
  readonly handler: ApiHandler
}

const encoder = new TextEncoder()
const requestsPerTurn = 64
/** The JetStream API level this server implements (nats-server 2.10: 0). */
export const apiLevel = 0

const splitTokens = (subject: string): string[] => subject.split(".")

const matches = (pattern: ReadonlyArray<string>, tokens: ReadonlyArray<string>): boolean => {
  for (let index = 0; index < pattern.length; index++) {
    const token = pattern[index]
    if (token === ">") return tokens.length > index
    if (index >= tokens.length) return false
    if (token !== "*" && token !== tokens[index]) return false
  }
  return pattern.length === tokens.length
}

/**
 * The JetStream API: a table of subject pattern → handler. Requests are copied out of the read
 * loop into a bounded queue and answered one at a time on later turns of the event loop; a full
 * queue answers at once with an error instead of growing.
 */
export class ApiDispatcher {
  private readonly routes: Array<{ readonly pattern: ReadonlyArray<string>; readonly handler: ApiHandler }> = []
  private readonly outbound: Outbound
  private readonly limit: number
  private queue: Queued[] = []
  private head = 0
  private draining = false
  private closed = false
  private idle: Promise<void> = Promise.resolve()
  private markIdle: () => void = () => {}
  total = 0
  errors = 0

  constructor(outbound: Outbound, limit = 4096) {
    this.outbound = outbound
    this.limit = limit
  }

  add(routes: ReadonlyArray<Route>): void {
    for (const route of routes) this.routes.push({ pattern: splitTokens(`$JS.API.${route.pattern}`), handler: route.handler })
  }

  /** The handler for a subject, if the table has one. */
  route(tokens: ReadonlyArray<string>): ApiHandler | undefined {
    for (const route of this.routes) if (matches(route.pattern, tokens)) return route.handler
    return undefined
  }

  /** Copies a request (the views are only valid during the call) and queues it. */
  enqueue(subject: string, reply: string | undefined, headers: Uint8Array | undefined, payload: Uint8Array, handler?: ApiHandler): void {
    if (reply === undefined || this.closed) return
    const text = fromWire(subject)
    const tokens = splitTokens(text)
    const chosen = handler ?? this.route(tokens)
    if (chosen === undefined) {
      this.reply(reply, { type: responseType.system, error: apiError("JSBadRequestErr") })
      return
    }
    const level = headers === undefined ? undefined : findHeader(headers, "Nats-Required-Api-Level")
    if (level !== undefined && Number(level) > apiLevel) {
      this.reply(reply, { type: responseType.system, error: apiError("JSRequiredApiLevelErr") })
      return
    }
    if (this.queue.length - this.head >= this.limit) {
      this.reply(reply, { type: responseType.system, error: apiError("JSClusterNotAvailErr") })
      return
    }
    const request: ApiRequest = {
      tokens,
      subject: text,
      reply,
      headers: headers === undefined ? undefined : Uint8Array.from(headers),
      payload: Uint8Array.from(payload)
    }
    this.queue.push({ request, handler: chosen })
    if (!this.draining) {
      this.draining = true
      this.idle = new Promise((resolve) => (this.markIdle = resolve))
      setImmediate(() => void this.drain())
    }
  }

  /** Stops taking requests; resolves when the one in progress is answered. */
  close(): Promise<void> {
    this.closed = true
    this.queue = []
    this.head = 0
    return this.idle
  }

  private async drain(): Promise<void> {
    let handled = 0
    while (this.head < this.queue.length && !this.closed) {
      const { request, handler } = this.queue[this.head]
      this.queue[this.head++] = undefined as unknown as Queued
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head)
        this.head = 0
      }
      try {
        const pending = handler(request)
        const response = pending instanceof Promise ? await pending : pending
        if (response !== undefined) this.reply(request.reply, response)
        else this.total++
      } catch (error) {
        this.reply(request.reply, { type: responseType.system, error: apiError("JSStreamGeneralErrorF", { err: String((error as Error)?.message ?? error) }) })
      }
      if (++handled % requestsPerTurn === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    this.draining = false
    this.markIdle()
  }

  private reply(reply: string, response: ApiResponse): void {
    this.total++
    if (response.error !== undefined) this.errors++
    this.outbound.publish(reply, encoder.encode(JSON.stringify(response)))
  }
}

/** A JSON error response of the given type. */
export const errorResponse = (type: ApiResponse["type"], error: ApiError): ApiResponse => ({ type, error })

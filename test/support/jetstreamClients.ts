import {
  AckPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager
} from "@nats-io/jetstream"
import { connect as connectCurrent, headers as currentHeaders, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node"
import * as legacy from "nats"
import { afterAll, beforeAll } from "vitest"

/** An API error as both clients expose it: the server's JSON `error` object. */
export interface ApiErrorView {
  readonly code: number
  readonly err_code: number
  readonly description: string
}

/** The API error a JetStream call failed with, or undefined when it failed some other way. */
export const apiErrorOf = (error: unknown): ApiErrorView | undefined => {
  if (typeof error !== "object" || error === null) return undefined
  const current = (error as { apiError?: () => ApiErrorView }).apiError
  if (typeof current === "function") return current.call(error)
  return (error as { api_error?: ApiErrorView }).api_error
}

/** Runs `call` and reports its value, or the API error it failed with (any other failure is rethrown). */
export const outcome = async <A>(call: Promise<A>): Promise<{ readonly value: A } | { readonly error: ApiErrorView }> => {
  try {
    return { value: await call }
  } catch (error) {
    const apiError = apiErrorOf(error)
    if (apiError === undefined) throw error
    return { error: { code: apiError.code, err_code: apiError.err_code, description: apiError.description } }
  }
}

export interface StoredView {
  readonly subject: string
  readonly seq: number
  readonly data: string
  readonly headers: Record<string, Array<string>>
}

export interface PubAckView {
  readonly stream: string
  readonly seq: number
  readonly duplicate: boolean
}

/** A delivered message and what both clients report about it. */
export interface Delivered {
  readonly subject: string
  readonly data: string
  readonly streamSequence: number
  readonly deliverySequence: number
  readonly deliveryCount: number
  readonly pending: number
  readonly redelivered: boolean
  readonly message: JsMsg | legacy.JsMsg
}

export interface PublishOptions {
  readonly msgID?: string
  readonly expect?: Partial<{ lastMsgID: string; streamName: string; lastSequence: number; lastSubjectSequence: number }>
  readonly headers?: Record<string, string>
}

/** One connection through one official client, reduced to the JetStream calls the tests make. */
export interface JetStreamConnection {
  /** The client's JetStream manager; the legacy one has the same stream and consumer calls. */
  readonly manager: JetStreamManager
  readonly core: NatsConnection | legacy.NatsConnection
  readonly publish: (subject: string, data: string, options?: PublishOptions) => Promise<PubAckView>
  /** STREAM.MSG.GET; null when the server has no such message. */
  readonly getMessage: (stream: string, query: { seq: number } | { last_by_subj: string }) => Promise<StoredView | null>
  /** DIRECT.GET; null when the server has no such message. */
  readonly directGet: (stream: string, query: { seq: number } | { last_by_subj: string }) => Promise<StoredView | null>
  /** Up to `batch` messages from a pull consumer, waiting at most `expires` ms. */
  readonly fetch: (stream: string, consumer: string, options: { batch: number; expires: number }) => Promise<Array<Delivered>>
  /** Delivers messages from a pull consumer to `handle` until it returns false. */
  readonly consume: (stream: string, consumer: string, handle: (message: Delivered) => boolean) => Promise<void>
  /**
   * Receives `count` messages through a durable push consumer delivering to `deliverSubject`,
   * acknowledging each, the way the client sets one up (v3: create, then consume; legacy:
   * js.subscribe, which subscribes first and creates the consumer after).
   */
  readonly push: (stream: string, durable: string, filter: string, deliverSubject: string, count: number) => Promise<Array<Delivered>>
  /** Reads a stream through an ordered consumer until `count` messages arrived. */
  readonly ordered: (stream: string, filter: string, count: number) => Promise<Array<Delivered>>
  readonly close: () => Promise<void>
}

export interface JetStreamKit {
  readonly name: "@nats-io/jetstream" | "nats"
  /** Prefix for stream names, so the two clients' scenarios never share a stream. */
  readonly tag: string
  readonly open: (url: string) => Promise<JetStreamConnection>
}

const decode = (data: Uint8Array): string => Buffer.from(data).toString("utf8")

const headerRecord = (headers: MsgHdrs | legacy.MsgHdrs | undefined): Record<string, Array<string>> => {
  const record: Record<string, Array<string>> = {}
  if (headers === undefined) return record
  for (const key of headers.keys()) record[key] = headers.values(key)
  return record
}

const delivered = (message: JsMsg | legacy.JsMsg): Delivered => ({
  subject: message.subject,
  data: decode(message.data),
  streamSequence: message.info.streamSequence,
  deliverySequence: message.info.deliverySequence,
  deliveryCount: message.info.deliveryCount,
  pending: message.info.pending,
  redelivered: message.info.redelivered,
  message
})

const storedView = (message: { subject: string; seq: number; data: Uint8Array; header: MsgHdrs | legacy.MsgHdrs }): StoredView => ({
  subject: message.subject,
  seq: message.seq,
  data: decode(message.data),
  headers: headerRecord(message.header)
})

const noMessageFound = 10037

const currentKit: JetStreamKit = {
  name: "@nats-io/jetstream",
  tag: "V3",
  open: async (url) => {
    const connection = await connectCurrent({ servers: url })
    const manager = await jetstreamManager(connection)
    const client: JetStreamClient = jetstream(connection)
    return {
      manager,
      core: connection,
      publish: async (subject, data, options = {}) => {
        let headers: MsgHdrs | undefined
        if (options.headers !== undefined) {
          headers = currentHeaders()
          for (const [key, value] of Object.entries(options.headers)) headers.set(key, value)
        }
        const ack = await client.publish(subject, data, { msgID: options.msgID, expect: options.expect, headers })
        return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate }
      },
      getMessage: async (stream, query) => {
        const message = await manager.streams.getMessage(stream, query)
        return message === null ? null : storedView(message)
      },
      directGet: async (stream, query) => {
        const message = await manager.direct.getMessage(stream, query)
        return message === null ? null : storedView(message)
      },
      fetch: async (stream, consumer, options) => {
        const pull = await client.consumers.get(stream, consumer)
        const messages = await pull.fetch({ max_messages: options.batch, expires: options.expires })
        const received: Array<Delivered> = []
        for await (const message of messages) received.push(delivered(message))
        return received
      },
      consume: async (stream, consumer, handle) => {
        const pull = await client.consumers.get(stream, consumer)
        const messages = await pull.consume({ max_messages: 10 })
        for await (const message of messages) {
          if (!handle(delivered(message))) break
        }
        await messages.close()
      },
      push: async (stream, durable, filter, deliverSubject, count) => {
        await manager.consumers.add(stream, { durable_name: durable, deliver_subject: deliverSubject, filter_subject: filter, ack_policy: AckPolicy.Explicit })
        const pushConsumer = await client.consumers.getPushConsumer(stream, durable)
        const messages = await pushConsumer.consume()
        const received: Array<Delivered> = []
        for await (const message of messages) {
          received.push(delivered(message))
          message.ack()
          if (received.length === count) break
        }
        await messages.close()
        return received
      },
      ordered: async (stream, filter, count) => {
        const orderedConsumer = await client.consumers.get(stream, { filter_subjects: filter })
        const messages = await orderedConsumer.consume()
        const received: Array<Delivered> = []
        for await (const message of messages) {
          received.push(delivered(message))
          if (received.length === count) break
        }
        await messages.close()
        return received
      },
      close: () => connection.close()
    }
  }
}

const legacyKit: JetStreamKit = {
  name: "nats",
  tag: "LG",
  open: async (url) => {
    const connection = await legacy.connect({ servers: url })
    const manager = await connection.jetstreamManager()
    const client = connection.jetstream()
    const missingAsNull = async <A>(call: Promise<A>): Promise<A | null> => {
      try {
        return await call
      } catch (error) {
        if (apiErrorOf(error)?.err_code === noMessageFound || (error as { code?: string }).code === "404") return null
        throw error
      }
    }
    return {
      manager: manager as unknown as JetStreamManager,
      core: connection,
      publish: async (subject, data, options = {}) => {
        let headers: legacy.MsgHdrs | undefined
        if (options.headers !== undefined) {
          headers = legacy.headers()
          for (const [key, value] of Object.entries(options.headers)) headers.set(key, value)
        }
        const ack = await client.publish(subject, legacy.StringCodec().encode(data), { msgID: options.msgID, expect: options.expect, headers })
        return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate }
      },
      getMessage: async (stream, query) => {
        const message = await missingAsNull(manager.streams.getMessage(stream, query))
        return message === null ? null : storedView(message)
      },
      directGet: async (stream, query) => {
        // `direct` is on the legacy manager object but missing from its interface.
        const direct = (manager as unknown as { direct: { getMessage: (stream: string, query: object) => Promise<legacy.StoredMsg> } }).direct
        const message = await missingAsNull(direct.getMessage(stream, query))
        return message === null ? null : storedView(message)
      },
      // The legacy client's own pull API: js.fetch sends one pull request with batch and expires.
      fetch: async (stream, consumer, options) => {
        const messages = client.fetch(stream, consumer, { batch: options.batch, expires: options.expires })
        const received: Array<Delivered> = []
        for await (const message of messages) received.push(delivered(message))
        return received
      },
      consume: async (stream, consumer, handle) => {
        const pull = await client.consumers.get(stream, consumer)
        const messages = await pull.consume({ max_messages: 10 })
        for await (const message of messages) {
          if (!handle(delivered(message))) break
        }
        messages.stop()
      },
      push: async (stream, durable, filter, deliverSubject, count) => {
        const options = legacy.consumerOpts().durable(durable).deliverTo(deliverSubject).ackExplicit().manualAck().deliverAll().bindStream(stream)
        const subscription = await client.subscribe(filter, options)
        const received: Array<Delivered> = []
        for await (const message of subscription) {
          received.push(delivered(message))
          message.ack()
          if (received.length === count) break
        }
        await connection.flush()
        subscription.unsubscribe()
        return received
      },
      // The legacy client's ordered consumer is a push consumer with flow control and heartbeats.
      ordered: async (stream, filter, count) => {
        const options = legacy.consumerOpts().orderedConsumer().bindStream(stream).filterSubject(filter)
        const subscription = await client.subscribe(filter, options)
        const received: Array<Delivered> = []
        for await (const message of subscription) {
          received.push(delivered(message))
          if (received.length === count) break
        }
        subscription.unsubscribe()
        return received
      },
      close: () => connection.close()
    }
  }
}

/** Both official clients' JetStream APIs: @nats-io/jetstream 3.4 and the legacy `nats` 2.29. */
export const jetStreamKits: ReadonlyArray<JetStreamKit> = [currentKit, legacyKit]

/**
 * One official client's JetStream connection for a describe block (opened before its tests,
 * closed after), with the names a kit's tests use so both kits can share one server:
 * `<tag>_<base>` streams, `<tag>.<base>` subjects, and observations labelled with the kit.
 */
export const useJetStreamKit = (
  kit: JetStreamKit,
  server: () => { readonly url: string },
  observeAs: (scenario: string, observation: unknown) => void
) => {
  let connection: JetStreamConnection | undefined
  beforeAll(async () => {
    connection = await kit.open(server().url)
  })
  afterAll(async () => {
    await connection?.close()
  })
  return {
    js: (): JetStreamConnection => {
      if (connection === undefined) throw new Error(`${kit.name}: JetStream connection is not open (used outside a test?)`)
      return connection
    },
    name: (base: string): string => `${kit.tag}_${base}`,
    subject: (base: string): string => `${kit.tag.toLowerCase()}.${base}`,
    observe: (scenario: string, observation: unknown): void => observeAs(`${scenario} (${kit.name})`, observation)
  }
}

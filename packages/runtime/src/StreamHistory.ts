import { DeliverPolicy, jetstream } from "@nats-io/jetstream"
import type { NatsConnection } from "@nats-io/transport-node"
import { Data, Effect } from "effect"

/** One stored message of NEX_LOGS or NEX_EVENTS. */
export interface StoredEntry {
  readonly subject: string
  readonly data: Uint8Array
  /** When the stream stored it. */
  readonly time: Date
}

export interface HistoryQuery {
  readonly stream: string
  readonly subject: string
  /** The oldest entry wanted. */
  readonly since: Date
  /** Keep waiting for new entries after the stored ones, until `signal` aborts. */
  readonly follow: boolean
  readonly signal?: AbortSignal | undefined
}

export class HistoryError extends Data.TaggedError("HistoryError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * The entries of a stream on one subject from a point in time, through an ordered consumer
 * (no state left on the server). Without `follow` it ends at the newest stored entry.
 */
export async function* readStream(connection: NatsConnection, query: HistoryQuery): AsyncGenerator<StoredEntry> {
  const consumer = await jetstream(connection).consumers.get(query.stream, {
    filter_subjects: query.subject,
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: query.since.toISOString()
  })
  const messages = await consumer.consume()
  // Stopping ends a pending wait for the next message; returning from the loop could not.
  const stop = () => messages.stop()
  query.signal?.addEventListener("abort", stop, { once: true })
  try {
    // The pending count is the consumer's as created: what was stored when the read began.
    if (!query.follow && (await consumer.info(true)).num_pending === 0) return
    for await (const message of messages) {
      yield { subject: message.subject, data: message.data, time: new Date(Math.floor(message.info.timestampNanos / 1e6)) }
      if (!query.follow && message.info.pending === 0) return
    }
  } finally {
    query.signal?.removeEventListener("abort", stop)
    messages.stop()
  }
}

/** The newest `limit` entries of a window, oldest first. */
export const readRecent = (connection: NatsConnection, query: Omit<HistoryQuery, "follow">, limit: number): Effect.Effect<ReadonlyArray<StoredEntry>, HistoryError> =>
  Effect.tryPromise({
    try: async () => {
      const entries: Array<StoredEntry> = []
      for await (const entry of readStream(connection, { ...query, follow: false })) {
        entries.push(entry)
        if (entries.length > limit) entries.shift()
      }
      return entries
    },
    catch: (cause) => new HistoryError({ message: `could not read ${query.stream}: ${cause instanceof Error ? cause.message : String(cause)}`, cause })
  })

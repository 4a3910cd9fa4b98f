import { createInbox, type NatsConnection } from "@nats-io/transport-node"

// Enough publishes in flight to keep the server busy, few enough that it never buffers much.
const window = 2048
// A server that acknowledges nothing for this long has stalled; the run fails instead of hanging.
const stallTimeoutMs = 30_000

/**
 * Publishes `count` messages, the i-th to `subjectOf(i)`, with up to `window` PubAcks outstanding.
 * The acks arrive on one inbox subscription rather than one request per message, so the client
 * is not what limits the rate. Resolves once every publish is acknowledged without error.
 */
export const fillStream = async (
  connection: NatsConnection,
  count: number,
  subjectOf: (index: number) => string,
  payload: Uint8Array
): Promise<void> => {
  const inbox = createInbox()
  let acknowledged = 0
  let failure: string | undefined
  let progressed: (() => void) | undefined
  const subscription = connection.subscribe(inbox, {
    callback: (_error, message) => {
      const ack = message.json<{ error?: { description?: string } }>()
      if (ack.error !== undefined) failure ??= ack.error.description ?? JSON.stringify(ack.error)
      acknowledged++
      progressed?.()
    }
  })
  const waitForAcks = async (atLeast: number): Promise<void> => {
    while (acknowledged < atLeast && failure === undefined) {
      const before = acknowledged
      let timer: NodeJS.Timeout | undefined
      await new Promise<void>((resolve) => {
        progressed = resolve
        timer = setTimeout(resolve, stallTimeoutMs)
      })
      clearTimeout(timer)
      progressed = undefined
      if (acknowledged === before) throw new Error(`no PubAck for ${stallTimeoutMs / 1000} s after ${acknowledged} of ${count} publishes`)
    }
  }
  try {
    for (let issued = 0; issued < count; issued++) {
      if (issued - acknowledged >= window) await waitForAcks(issued - window / 2)
      if (failure !== undefined) break
      connection.publish(subjectOf(issued), payload, { reply: inbox })
    }
    await waitForAcks(count)
    if (failure !== undefined) throw new Error(`a publish failed: ${failure}`)
  } finally {
    subscription.unsubscribe()
  }
}

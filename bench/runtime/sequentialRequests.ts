import type { NatsConnection } from "@nats-io/transport-node"

const payload = new TextEncoder().encode("hello")

/** Sends `count` requests one after another, writing each latency (ms) into `latencies` from `offset`; returns the time taken (ms). */
export const sequentialRequests = async (client: NatsConnection, subject: string, count: number, latencies: Float64Array, offset: number): Promise<number> => {
  const startedAt = performance.now()
  for (let index = 0; index < count; index++) {
    const sentAt = performance.now()
    await client.request(subject, payload, { timeout: 5000 })
    latencies[offset + index] = performance.now() - sentAt
  }
  return performance.now() - startedAt
}

/** Sends `count` requests with `inFlight` outstanding at a time; returns the time taken (ms). */
export const concurrentRequests = async (client: NatsConnection, subject: string, count: number, inFlight: number): Promise<number> => {
  let sent = 0
  const startedAt = performance.now()
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (sent < count) {
        sent++
        await client.request(subject, payload, { timeout: 5000 })
      }
    })
  )
  return performance.now() - startedAt
}

/** The first successful reply on `subject`, retrying while nothing answers yet (bounded by `timeoutMs`). */
export const firstReply = async (client: NatsConnection, subject: string, timeoutMs = 10_000): Promise<void> => {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    try {
      await client.request(subject, payload, { timeout: 1000 })
      return
    } catch (error) {
      if (performance.now() > deadline) throw error
    }
  }
}

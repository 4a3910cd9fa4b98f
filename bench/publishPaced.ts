import type { NatsConnection } from "@nats-io/transport-node"

export interface PacedPublish {
  readonly subject: string
  readonly payload: Uint8Array
  readonly count: number
  /** Stop publishing at this Date.now() value even if `count` is not reached. */
  readonly deadline: number
  /**
   * Awaited before each batch with the number published so far; lets a scenario hold the publisher
   * back until its subscribers have caught up.
   */
  readonly beforeBatch?: (published: number) => Promise<void>
}

const batchBytes = 256 * 1024

/**
 * Publishes in batches with one flush (PING/PONG) in flight, so the client never buffers more
 * than about two batches and the pipe to the server stays full. Resolves with the number published
 * once the server has acknowledged the last flush.
 */
export const publishPaced = async (connection: NatsConnection, options: PacedPublish): Promise<number> => {
  const batch = Math.max(100, Math.min(20_000, Math.floor(batchBytes / (options.payload.length + 32))))
  let published = 0
  let previousFlush: Promise<void> = Promise.resolve()
  while (published < options.count && Date.now() < options.deadline) {
    await options.beforeBatch?.(published)
    const end = Math.min(options.count, published + batch)
    for (; published < end; published++) connection.publish(options.subject, options.payload)
    await previousFlush
    previousFlush = connection.flush()
  }
  await previousFlush
  return published
}

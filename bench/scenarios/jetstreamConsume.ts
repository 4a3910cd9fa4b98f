import { jetstream, type AckPolicy, type StorageType } from "@nats-io/jetstream"
import type { Scenario } from "../Scenario.ts"
import { withJetStreamServer } from "./jetstreamServer.ts"

const payload = new Uint8Array(128)
const batch = 100
const publishersInFlight = 256

/**
 * A file stream pre-filled with 128 B messages, drained by a durable pull consumer fetching
 * batches of 100 and acknowledging each message explicitly: consumed messages per second.
 */
export const jetstreamConsume: Scenario = {
  id: "js-consume",
  title: "JetStream pull consume file, batch 100, explicit ack",
  run: (server, budget) =>
    withJetStreamServer(server.name, async ({ connection, manager }) => {
      await manager.streams.add({ name: "BENCH", subjects: ["bench.js.>"], storage: "file" as StorageType })
      const client = jetstream(connection)
      const count = Math.max(1000, Math.min(100_000, Math.floor(budget.messages / 10)))
      let issued = 0
      const fill = async (): Promise<void> => {
        while (issued < count) {
          issued++
          await client.publish("bench.js.orders", payload)
        }
      }
      await Promise.all(Array.from({ length: publishersInFlight }, fill))
      await manager.consumers.add("BENCH", { durable_name: "drain", ack_policy: "explicit" as AckPolicy })
      const consumer = await client.consumers.get("BENCH", "drain")

      let consumed = 0
      const deadline = Date.now() + budget.timeMs
      const started = performance.now()
      while (consumed < count && Date.now() < deadline) {
        const messages = await consumer.fetch({ max_messages: batch, expires: 5000 })
        let received = 0
        for await (const message of messages) {
          message.ack()
          received++
        }
        if (received === 0) throw new Error(`the consumer stopped delivering after ${consumed} of ${count} messages`)
        consumed += received
      }
      // The last acks must have reached the server before the clock stops.
      await connection.flush()
      const seconds = (performance.now() - started) / 1000
      return [{ metric: "consumed", unit: "msgs/s", value: consumed / seconds, higherIsBetter: true }]
    })
}

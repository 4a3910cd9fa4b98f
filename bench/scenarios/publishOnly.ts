import { connect } from "@nats-io/transport-node"
import { publishPaced } from "../publishPaced.ts"
import type { Scenario } from "../Scenario.ts"

/** Publish with no subscriber: the server parses and drops, so this is its ingest rate. */
export const publishOnly = (payloadSize: number, label: string): Scenario => ({
  id: `pub-${label}`,
  title: `pub-only ${label}`,
  run: async (server, budget) => {
    const connection = await connect({ servers: server.url })
    try {
      const payload = new Uint8Array(payloadSize)
      const started = performance.now()
      const published = await publishPaced(connection, {
        subject: "bench.pub",
        payload,
        count: budget.messages,
        deadline: Date.now() + budget.timeMs
      })
      const seconds = (performance.now() - started) / 1000
      return [
        { metric: "published", unit: "msgs/s", value: published / seconds, higherIsBetter: true },
        { metric: "published", unit: "MiB/s", value: (published * payloadSize) / seconds / 1048576, higherIsBetter: true }
      ]
    } finally {
      await connection.close()
    }
  }
})

import { connect } from "@nats-io/transport-node"
import type { Scenario } from "../Scenario.ts"
import { percentile } from "../statistics.ts"

const payload = new Uint8Array(16)

/**
 * A responder echoing 16 bytes and a requester keeping `inFlight` requests outstanding; request
 * rate and round-trip latency.
 */
export const requestReply = (inFlight: number, id: string, title: string): Scenario => ({
  id,
  title,
  run: async (server, budget) => {
    const responder = await connect({ servers: server.url })
    const requester = await connect({ servers: server.url })
    try {
      responder.subscribe("bench.echo", { callback: (_error, message) => void message.respond(message.data) })
      await responder.flush()

      // Requests cost a round trip each; a tenth of the message budget keeps runs comparable in length.
      const limit = Math.max(1000, Math.floor(budget.messages / 10))
      const latencies = new Float64Array(limit)
      let issued = 0
      let completed = 0
      const deadline = Date.now() + budget.timeMs
      const worker = async (): Promise<void> => {
        while (issued < limit && Date.now() < deadline) {
          issued++
          const sent = performance.now()
          await requester.request("bench.echo", payload, { timeout: 5000 })
          latencies[completed++] = performance.now() - sent
        }
      }
      const started = performance.now()
      await Promise.all(Array.from({ length: inFlight }, worker))
      const seconds = (performance.now() - started) / 1000
      const sorted = latencies.subarray(0, completed).sort()
      return [
        { metric: "requests", unit: "req/s", value: completed / seconds, higherIsBetter: true },
        { metric: "latency p50", unit: "µs", value: percentile(sorted, 0.5) * 1000, higherIsBetter: false },
        { metric: "latency p99", unit: "µs", value: percentile(sorted, 0.99) * 1000, higherIsBetter: false }
      ]
    } finally {
      await Promise.all([responder.close(), requester.close()])
    }
  }
})

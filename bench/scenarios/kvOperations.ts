import { Kvm } from "@nats-io/kv"
import type { Scenario } from "../Scenario.ts"
import { percentile } from "../statistics.ts"
import { withJetStreamServer } from "./jetstreamServer.ts"

const value = new Uint8Array(128)
const keyCount = 1000

/**
 * KV puts or gets of 128 B values over 1,000 keys of a file bucket through @nats-io/kv, with
 * `inFlight` operations outstanding: operations per second and latency. Gets read through
 * DIRECT.GET, as a bucket created by the client allows; their keys are written first.
 */
export const kvOperations = (operation: "put" | "get", inFlight: number): Scenario => ({
  id: `kv-${operation}-${inFlight === 1 ? "seq" : inFlight}`,
  title: `KV ${operation} ${inFlight === 1 ? "sequential" : `${inFlight} in flight`} 128 B`,
  run: (server, budget) =>
    withJetStreamServer(server.name, async ({ connection }) => {
      const kv = await new Kvm(connection).create("BENCH")
      if (operation === "get") for (let key = 0; key < keyCount; key++) await kv.put(`key.${key}`, value)
      // Every operation is a round trip; a twentieth of the message budget keeps run times comparable.
      const limit = Math.max(1000, Math.floor(budget.messages / 20))
      const latencies = new Float64Array(limit)
      let issued = 0
      let completed = 0
      const deadline = Date.now() + budget.timeMs
      const worker = async (): Promise<void> => {
        while (issued < limit && Date.now() < deadline) {
          const key = `key.${issued++ % keyCount}`
          const sent = performance.now()
          if (operation === "put") await kv.put(key, value)
          else if ((await kv.get(key)) === null) throw new Error(`${key} was not found`)
          latencies[completed++] = performance.now() - sent
        }
      }
      const started = performance.now()
      await Promise.all(Array.from({ length: inFlight }, worker))
      const seconds = (performance.now() - started) / 1000
      const sorted = latencies.subarray(0, completed).sort()
      return [
        { metric: `${operation}s`, unit: "ops/s", value: completed / seconds, higherIsBetter: true },
        { metric: "latency p50", unit: "µs", value: percentile(sorted, 0.5) * 1000, higherIsBetter: false },
        { metric: "latency p99", unit: "µs", value: percentile(sorted, 0.99) * 1000, higherIsBetter: false }
      ]
    })
})

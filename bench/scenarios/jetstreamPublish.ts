import { jetstream, type StorageType } from "@nats-io/jetstream"
import type { Scenario } from "../Scenario.ts"
import { percentile } from "../statistics.ts"
import { runConcurrently } from "./concurrentOperations.ts"
import { withJetStreamServer } from "./jetstreamServer.ts"

const payload = new Uint8Array(128)

/**
 * Publishes 128 B messages into a `storage` stream, each waiting for its PubAck, with `inFlight`
 * publishes outstanding at a time: acknowledged messages per second and ack latency. `nexSync`
 * sets the node's file-store sync policy (default "always", an fdatasync before each ack; nats-server
 * 2.9 syncs every two minutes, as "interval" does).
 */
export const jetstreamPublish = (storage: "file" | "memory", inFlight: number, nexSync?: "interval"): Scenario => ({
  id: `js-pub-${storage === "file" ? "file" : "mem"}-${inFlight === 1 ? "seq" : inFlight}${nexSync === undefined ? "" : `-${nexSync}`}`,
  title: `JetStream publish ${storage} ${inFlight === 1 ? "sequential" : `${inFlight} in flight`} 128 B${nexSync === undefined ? "" : `, nex sync ${nexSync}`}`,
  run: (server, budget) =>
    withJetStreamServer(
      server.name,
      async ({ connection, manager, cpuSeconds }) => {
        await manager.streams.add({ name: "BENCH", subjects: ["bench.js.>"], storage: storage as StorageType })
        const client = jetstream(connection)
        // Every publish is a round trip; a twentieth of the message budget keeps run times comparable.
        const limit = Math.max(1000, Math.floor(budget.messages / 20))
        const publish = async (): Promise<void> => {
          await client.publish("bench.js.orders", payload)
        }
        // Each run starts a new server: unmeasured publishes first let the node's JIT compile its hot
        // paths, so the figures are the steady state on both servers.
        const warmUp = await runConcurrently(publish, { count: Math.floor(limit / 10), inFlight, timeMs: budget.timeMs / 5 })
        const latencies = new Float64Array(limit)
        const started = performance.now()
        const cpuBefore = cpuSeconds()
        const acknowledged = await runConcurrently(publish, { count: limit, inFlight, timeMs: budget.timeMs, latencies })
        const seconds = (performance.now() - started) / 1000
        const cpuPerPublish = (cpuSeconds() - cpuBefore) / acknowledged
        const stored = (await manager.streams.info("BENCH")).state.messages
        if (stored !== warmUp + acknowledged) throw new Error(`${warmUp + acknowledged} publishes acknowledged but ${stored} messages stored`)
        const sorted = latencies.subarray(0, acknowledged).sort()
        return [
          { metric: "acked", unit: "msgs/s", value: acknowledged / seconds, higherIsBetter: true },
          { metric: "ack latency p50", unit: "µs", value: percentile(sorted, 0.5) * 1000, higherIsBetter: false },
          { metric: "ack latency p99", unit: "µs", value: percentile(sorted, 0.99) * 1000, higherIsBetter: false },
          // The server's own cost: steadier than throughput on a machine shared with other load.
          { metric: "server CPU per publish", unit: "µs", value: cpuPerPublish * 1e6, higherIsBetter: false }
        ]
      },
      { nexSync }
    )
})

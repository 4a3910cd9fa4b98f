import { StorageType } from "@nats-io/jetstream"
import { Kvm } from "@nats-io/kv"
import type { Scenario } from "../Scenario.ts"
import { percentile } from "../statistics.ts"
import { runConcurrently } from "./concurrentOperations.ts"
import { type JetStreamBenchOptions, withJetStreamServer } from "./jetstreamServer.ts"

const value = new Uint8Array(128)
const keyCount = 1000

/**
 * Where the bucket lives: a file bucket with the node's default sync (fsync before each ack), a
 * file bucket with the node syncing periodically as nats-server 2.9 does, or a memory bucket.
 */
export type KvBucketKind = "file" | "file-interval" | "memory"

/** How a scenario's id and title name the bucket kind; the default file bucket adds nothing. */
export const kindSuffix: Record<KvBucketKind, { readonly id: string; readonly title: string }> = {
  file: { id: "", title: "" },
  "file-interval": { id: "-interval", title: ", nex sync interval" },
  memory: { id: "-mem", title: ", memory bucket" }
}

/** The @nats-io/kv bucket options for a kind. */
export const bucketOptions = (kind: KvBucketKind) => ({ storage: kind === "memory" ? StorageType.Memory : StorageType.File })

/** How the server is started for a kind: only "file-interval" changes the node's sync policy. */
export const serverOptions = (kind: KvBucketKind): JetStreamBenchOptions => (kind === "file-interval" ? { nexSync: "interval" } : {})

/**
 * KV puts or gets of 128 B values over 1,000 keys of a bucket through @nats-io/kv, with
 * `inFlight` operations outstanding: operations per second and latency. Gets read through
 * DIRECT.GET, as a bucket created by the client allows; their keys are written first.
 */
export const kvOperations = (operation: "put" | "get", inFlight: number, kind: KvBucketKind = "file"): Scenario => ({
  id: `kv-${operation}-${inFlight === 1 ? "seq" : inFlight}${kindSuffix[kind].id}`,
  title: `KV ${operation} ${inFlight === 1 ? "sequential" : `${inFlight} in flight`} 128 B${kindSuffix[kind].title}`,
  run: (server, budget) =>
    withJetStreamServer(server.name, async ({ connection, cpuSeconds }) => {
      const kv = await new Kvm(connection).create("BENCH", bucketOptions(kind))
      if (operation === "get") for (let key = 0; key < keyCount; key++) await kv.put(`key.${key}`, value)
      // Every operation is a round trip; a twentieth of the message budget keeps run times comparable.
      const limit = Math.max(1000, Math.floor(budget.messages / 20))
      const operate = async (key: string): Promise<void> => {
        if (operation === "put") await kv.put(key, value)
        else if ((await kv.get(key)) === null) throw new Error(`${key} was not found`)
      }
      const runOperations = (count: number, timeMs: number, latencies?: Float64Array): Promise<number> =>
        runConcurrently((index) => operate(`key.${index % keyCount}`), { count, inFlight, timeMs, latencies })
      // Each run starts a new server: unmeasured operations first let the node's JIT compile its hot
      // paths, so the figures are the steady state on both servers.
      await runOperations(Math.floor(limit / 10), budget.timeMs / 5)
      const latencies = new Float64Array(limit)
      const started = performance.now()
      const cpuBefore = cpuSeconds()
      const completed = await runOperations(limit, budget.timeMs, latencies)
      const seconds = (performance.now() - started) / 1000
      const cpuPerOperation = (cpuSeconds() - cpuBefore) / completed
      const sorted = latencies.subarray(0, completed).sort()
      return [
        { metric: `${operation}s`, unit: "ops/s", value: completed / seconds, higherIsBetter: true },
        { metric: "latency p50", unit: "µs", value: percentile(sorted, 0.5) * 1000, higherIsBetter: false },
        { metric: "latency p99", unit: "µs", value: percentile(sorted, 0.99) * 1000, higherIsBetter: false },
        // The server's own cost: steadier than throughput on a machine shared with other load.
        { metric: "server CPU per op", unit: "µs", value: cpuPerOperation * 1e6, higherIsBetter: false }
      ]
    }, serverOptions(kind))
})

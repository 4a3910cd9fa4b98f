import type { NatsConnection } from "@nats-io/transport-node"
import { ensureKv, names } from "@nex/runtime"
import { Effect } from "effect"
import { interleaved } from "../runtime/interleaved.ts"
import { startReferenceProcess } from "../runtime/referenceProcess.ts"
import { withRuntimeNode, workloadFile } from "../runtime/RuntimeNode.ts"
import type { RuntimeScenario } from "../runtime/RuntimeScenario.ts"
import { percentile } from "../statistics.ts"

/** Asks on `subject` for the config version until the answer is `version`; bounded by `timeoutMs`. */
const awaitVersion = async (client: NatsConnection, subject: string, version: number, timeoutMs = 5000): Promise<void> => {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const reply = await client.request(subject, "", { timeout: timeoutMs })
    if (reply.string() === String(version)) return
    if (performance.now() > deadline) throw new Error(`${subject} still answers ${reply.string()}, not ${version}`)
  }
}

/** One side: the KV key it follows, the subject it answers its version on, and the latencies measured. */
interface ConfigSide {
  readonly key: string
  readonly subject: string
  readonly latencies: Float64Array
  version: number
}

/**
 * From a KV put of a new config to the first reply of the running workload that reflects it,
 * against a plain KV watcher answering the same way, changes alternating between the two.
 */
export const runtimeConfigChange: RuntimeScenario = {
  id: "runtime-config",
  title: "KV config change → seen by the running workload",
  reference: "a plain @nats-io/kv watcher in its own process answering requests with the config it last saw",
  run: (budget) =>
    withRuntimeNode(async (node) => {
      // Opened with the node's own bucket options, so it does not matter which of the two creates it.
      const bucket = await Effect.runPromise(ensureKv(node.client, names.configBucket))
      const sides: Record<"workload" | "reference", ConfigSide> = {
        workload: { key: "bench-workload", subject: "config.workload", latencies: new Float64Array(budget.configChanges), version: 0 },
        reference: { key: "bench-reference", subject: "config.reference", latencies: new Float64Array(budget.configChanges), version: 0 }
      }
      for (const side of Object.values(sides)) await bucket.put(side.key, JSON.stringify({ version: 0 }))
      await node.deploy({ file: workloadFile("configVersion"), name: "configured", triggers: [sides.workload.subject], config: sides.workload.key })
      const plain = await startReferenceProcess("plainConfigResponder", [node.url, names.configBucket, sides.reference.key, sides.reference.subject])
      try {
        for (const side of Object.values(sides)) await awaitVersion(node.client, side.subject, 0)
        await interleaved(["workload", "reference"], budget.configChanges, async (name) => {
          const side = sides[name]
          side.version++
          const putAt = performance.now()
          await bucket.put(side.key, JSON.stringify({ version: side.version }))
          await awaitVersion(node.client, side.subject, side.version)
          side.latencies[side.version - 1] = performance.now() - putAt
        })
      } finally {
        await plain.stop()
      }
      const { workload, reference } = sides
      workload.latencies.sort()
      reference.latencies.sort()
      return [
        { metric: "p50", unit: "ms", value: percentile(workload.latencies, 0.5), reference: percentile(reference.latencies, 0.5), higherIsBetter: false },
        {
          metric: "p99",
          unit: "ms",
          value: percentile(workload.latencies, 0.99),
          reference: percentile(reference.latencies, 0.99),
          higherIsBetter: false,
          target: { of: "value", atMost: 100 }
        }
      ]
    })
}

import { bundleWorkload } from "@nex/runtime"
import { Effect } from "effect"
import { specFor, WorkerProcess } from "../../packages/runtime/test/worker/WorkerProcess.ts"
import { repoRoot } from "../../test/support/nexNode.ts"
import { withRuntimeNode, workloadFile } from "../runtime/RuntimeNode.ts"
import type { RuntimeScenario } from "../runtime/RuntimeScenario.ts"
import { firstReply } from "../runtime/sequentialRequests.ts"
import { percentile } from "../statistics.ts"

/**
 * Cold start as the node's sandbox host does it: the `start` message (bundle already in hand) →
 * isolate (from the spare pool when one is ready) + module → subscribed → the first reply over NATS.
 */
export const runtimeColdStart: RuntimeScenario = {
  id: "runtime-cold",
  title: "workload cold start (start → first reply)",
  reference: "none: the target is the reference",
  run: (budget) =>
    withRuntimeNode(async (node) => {
      const bundle = await Effect.runPromise(bundleWorkload(workloadFile("echo"), repoRoot))
      const worker = await WorkerProcess.start(node.url, "bench")
      try {
        const latencies = new Float64Array(budget.coldStarts)
        for (let run = 0; run < budget.coldStarts; run++) {
          const name = `cold-${run}`
          const startedAt = performance.now()
          await worker.deploy(specFor(name, bundle.code, { triggers: [`cold.${run}`] }), bundle.code)
          await firstReply(node.client, `cold.${run}`)
          latencies[run] = performance.now() - startedAt
          worker.send({ type: "stop", name })
        }
        latencies.sort()
        return [
          { metric: "p50", unit: "ms", value: percentile(latencies, 0.5), higherIsBetter: false, target: { of: "value", atMost: 5 } },
          { metric: "p99", unit: "ms", value: percentile(latencies, 0.99), higherIsBetter: false, target: { of: "value", atMost: 20 } }
        ]
      } finally {
        await worker.stop()
      }
    })
}

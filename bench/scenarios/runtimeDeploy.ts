import { withRuntimeNode, workloadFile } from "../runtime/RuntimeNode.ts"
import type { RuntimeScenario } from "../runtime/RuntimeScenario.ts"
import { firstReply } from "../runtime/sequentialRequests.ts"
import { percentile } from "../statistics.ts"

/**
 * `nex deploy` through the control API (what the command runs, without its process start) of a
 * workload whose bundle is already stored: from the end of bundling (timed apart and left out) to
 * the first successful request. Each deploy is a new name, so each is a new workload.
 */
export const runtimeDeploy: RuntimeScenario = {
  id: "runtime-deploy",
  title: "deploy → first reply (bundle stored, bundling excluded)",
  reference: "none; bundling (left out) and the part after the spec is stored (node start + first reply) are shown for scale",
  run: (budget) =>
    withRuntimeNode(async (node) => {
      // The first deploy creates the buckets and meets a node still starting its sandbox hosts.
      await node.deploy({ file: workloadFile("echo"), name: "deploy-warmup", triggers: ["deploy.warmup"] })
      const latencies = new Float64Array(budget.deploys)
      const bundling = new Float64Array(budget.deploys)
      const afterStored = new Float64Array(budget.deploys)
      for (let run = 0; run < budget.deploys; run++) {
        const startedAt = performance.now()
        let bundledAt = startedAt
        let storedAt = startedAt
        await node.deploy({ file: workloadFile("echo"), name: `deploy-${run}`, triggers: [`deploy.${run}`] }, (step) => {
          if (step.step === "bundled") bundledAt = performance.now()
          if (step.step === "stored") storedAt = performance.now()
        })
        await firstReply(node.client, `deploy.${run}`)
        const repliedAt = performance.now()
        latencies[run] = repliedAt - bundledAt
        bundling[run] = bundledAt - startedAt
        afterStored[run] = repliedAt - storedAt
      }
      for (const samples of [latencies, bundling, afterStored]) samples.sort()
      return [
        { metric: "p50", unit: "ms", value: percentile(latencies, 0.5), higherIsBetter: false },
        { metric: "p99", unit: "ms", value: percentile(latencies, 0.99), higherIsBetter: false },
        { metric: "stored → first reply p50", unit: "ms", value: percentile(afterStored, 0.5), higherIsBetter: false },
        { metric: "bundling p50", unit: "ms", value: percentile(bundling, 0.5), higherIsBetter: false }
      ]
    })
}

import { eventually } from "../../test/support/eventually.ts"
import { residentBytes } from "../BenchServer.ts"
import { processTree, treeResidentBytes } from "../runtime/processTree.ts"
import { withRuntimeNode, workloadFile } from "../runtime/RuntimeNode.ts"
import type { RuntimeScenario } from "../runtime/RuntimeScenario.ts"
import { settledBytes } from "../runtime/settledBytes.ts"

const deployedAtOnce = 25
const mebibyte = 1024 ** 2
const gibibyte = 1024 ** 3

const inBatches = async (count: number, batchSize: number, each: (index: number) => Promise<unknown>): Promise<void> => {
  for (let batch = 0; batch < count; batch += batchSize) {
    await Promise.all(Array.from({ length: Math.min(batchSize, count - batch) }, (_, offset) => each(batch + offset)))
  }
}

/**
 * Resident memory of a node (its process and its sandbox host processes) with many deployed
 * workloads that each answered once and then sit idle, over the same node's RSS before any
 * deploy; both read once memory has settled.
 */
export const runtimeIdleWorkloads: RuntimeScenario = {
  id: "runtime-idle",
  title: "idle deployed workloads, RSS over the idle node",
  reference: "none: the target is the reference (the node's own idle RSS, shown, is subtracted)",
  run: (budget) =>
    withRuntimeNode(async (node) => {
      // Idle means the node with its sandbox hosts up; they are forked once the runtime starts.
      await eventually(
        () => {
          if (processTree(node.pid).length < 3) throw new Error("sandbox host processes not started yet")
        },
        { timeout: 15_000 }
      )
      const idleTree = await settledBytes(() => treeResidentBytes(node.pid))
      const idleNode = residentBytes(node.pid)
      const count = budget.idleWorkloads
      await inBatches(count, deployedAtOnce, (index) => node.deploy({ file: workloadFile("echo"), name: `idle-${index}`, triggers: [`idle.${index}`] }))
      await inBatches(count, 100, (index) => node.client.request(`idle.${index}`, "x", { timeout: 10_000 }))
      const loadedTree = await settledBytes(() => treeResidentBytes(node.pid))
      const loadedNode = residentBytes(node.pid)
      const overIdle = loadedTree - idleTree
      // The target is stated for 1,000 workloads; a smaller run is held to its share of it.
      return [
        { metric: `${count} workloads`, unit: "GiB", value: overIdle / gibibyte, higherIsBetter: false, target: { of: "value", atMost: (1.5 * count) / 1000 } },
        { metric: "per workload", unit: "MiB", value: overIdle / count / mebibyte, higherIsBetter: false },
        { metric: "of which node process", unit: "MiB", value: (loadedNode - idleNode) / mebibyte, higherIsBetter: false },
        { metric: "idle node + hosts", unit: "MiB", value: idleTree / mebibyte, higherIsBetter: false }
      ]
    })
}

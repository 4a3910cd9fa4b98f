import type { NatsConnection } from "@nats-io/transport-node"
import { deployWorkload, WorkloadConfig } from "@nex/runtime"
import { Effect } from "effect"
import { repoRoot } from "../../test/support/nexNode.ts"
import { startNatsCluster } from "../../test/support/natsCluster.ts"
import { type ClusterNodeProcess, replicaStatuses, startClusterNode, steadyLoad } from "../../test/cluster/clusterNodes.ts"
import { client as connectClient } from "../../test/runtime/runtimeHarness.ts"
import { workloadFile } from "../runtime/RuntimeNode.ts"
import type { RuntimeScenario } from "../runtime/RuntimeScenario.ts"
import { concurrentRequests } from "../runtime/sequentialRequests.ts"

const inFlight = 32
const failoverRate = 500

const deploy = (connection: NatsConnection, name: string, workload: string, replicas: number) =>
  Effect.runPromise(
    deployWorkload(connection, WorkloadConfig.parse({ file: workloadFile(workload), name, triggers: [name], replicas, concurrency: 4 }), {
      workingDirectory: repoRoot,
      waitMs: 60_000,
      keepUnchanged: true
    })
  )

/** Polls until every replica runs on a node other than `excluded`; resolves to the time it took (ms). */
const untilAllRunning = async (connection: NatsConnection, name: string, count: number, excluded?: string, timeoutMs = 60_000): Promise<number> => {
  const startedAt = performance.now()
  for (;;) {
    const now = await replicaStatuses(connection, name).catch(() => [])
    if (now.length === count && now.every((replica) => replica.state === "running" && replica.node !== excluded)) return performance.now() - startedAt
    if (performance.now() - startedAt > timeoutMs) throw new Error(`replicas not running after ${timeoutMs} ms: ${JSON.stringify(now)}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/**
 * Request/reply through a CPU-bound workload (about 1 ms a request) on a three-server nats-server
 * cluster: one `nex up --nats` node with one replica, then three nodes with three replicas; then,
 * under a steady 500 req/s on a light workload, the time from SIGKILL of a node to its replica
 * running on another node and the share of requests that failed meanwhile.
 */
export const runtimeCluster: RuntimeScenario = {
  id: "runtime-cluster",
  title: "cluster: CPU-bound request/reply, failover",
  reference: "the same workload on one node of the same cluster (one replica, one sandbox process per node)",
  run: async (budget) => {
    const cluster = await startNatsCluster(3)
    const nodes: Array<ClusterNodeProcess> = []
    let connection: NatsConnection | undefined
    try {
      nodes.push(await startClusterNode(cluster.urls, "n1"))
      connection = await connectClient(cluster.urls)
      await deploy(connection, "spin", "spin", 1)
      await untilAllRunning(connection, "spin", 1)
      await concurrentRequests(connection, "spin", 100, inFlight)
      const requests = Math.max(500, Math.floor(budget.requests / 4))
      const oneNodeMs = await concurrentRequests(connection, "spin", requests, inFlight)

      nodes.push(await startClusterNode(cluster.urls, "n2"), await startClusterNode(cluster.urls, "n3"))
      await deploy(connection, "spin", "spin", 3)
      await untilAllRunning(connection, "spin", 3)
      await concurrentRequests(connection, "spin", 100, inFlight)
      const threeNodesMs = await concurrentRequests(connection, "spin", requests, inFlight)

      // Failover of a light workload under 500 req/s: two replicas on three nodes, so the lost one has a node to go to.
      await deploy(connection, "echo", "echo", 2)
      await untilAllRunning(connection, "echo", 2)
      const load = steadyLoad(connection, "echo", failoverRate)
      await new Promise((resolve) => setTimeout(resolve, 1000))
      const victim = (await replicaStatuses(connection, "echo"))[0].node
      await nodes.find((node) => node.name === victim)?.process.stop("SIGKILL")
      const failoverMs = await untilAllRunning(connection, "echo", 2, victim)
      const { sent, failures } = await load.stop()
      const perSecond = (milliseconds: number) => requests / (milliseconds / 1000)
      return [
        { metric: `3 nodes, ${inFlight} in flight`, unit: "req/s", value: perSecond(threeNodesMs), reference: perSecond(oneNodeMs), higherIsBetter: true },
        { metric: "re-placement after SIGKILL", unit: "ms", value: failoverMs, higherIsBetter: false, target: { of: "value", atMost: 15_000 } },
        { metric: `failed requests at ${failoverRate}/s during it`, unit: "%", value: (100 * failures.length) / sent, higherIsBetter: false, target: { of: "value", atMost: 1 } }
      ]
    } finally {
      await connection?.close()
      for (const node of nodes) await node.process.stop("SIGKILL")
      await cluster.stop()
    }
  }
}

import { jetstreamManager } from "@nats-io/jetstream"
import { Kvm } from "@nats-io/kv"
import type { NatsConnection } from "@nats-io/transport-node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Api, subjects } from "../../packages/runtime/src/index.ts"
import { eventually, hasNatsServer } from "../support/index.ts"
import { type NatsCluster, startNatsCluster } from "../support/natsCluster.ts"
import { client, deploy, type RunningRuntime, startRuntime } from "../runtime/runtimeHarness.ts"
import { answering } from "./clusterNodes.ts"

const handlers = {
  whoami: () => (_message: unknown, context: { node: string }) => context.node,
  gpu: () => () => "never placed"
}

/** Short heartbeats so a stopped node is seen dead in about a second. */
const cluster = { heartbeatMs: 300, deadAfterMs: 1500 }

const request = async <Body extends Api.InfoResponse | Api.NodesResponse>(connection: NatsConnection, subject: string, body: unknown): Promise<Body> =>
  (await connection.request(subject, JSON.stringify(body), { timeout: 3000 })).json<Body>()

const placementsOf = async (connection: NatsConnection, workload: string): Promise<Array<string>> => {
  const info = await request<Api.InfoResponse>(connection, subjects.api.info, { name: workload })
  return (info.status.placements ?? []).map((replica) => `${replica.index}:${replica.state}:${replica.node ?? "-"}`)
}

describe.skipIf(!hasNatsServer)("placement on a three-server nats-server cluster (three nodes, fake sandboxes)", () => {
  let natsCluster: NatsCluster
  const runtimes = new Map<string, RunningRuntime>()
  let connection: NatsConnection

  beforeAll(async () => {
    natsCluster = await startNatsCluster(3)
    for (const [index, name] of ["a", "b", "c"].entries()) {
      runtimes.set(name, await startRuntime(natsCluster.servers[index].url, handlers, { nodeName: name, sandboxProcesses: 1, cluster }))
    }
    connection = await client(natsCluster.urls)
  })
  afterAll(async () => {
    await connection?.close()
    for (const runtime of runtimes.values()) await runtime.stop()
    await natsCluster?.stop()
  })

  it("registers every node and keeps three copies of the desired state", async () => {
    await eventually(async () => {
      const { nodes } = await request<Api.NodesResponse>(connection, subjects.api.nodes, {})
      expect(nodes.map((node) => `${node.name}:${node.alive}`)).toEqual(["a:true", "b:true", "c:true"])
    })
    const manager = await jetstreamManager(connection)
    for (const stream of ["KV_nex-deployments", "KV_nex-placements", "KV_nex-nodes", "OBJ_nex-bundles", "NEX_LOGS"]) {
      expect((await manager.streams.info(stream)).config.num_replicas, stream).toBe(3)
    }
  })

  it("places two replicas on two nodes, claimed once each, and re-places a stopped node's replica", async () => {
    await deploy(connection, { file: "workloads/greeter/index.ts", name: "whoami", triggers: ["whoami"], replicas: 2 })
    const placed = await eventually(async () => {
      const placements = await placementsOf(connection, "whoami")
      expect(placements).toEqual([expect.stringMatching(/^0:running:[abc]$/), expect.stringMatching(/^1:running:[abc]$/)])
      return placements.map((placement) => placement.split(":")[2])
    }, { timeout: 10_000 })
    expect(new Set(placed).size).toBe(2)
    await eventually(async () => expect([...(await answering(connection, "whoami", 20))].sort()).toEqual([...placed].sort()))

    const keys: Array<string> = []
    for await (const key of await (await new Kvm(connection).open("nex-placements")).keys()) keys.push(key)
    expect(keys.sort()).toEqual(["whoami.0", "whoami.1"])

    const stopped = placed[0]
    const spare = ["a", "b", "c"].find((name) => !placed.includes(name))!
    await runtimes.get(stopped)!.stop()
    runtimes.delete(stopped)
    const started = Date.now()
    await eventually(async () => expect([...(await answering(connection, "whoami", 20))].sort()).toEqual([placed[1], spare].sort()), { timeout: 15_000 })
    expect(Date.now() - started).toBeLessThan(15_000)
  })

  it("says why a replica runs nowhere: no node has the tags", async () => {
    await deploy(connection, { file: "workloads/greeter/index.ts", name: "gpu", triggers: ["gpu"], tags: ["gpu"] }, { waitMs: 0 })
    await eventually(async () => {
      const info = await request<Api.InfoResponse>(connection, subjects.api.info, { name: "gpu" })
      expect(info.status.state).toBe("pending")
      expect(info.status.placements).toEqual([{ index: 0, state: "pending", reason: "no live node has the tags gpu" }])
    })
  })
})

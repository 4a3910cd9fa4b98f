import { jetstream } from "@nats-io/jetstream"
import type { NatsConnection } from "@nats-io/transport-node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Api } from "../../packages/runtime/src/index.ts"
import { subjects } from "../../packages/runtime/src/subjects.ts"
import { eventually, hasNatsServer } from "../support/index.ts"
import { type NatsCluster, startNatsCluster } from "../support/natsCluster.ts"
import { client, deploy } from "../runtime/runtimeHarness.ts"
import { answering, type ClusterNodeProcess, replicaStatuses, startClusterNode, steadyLoad } from "./clusterNodes.ts"

/** Publishes `count` job messages ("0", "1", ...) to stream TALLY, `perSecond` a second; resolves to how many were stored. */
const publishJobs = async (connection: NatsConnection, count: number, perSecond: number): Promise<number> => {
  const stream = jetstream(connection)
  let stored = 0
  for (let index = 0; index < count; index++) {
    await stream.publish("tally.in", String(index), { timeout: 5000 })
    stored++
    await new Promise((resolve) => setTimeout(resolve, 1000 / perSecond))
  }
  return stored
}

/** The nodes running the workload's replicas, once all of them run. */
const runningOn = async (connection: NatsConnection, name: string): Promise<Array<string>> => {
  const replicas = await replicaStatuses(connection, name, 2000)
  if (replicas.length === 0 || replicas.some((replica) => replica.state !== "running")) throw new Error(`not all running: ${JSON.stringify(replicas)}`)
  return replicas.map((replica) => replica.node!)
}

describe.skipIf(!hasNatsServer)("failover on a three-server nats-server cluster (three `nex up --nats` nodes)", () => {
  let cluster: NatsCluster
  const nodes = new Map<string, ClusterNodeProcess>()
  let connection: NatsConnection
  /** "<period> <node>" from every tick of the `tick` workload (every second, two replicas). */
  const ticks: Array<string> = []
  /** Bodies of the `tally` job's messages, once per execution. */
  const tallied: Array<string> = []

  beforeAll(async () => {
    cluster = await startNatsCluster(3)
    for (const name of ["a", "b", "c"]) nodes.set(name, await startClusterNode(cluster.urls, name))
    connection = await client(cluster.urls)
    connection.subscribe("ticks", { callback: (_error, message) => void ticks.push(message.string()) })
    connection.subscribe("tally.done", { callback: (_error, message) => void tallied.push(message.string()) })
    await deploy(connection, { file: "test/cluster/fixtures/whoami.ts", name: "whoami", triggers: ["whoami"], replicas: 2 })
    await deploy(connection, { file: "test/cluster/fixtures/tick.ts", name: "tick", every: "1s", replicas: 2, allowPublish: ["ticks"] })
    await deploy(connection, { file: "test/cluster/fixtures/tally.ts", name: "tally", job: { stream: "TALLY", filter: "tally.in" }, replicas: 2, allowPublish: ["tally.done"] })
  }, 60_000)
  afterAll(async () => {
    await connection?.close()
    for (const node of nodes.values()) await node.process.stop("SIGKILL")
    await cluster?.stop()
  })

  it("answers under load while a node is SIGKILLed, and re-places its replica within 15 s", async () => {
    const placed = await eventually(() => runningOn(connection, "whoami"), { timeout: 15_000 })
    expect(new Set(placed).size).toBe(2)
    const load = steadyLoad(connection, "whoami", 100)
    await eventually(async () => expect((await connection.request("whoami", "", { timeout: 2000 })).string()).toMatch(/^[abc]$/))

    const jobs = publishJobs(connection, 300, 50)

    const victim = placed[0]
    await nodes.get(victim)!.process.stop("SIGKILL")
    nodes.delete(victim)
    const killedAt = Date.now()
    const replaced = await eventually(
      async () => {
        const now = await runningOn(connection, "whoami")
        expect(now).not.toContain(victim)
        return now
      },
      { timeout: 20_000, interval: 250 }
    )
    const replacementMs = Date.now() - killedAt
    const result = await load.stop()

    expect(new Set(replaced).size).toBe(2)
    expect(replacementMs).toBeLessThan(15_000)
    expect(result.sent).toBeGreaterThan(100)
    expect(result.failures.length / result.sent, result.failures.join("\n")).toBeLessThanOrEqual(0.01)

    // Every job message is handled, and none twice.
    expect(await jobs).toBe(300)
    await eventually(() => expect(new Set(tallied).size).toBe(300), { timeout: 20_000 })
    expect(tallied).toHaveLength(300)
  })

  it("drains a node without a failed request, even of a workload with one replica", async () => {
    nodes.set("d", await startClusterNode(cluster.urls, "d"))
    await deploy(connection, { file: "test/cluster/fixtures/whoami.ts", name: "solo", triggers: ["solo"] })
    const [holder] = await eventually(() => runningOn(connection, "solo"), { timeout: 15_000 })
    const load = steadyLoad(connection, "solo", 100)
    await eventually(() => expect(load.sent()).toBeGreaterThan(50))
    const answer = (await connection.request(subjects.api.drain, JSON.stringify({ node: holder }), { timeout: 3000 })).json<Api.DrainResponse>()
    expect(answer.node).toMatchObject({ name: holder, draining: true })
    const [successor] = await eventually(
      async () => {
        const now = await runningOn(connection, "solo")
        expect(now).not.toContain(holder)
        return now
      },
      { timeout: 15_000, interval: 250 }
    )
    // The drained node stops once its successor runs.
    await eventually(async () => expect(await answering(connection, "solo", 10)).toEqual(new Set([successor])), { timeout: 15_000, interval: 250 })
    const result = await load.stop()
    expect(result.failures).toEqual([])
  })

  it("keeps serving when one nats-server dies", async () => {
    await cluster.kill(2)
    await eventually(async () => {
      const load = steadyLoad(connection, "whoami", 50)
      await new Promise((resolve) => setTimeout(resolve, 1000))
      expect((await load.stop()).failures).toEqual([])
    }, { timeout: 20_000 })
    expect(await eventually(() => runningOn(connection, "whoami"), { timeout: 15_000 })).toHaveLength(2)
  })

  it("fired the schedule once per period throughout, across the failover and the drain", () => {
    const seconds = ticks.map((tick) => Date.parse(tick.split(" ")[0]) / 1000)
    expect(seconds.length).toBeGreaterThan(10)
    expect(seconds.every(Number.isInteger)).toBe(true)
    expect(seconds.filter((second, index) => seconds.indexOf(second) !== index)).toEqual([])
    // And hardly a period without its tick.
    const span = Math.max(...seconds) - Math.min(...seconds) + 1
    expect(seconds.length).toBeGreaterThanOrEqual(0.9 * span)
  })
})

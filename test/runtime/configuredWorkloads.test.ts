import { Kvm } from "@nats-io/kv"
import type { NatsConnection } from "@nats-io/transport-node"
import { Effect, Logger, LogLevel } from "effect"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { ApiError, DrainResponse, NodeInfoResponse, NodesResponse, responseOf } from "../../packages/runtime/src/api.ts"
import { DeploymentSpec } from "../../packages/runtime/src/DeploymentSpec.ts"
import { deployConfiguredWorkloads, Runtime } from "../../packages/runtime/src/Runtime.ts"
import { subjects } from "../../packages/runtime/src/subjects.ts"
import { names } from "../../packages/runtime/src/worker/WorkerProtocol.ts"
import { WorkloadConfig, type WorkloadConfigInput } from "../../packages/runtime/src/WorkloadConfig.ts"
import { eventually, hasNatsServer, repoRoot, startNatsServer, type Target } from "../support/index.ts"
import { client, deploy, type RunningRuntime, startRuntime } from "./runtimeHarness.ts"

const greeterFile = "workloads/greeter/index.ts"
const greeter = (name: string) => () => () => `${name} answers`
const handlers = { alpha: greeter("alpha"), beta: greeter("beta"), gamma: greeter("gamma"), delta: greeter("delta") }
const workload = (name: string, replicas = 1): WorkloadConfigInput => ({ file: greeterFile, name, triggers: [`${name}.*`], replicas })

describe.skipIf(!hasNatsServer)("the workloads of nex.config.ts, and a standalone node in the nodes API (fake sandboxes, nats-server -js)", () => {
  let server: Target
  let connection: NatsConnection
  let node: RunningRuntime | undefined

  /** What `nex up` does with the config's workloads once the runtime is up. */
  const upWithConfig = (workloads: ReadonlyArray<WorkloadConfigInput>) =>
    Effect.runPromise(
      deployConfiguredWorkloads(workloads.map((input) => WorkloadConfig.parse(input)), { workingDirectory: repoRoot, waitMs: 10_000, undeployRemoved: true }).pipe(
        Effect.provideService(Runtime, node!.runtime),
        Logger.withMinimumLogLevel(LogLevel.None)
      )
    )

  const stored = async (): Promise<Record<string, { revision: number; origin: string }>> => {
    const kv = await new Kvm(connection).open(names.deploymentsBucket)
    const specs: Record<string, { revision: number; origin: string }> = {}
    for await (const key of await kv.keys()) {
      const entry = await kv.get(key)
      if (entry?.operation !== "PUT") continue
      const spec = DeploymentSpec.parse(entry.json())
      specs[key] = { revision: spec.revision, origin: spec.origin }
    }
    return specs
  }

  const api = async <T>(subject: string, body: unknown, schema: Parameters<typeof responseOf>[0]) =>
    responseOf(schema).parse((await connection.request(subject, JSON.stringify(body), { timeout: 5000 })).json()) as T | ApiError

  beforeAll(async () => {
    server = await startNatsServer({ jetstream: true })
    connection = await client(server.url)
  })
  afterEach(async () => {
    await node?.stop()
    node = undefined
    const deployments = await new Kvm(connection).open(names.deploymentsBucket)
    for await (const key of await deployments.keys()) await deployments.purge(key)
  })
  afterAll(async () => {
    await connection?.close()
    await server?.stop()
  })

  it("undeploys a workload the config no longer lists, and never one deployed with nex deploy", async () => {
    node = await startRuntime(server.url, handlers)
    await upWithConfig([workload("alpha"), workload("beta")])
    await deploy(connection, workload("gamma"))
    // A spec stored before origins were recorded counts as deployed with nex deploy.
    const { origin: _origin, ...legacy } = (await deploy(connection, workload("delta"))).spec
    await (await new Kvm(connection).open(names.deploymentsBucket)).put("delta", JSON.stringify(legacy))
    expect(await stored()).toEqual({
      alpha: { revision: 1, origin: "config" },
      beta: { revision: 1, origin: "config" },
      gamma: { revision: 1, origin: "cli" },
      delta: { revision: 1, origin: "cli" }
    })

    await upWithConfig([workload("alpha")])
    expect(await stored()).toEqual({ alpha: { revision: 1, origin: "config" }, gamma: { revision: 1, origin: "cli" }, delta: { revision: 1, origin: "cli" } })
    await eventually(() => expect(connection.request("beta.x", "", { timeout: 500 })).rejects.toThrow(), { timeout: 5000 })
    expect((await connection.request("alpha.x", "", { timeout: 2000 })).string()).toBe("alpha answers")

    // Listed unchanged, a workload deployed otherwise becomes the config's at the same revision (no restart)...
    await upWithConfig([workload("alpha"), workload("gamma")])
    expect((await stored()).gamma).toEqual({ revision: 1, origin: "config" })
    // ...and a nex deploy takes it back.
    await deploy(connection, workload("gamma", 2))
    await upWithConfig([workload("alpha")])
    expect(await stored()).toEqual({ alpha: { revision: 1, origin: "config" }, gamma: { revision: 2, origin: "cli" }, delta: { revision: 1, origin: "cli" } })

    await upWithConfig([])
    expect(Object.keys(await stored()).sort()).toEqual(["delta", "gamma"])
  })

  it("lists a standalone node and its instances in nex node ls and info; it cannot be drained", async () => {
    node = await startRuntime(server.url, handlers)
    await deploy(connection, workload("alpha", 2))
    await deploy(connection, workload("beta"))

    const listed = await api<NodesResponse>(subjects.api.nodes, {}, NodesResponse)
    if ("error" in listed) throw new Error(listed.error)
    expect(listed.nodes).toHaveLength(1)
    const [self] = listed.nodes
    expect(self).toMatchObject({ name: "test-node", alive: true, draining: false, sandboxProcesses: 2, instances: ["alpha.0", "alpha.1", "beta.0"] })
    expect(self.workloads.map((entry) => [entry.name, entry.state, entry.running])).toEqual([
      ["alpha", "running", 2],
      ["beta", "running", 1]
    ])
    expect(Date.now() - self.heartbeatAt).toBeLessThan(5000)

    const info = await api<NodeInfoResponse>(subjects.api.nodeInfo, { node: "test-node" }, NodeInfoResponse)
    expect("node" in info && info.node.id).toBe(self.id)
    expect(await api<DrainResponse>(subjects.api.drain, { node: self.id }, DrainResponse)).toEqual({ error: "a standalone node has no other node to hand its instances to" })
  })
})

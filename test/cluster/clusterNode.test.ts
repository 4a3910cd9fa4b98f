import { jetstreamManager } from "@nats-io/jetstream"
import type { NatsConnection } from "@nats-io/transport-node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { eventually, hasNatsServer, startNatsServer, type Target } from "../support/index.ts"
import { nex } from "../runtime/cliRunner.ts"
import { client } from "../runtime/runtimeHarness.ts"
import { type ClusterNodeProcess, startClusterNode } from "./clusterNodes.ts"

describe.skipIf(!hasNatsServer)("nex up --nats on nats-server -js", () => {
  let server: Target
  let node: ClusterNodeProcess
  let connection: NatsConnection
  let serverFlag: Array<string>

  beforeAll(async () => {
    server = await startNatsServer({ jetstream: true })
    serverFlag = ["-s", server.url]
    node = await startClusterNode(server.url, "alpha")
    connection = await client(server.url)
  })
  afterAll(async () => {
    await connection?.close()
    await node?.process.stop()
    await server?.stop()
  })

  it("runs workloads on the server's JetStream, with no broker of its own, and lists itself as a node", async () => {
    const ready = node.process.output().split("\n").find((line) => line.includes('"message":"node ready"'))
    expect(JSON.parse(ready!)).toMatchObject({ nats: server.url, node: "alpha" })
    const listed = await eventually(async () => {
      const result = await nex(["node", "ls", ...serverFlag])
      expect(result.stdout).toMatch(/^alpha +alpha-[0-9a-f]{8} +alive +0 +64 +- +0\.1\.0 /m)
      return result
    })
    const id = listed.stdout.match(/alpha-[0-9a-f]{8}/)![0]

    const deployed = await nex(["deploy", "test/cluster/fixtures/whoami.ts", "--name", "whoami", "--trigger", "whoami", ...serverFlag])
    expect(deployed.stderr).toBe("")
    expect(deployed.stdout).toMatch(/whoami revision 1 is running on node alpha/)
    expect((await connection.request("whoami", "", { timeout: 2000 })).string()).toBe("alpha")

    const info = await eventually(async () => {
      const result = await nex(["info", "whoami", ...serverFlag])
      expect(result.stdout).toMatch(/^ {4}replica 0: running on alpha$/m)
      return result
    })
    expect(info.stdout).toMatch(/^whoami revision 1 on node alpha: running$/m)
    const described = await nex(["node", "info", id, ...serverFlag])
    expect(described.stdout).toMatch(/^ {2}instances: +whoami\.0$/m)

    // One server: one copy of everything.
    const manager = await jetstreamManager(connection)
    expect((await manager.streams.info("KV_nex-deployments")).config.num_replicas).toBe(1)
  })

  it("refuses --nats with --no-runtime, saying why", async () => {
    const result = await nex(["up", "--nats", server.url, "--no-runtime"])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/--nats with --no-runtime/)
  })
})

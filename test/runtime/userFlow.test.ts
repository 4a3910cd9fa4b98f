import { Objm } from "@nats-io/obj"
import type { NatsConnection } from "@nats-io/transport-node"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ListResponse } from "../../packages/runtime/src/api.ts"
import { subjects } from "../../packages/runtime/src/subjects.ts"
import { eventually, hasNatsServer, startNatsServer, startNex, type Target } from "../support/index.ts"
import { nats, nex } from "./cliRunner.ts"
import { client, deploy, type RunningRuntime, startSandboxedRuntime } from "./runtimeHarness.ts"

// The user flow, command by command, with real sandbox processes (isolated-vm). The node's
// runtime runs in this process, connected like `nex up` will connect it: to our embedded broker
// and JetStream (`nex up`), and unchanged to Debian's `nats-server -js`.
const targets: ReadonlyArray<[string, () => Promise<Target>]> = [
  ["nex up (embedded broker and JetStream)", () => startNex()],
  ...(hasNatsServer ? [["nats-server -js", () => startNatsServer({ jetstream: true })] as [string, () => Promise<Target>]] : [])
]

describe.each(targets)("the user flow on %s", (_name, startTarget) => {
  let target: Target
  let node: Omit<RunningRuntime, "sandboxes">
  let connection: NatsConnection
  let server: ReadonlyArray<string>

  beforeAll(async () => {
    target = await startTarget()
    server = ["-s", target.url]
    node = await startSandboxedRuntime(target.url)
    connection = await client(target.url)
  })
  afterAll(async () => {
    await connection?.close()
    await node?.stop()
    await target?.stop()
  })

  it("deploys, answers, reconfigures live, runs a job, lists, tails and undeploys", async () => {
    const greeter = await nex(["deploy", "workloads/greeter/index.ts", "--name", "greeter", "--trigger", "greet.*", ...server])
    expect(greeter.stdout).toMatch(/greeter revision 1 is running on node test-node \(greet\.\*\)\n$/)

    expect((await nats(["req", "greet.world", "", ...server])).stdout).toBe("Hello, world!\n")
    expect((await nats(["kv", "put", "nex-config", "greeter", '{"greeting":"Hi"}', ...server])).code).toBe(0)
    await eventually(async () => expect((await connection.request("greet.world", "", { timeout: 2000 })).string()).toBe("Hi, world!"))

    const orders = await nex(["deploy", "workloads/orders/index.ts", "--name", "orders", "--job", "ORDERS", "--filter", "orders.>", ...server])
    expect(orders.stdout).toMatch(/^created stream ORDERS for orders\.>$/m)
    expect(orders.stdout).toMatch(/orders revision 1 is running on node test-node \(job ORDERS \(orders\.>\)\)\n$/)
    expect((await nats(["pub", "--jetstream", "orders.new", '{"id":123}', ...server])).code).toBe(0)

    const artifacts = await new Objm(connection).open("nex-artifacts")
    const receipt = await eventually(async () => {
      const stored = await artifacts.getBlob("orders/receipts/123.json")
      expect(stored).not.toBeNull()
      return JSON.parse(new TextDecoder().decode(stored!))
    })
    expect(receipt).toMatchObject({ orderId: 123, lines: 0, total: 0, subject: "orders.new", processedBy: "test-node" })

    const listed = await eventually(async () => {
      const result = await nex(["ls", ...server])
      expect(result.stdout).toMatch(/^orders +1 +running +1\/1 +job ORDERS \(orders\.>\) +1 +0 /m)
      return result
    })
    expect(listed.stdout).toMatch(/^greeter +1 +running +1\/1 +greet\.\* +2 +0 /m)
    expect((await nex(["info", "orders", ...server])).stdout).toMatch(/^orders revision 1 on node test-node: running\n/)
    expect((await nex(["logs", "orders", ...server])).stdout).toMatch(/ {2}info {3}r1 {2}order 123: receipt receipts\/123\.json written \(total 0\)\n$/)

    expect((await nex(["undeploy", "greeter", ...server])).stdout).toBe("undeployed greeter (revision 1); node test-node stopped it\n")
    expect((await nats(["req", "greet.world", "", ...server])).stderr).toMatch(/no responders/)
  })
})

describe.skipIf(!hasNatsServer)("supervision of real sandbox processes", () => {
  let target: Target
  let node: Omit<RunningRuntime, "sandboxes">
  let connection: NatsConnection

  beforeAll(async () => {
    target = await startNatsServer({ jetstream: true })
    node = await startSandboxedRuntime(target.url)
    connection = await client(target.url)
  })
  afterAll(async () => {
    await connection?.close()
    await node?.stop()
    await target?.stop()
  })

  it("restarts the workload of a killed sandbox process on the other one, and the process itself", async () => {
    await deploy(connection, { file: "workloads/greeter/index.ts", name: "greeter", triggers: ["greet.*"] })
    const processes = await Effect.runPromise(node.runtime.processes)
    const host = processes.find((process) => process.workloads.includes("greeter"))!
    // A process this test's runtime started, ended by its PID as a V8 abort would end it.
    process.kill(host.pid!, "SIGKILL")

    await eventually(async () => expect((await connection.request("greet.world", "", { timeout: 1000 })).string()).toBe("Hello, world!"), { timeout: 10_000 })
    const status = await eventually(async () => {
      const response = ListResponse.parse((await connection.request(subjects.api.list, "", { timeout: 2000 })).json())
      expect(response.workloads[0]).toMatchObject({ state: "running", restarts: 1 })
      return response.workloads[0]
    })
    expect(status.lastError).toBe(`sandbox process ${host.index} died (signal SIGKILL)`)
    await eventually(async () => {
      const now = await Effect.runPromise(node.runtime.processes)
      expect(now.every((process) => process.pid !== undefined && process.pid !== host.pid)).toBe(true)
    }, { timeout: 10_000 })
    const events = (await nex(["events", "greeter", "-s", target.url])).stdout.trim().split("\n").map((line) => line.replace(/^\S+ {2}/, ""))
    expect(events).toEqual([
      "greeter  deployed r1  on test-node",
      "greeter  started r1  on test-node",
      `greeter  crashed r1  on test-node: sandbox process ${host.index} died (signal SIGKILL)`,
      "greeter  restarted r1  on test-node"
    ])
  })
})

import { Kvm } from "@nats-io/kv"
import { Objm } from "@nats-io/obj"
import type { NatsConnection } from "@nats-io/transport-node"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { EventsResponse, InfoResponse, ListResponse, LogsResponse, responseOf, UndeployResponse } from "../../packages/runtime/src/api.ts"
import type { DeployStep } from "../../packages/runtime/src/Deployer.ts"
import { subjects } from "../../packages/runtime/src/subjects.ts"
import { names } from "../../packages/runtime/src/worker/WorkerProtocol.ts"
import { eventually, hasNatsServer, startNatsServer, type Target } from "../support/index.ts"
import { client, deploy, deployEither, type RunningRuntime, startRuntime } from "./runtimeHarness.ts"

const greeterFile = "workloads/greeter/index.ts"

const handlers = {
  greeter: (spec: { revision: number }) => (message: { subject: string }) => `revision ${spec.revision} greets ${message.subject}`,
  chatty: () => (_message: unknown, context: { log: (text: string) => void }) => {
    context.log("handling a request")
    return { ok: true }
  }
}

describe.skipIf(!hasNatsServer)("runtime control plane (fake sandboxes, nats-server -js)", () => {
  let server: Target
  let connection: NatsConnection
  const running: Array<RunningRuntime> = []

  const start = async () => {
    const runtime = await startRuntime(server.url, handlers)
    running.push(runtime)
    return runtime
  }

  const api = async <T>(subject: string, body: unknown, schema: Parameters<typeof responseOf>[0]) =>
    responseOf(schema).parse((await connection.request(subject, JSON.stringify(body), { timeout: 5000 })).json()) as T | { error: string }

  beforeAll(async () => {
    server = await startNatsServer({ jetstream: true })
    connection = await client(server.url)
  })
  afterEach(async () => {
    for (const runtime of running.splice(0)) await runtime.stop()
    const deployments = await new Kvm(connection).open(names.deploymentsBucket)
    for await (const key of await deployments.keys()) await deployments.purge(key)
  })
  afterAll(async () => {
    await connection?.close()
    await server?.stop()
  })

  it("deploys through KV and the object store, answers, and skips uploading a bundle it already has", async () => {
    await start()
    const steps: Array<DeployStep> = []
    const first = await deploy(connection, { file: greeterFile, name: "greeter", triggers: ["greet.*"] }, { onProgress: (step) => steps.push(step) })
    expect(first.spec.revision).toBe(1)
    expect(first.node).toBe("test-node")
    expect(steps.map((step) => step.step)).toEqual(["bundled", "uploaded", "stored", "accepted"])
    expect((await connection.request("greet.world", "", { timeout: 2000 })).string()).toBe("revision 1 greets greet.world")

    const bundles = await new Objm(connection).open(names.bundlesBucket)
    expect((await bundles.info(first.spec.bundle.sha256))?.size).toBe(first.spec.bundle.size)
    const stored = await (await new Kvm(connection).open(names.deploymentsBucket)).get("greeter")
    expect(stored?.json()).toMatchObject({ name: "greeter", revision: 1, triggers: ["greet.*"], source: greeterFile })

    const again: Array<DeployStep> = []
    const second = await deploy(connection, { file: greeterFile, name: "greeter", triggers: ["greet.*"] }, { onProgress: (step) => again.push(step) })
    expect(second.spec.revision).toBe(2)
    expect(again.find((step) => step.step === "uploaded")).toMatchObject({ alreadyStored: true })
  })

  it("replaces a running revision without a failed request", async () => {
    await start()
    await deploy(connection, { file: greeterFile, name: "greeter", triggers: ["greet.*"] })
    const replies: Array<string> = []
    const failures: Array<string> = []
    let done = false
    const load = (async () => {
      for (let count = 0; count < 5000 && !done; count++) {
        try {
          replies.push((await connection.request("greet.load", "", { timeout: 2000 })).string())
        } catch (error) {
          failures.push(String(error))
        }
      }
    })()
    await eventually(() => expect(replies.length).toBeGreaterThan(20))
    await deploy(connection, { file: greeterFile, name: "greeter", triggers: ["greet.*"] })
    const switchedAt = replies.length
    await eventually(() => expect(replies.slice(switchedAt).filter((reply) => reply.startsWith("revision 2")).length).toBeGreaterThan(20))
    done = true
    await load
    expect(failures).toEqual([])
    expect(replies.at(-1)).toBe("revision 2 greets greet.load")
  })

  it("says why a deploy fails: invalid subject, syntax error, failed start, no node", async () => {
    const reserved = await deployEither(connection, { file: greeterFile, name: "sneaky", triggers: ["$JS.API.>"] })
    expect(reserved._tag === "Left" && reserved.left.message).toBe('sneaky: trigger "$JS.API.>" is in the reserved $JS subject space')

    const uncovered = await deployEither(connection, { file: greeterFile, name: "narrow", triggers: ["greet.*"], allowSubscribe: ["hello.>"] })
    expect(uncovered._tag === "Left" && uncovered.left.message).toBe('narrow: trigger "greet.*" is not covered by allowSubscribe (hello.>)')

    const syntax = await deployEither(connection, { file: "test/runtime/fixtures/broken.js", name: "broken", triggers: ["broken"] })
    expect(syntax._tag === "Left" && syntax.left.message).toMatch(/^test\/runtime\/fixtures\/broken\.js:3:1: /)

    const noNode = await deployEither(connection, { file: greeterFile, name: "greeter", triggers: ["greet.*"] }, { waitMs: 300 })
    expect(noNode._tag === "Left" && noNode.left.message).toBe("greeter revision 1 is stored, but no node reported it started within 0.3s (is `nex up` running?)")

    await start()
    const failed = await deployEither(connection, { file: greeterFile, name: "unknown", triggers: ["nobody.home"] })
    expect(failed._tag === "Left" && failed.left.message).toBe("unknown revision 1 failed to start on test-node: no test handler registered for unknown")
  })

  it("brings deployments back after a node restart", async () => {
    const first = await start()
    await deploy(connection, { file: greeterFile, name: "greeter", triggers: ["greet.*"], replicas: 2 })
    await first.stop()
    running.splice(running.indexOf(first), 1)
    await expect(connection.request("greet.again", "", { timeout: 500 })).rejects.toThrow()

    await start()
    await eventually(async () => expect((await connection.request("greet.again", "", { timeout: 500 })).string()).toBe("revision 1 greets greet.again"), { timeout: 10_000 })
  })

  it("answers ls, info, logs, events and undeploy on the control API", async () => {
    await start()
    await deploy(connection, { file: greeterFile, name: "chatty", triggers: ["chatty"] })
    for (let request = 0; request < 3; request++) await connection.request("chatty", "", { timeout: 2000 })

    const list = await eventually(async () => {
      const response = ListResponse.parse((await connection.request(subjects.api.list, "", { timeout: 2000 })).json())
      expect(response.workloads[0].invocations).toBe(3)
      return response
    })
    expect(list.workloads).toMatchObject([{ name: "chatty", revision: 1, state: "running", replicas: { desired: 1, running: 1 }, triggers: ["chatty"], errors: 0 }])

    const info = await api<InfoResponse>(subjects.api.info, { name: "chatty" }, InfoResponse)
    expect(info).toMatchObject({ node: "test-node", spec: { name: "chatty", triggers: ["chatty"] }, status: { state: "running" } })
    expect(await api(subjects.api.info, { name: "nobody" }, InfoResponse)).toEqual({ error: "no workload named nobody on node test-node" })
    expect(await api(subjects.api.info, { name: "Bad Name" }, InfoResponse)).toMatchObject({ error: expect.stringMatching(/^name: must be 1-63 characters/) })

    const logs = await eventually(async () => {
      const response = await api<LogsResponse>(subjects.api.logs, { name: "chatty" }, LogsResponse)
      expect("lines" in response && response.lines).toHaveLength(3)
      return response as LogsResponse
    })
    expect(logs.lines[0]).toMatchObject({ name: "chatty", level: "info", message: "handling a request", revision: 1 })

    const undeployed = await api<UndeployResponse>(subjects.api.undeploy, { name: "chatty" }, UndeployResponse)
    expect(undeployed).toEqual({ name: "chatty", revision: 1 })
    await expect(connection.request("chatty", "", { timeout: 1000 })).rejects.toThrow()

    const events = await eventually(async () => {
      const response = (await api<EventsResponse>(subjects.api.events, { name: "chatty" }, EventsResponse)) as EventsResponse
      expect(response.events.map((event) => event.kind)).toEqual(["deployed", "started", "undeployed"])
      return response
    })
    expect(events.events[1]).toMatchObject({ name: "chatty", revision: 1, node: "test-node" })
  })

  it("reports a spec written to KV by hand that does not validate, naming the field", async () => {
    await start()
    const deployments = await new Kvm(connection).open(names.deploymentsBucket)
    await deployments.put("handmade", JSON.stringify({ name: "handmade", revision: 4, bundle: { sha256: "0".repeat(64), size: 1 }, memoryMiB: 4096, deployedAt: new Date().toISOString() }))
    await eventually(async () => {
      const response = ListResponse.parse((await connection.request(subjects.api.list, "", { timeout: 2000 })).json())
      expect(response.workloads).toMatchObject([{ name: "handmade", revision: 4, state: "failed", reason: "invalid deployment spec: memoryMiB: Too big: expected number to be <=1024" }])
    })
    await deployments.put("orphan", JSON.stringify({ name: "orphan", revision: 1, bundle: { sha256: "1".repeat(64), size: 1 }, triggers: ["x"], deployedAt: new Date().toISOString() }))
    await eventually(async () => {
      const response = InfoResponse.parse((await connection.request(subjects.api.info, JSON.stringify({ name: "orphan" }), { timeout: 2000 })).json())
      expect(response.status).toMatchObject({ state: "failed", reason: `bundle ${"1".repeat(64)} is not in nex-bundles` })
    })
  })
})

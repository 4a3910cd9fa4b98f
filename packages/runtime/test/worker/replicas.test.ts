import { connect, type NatsConnection } from "@nats-io/transport-node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { eventually } from "../../../../test/support/eventually.ts"
import { hasNatsServer, startNatsServer, type Target } from "../../../../test/support/natsServer.ts"
import { fixture, specFor, WorkerProcess } from "./WorkerProcess.ts"

// Each isolate picks an id when its module is evaluated and reports every message it handles.
const counter = `
const isolate = Math.random().toString(36).slice(2)
export default async (msg, ctx) => {
  await ctx.publish("handled", JSON.stringify({ isolate, id: msg.text() }))
  return isolate
}
`

describe.skipIf(!hasNatsServer)("two sandbox host processes", () => {
  let server: Target
  let first: WorkerProcess
  let second: WorkerProcess
  let client: NatsConnection

  beforeAll(async () => {
    server = await startNatsServer({ jetstream: true })
    ;[first, second] = await Promise.all([WorkerProcess.start(server.url), WorkerProcess.start(server.url)])
    client = await connect({ servers: server.url })
  })

  afterAll(async () => {
    await client?.close()
    await Promise.all([first?.stop(), second?.stop()])
    await server?.stop()
  })

  it("share a workload's requests through its queue group: each request is handled once", async () => {
    const spec = specFor("counter", counter, { triggers: ["count"], allowPublish: ["handled"] })
    await Promise.all([first.deploy(spec, counter), second.deploy(spec, counter)])
    const handled: Array<{ isolate: string; id: string }> = []
    const subscription = client.subscribe("handled", {
      callback: (_error, message) => {
        handled.push(message.json())
      }
    })
    await client.flush()
    const total = 60
    const replies = await Promise.all(Array.from({ length: total }, (_, index) => client.request("count", String(index), { timeout: 5000 })))
    await eventually(() => expect(handled).toHaveLength(total))
    await client.flush()
    expect(handled).toHaveLength(total)
    expect(new Set(handled.map((entry) => entry.id)).size).toBe(total)
    const isolates = new Set(replies.map((reply) => reply.string()))
    expect(isolates.size).toBe(2)
    subscription.unsubscribe()
  })

  it("a Map blown past the memory limit costs at most its own process; the other keeps serving", async () => {
    const spec = specFor("shared", fixture("echo"), { triggers: ["shared"] })
    await Promise.all([first.deploy(spec, fixture("echo")), second.deploy(spec, fixture("echo"))])
    await first.deploy(specFor("bomb", fixture("map"), { triggers: ["bomb"], memoryMiB: 32, timeoutMs: 20_000 }), fixture("map"))
    const seen = first.messages.length
    const outcome = await Promise.race([
      client.request("bomb", "blow", { timeout: 20_000 }).catch((error: Error) => error),
      first.exited.then(() => "exited" as const)
    ])
    if (outcome !== "exited") {
      // V8 killed the isolate cleanly this time: a memory_limit reply and a recreated isolate.
      expect(outcome instanceof Error ? outcome.message : outcome.headers?.get("Nex-Error")).toBe("memory_limit")
      await first.waitFor((message) => message.type === "isolateLost" && message.name === "bomb", 2000, seen)
    } else {
      // The whole process aborted; it said which workload did it first, and the node sees the exit.
      const exit = await first.exited
      expect(exit.signal).toBe("SIGABRT")
      expect(first.messages.slice(seen).find((message) => message.type === "isolateLost")).toMatchObject({
        name: "bomb",
        reason: expect.stringContaining("catastrophic")
      })
    }
    // Either way the replica in the other process answers every request.
    const answers = await Promise.all(Array.from({ length: 20 }, (_, index) => client.request("shared", `after ${index}`, { timeout: 5000 })))
    expect(answers.every((answer) => (answer.headers?.get("Nex-Error") ?? "") === "")).toBe(true)
    expect(second.isRunning).toBe(true)
  })
})

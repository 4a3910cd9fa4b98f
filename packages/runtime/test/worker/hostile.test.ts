import { connect, headers, type Msg, type NatsConnection } from "@nats-io/transport-node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { eventually } from "../../../../test/support/eventually.ts"
import { hasNatsServer, startNatsServer, type Target } from "../../../../test/support/natsServer.ts"
import { fixture, specFor, WorkerProcess } from "./WorkerProcess.ts"

const errorOf = (message: Msg): string => message.headers?.get("Nex-Error") ?? ""

describe.skipIf(!hasNatsServer)("hostile workloads", () => {
  let server: Target
  let worker: WorkerProcess
  let client: NatsConnection

  beforeAll(async () => {
    server = await startNatsServer({ jetstream: true })
    worker = await WorkerProcess.start(server.url)
    client = await connect({ servers: server.url })
    await worker.deploy(specFor("echo", fixture("echo"), { triggers: ["echo"] }), fixture("echo"))
    await worker.deploy(specFor("loop", fixture("loop"), { triggers: ["loop"], timeoutMs: 300 }), fixture("loop"))
  })

  afterAll(async () => {
    await client?.close()
    const exit = await worker?.stop()
    await server?.stop()
    expect(exit).toEqual({ code: 0, signal: null })
  })

  const request = (subject: string, data: string | Uint8Array = "", timeout = 5000): Promise<Msg> => client.request(subject, data, { timeout })

  /** Latencies of echo requests sent every 20 ms while `during` runs. */
  const echoWhile = async <A>(during: Promise<A>): Promise<{ result: A; latencies: number[] }> => {
    const latencies: number[] = []
    let running = true
    const prober = (async () => {
      while (running) {
        const sentAt = performance.now()
        await request("echo", "ping", 2000)
        latencies.push(performance.now() - sentAt)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    })()
    const result = await during.finally(() => (running = false))
    await prober
    return { result, latencies }
  }

  it("stops a synchronous infinite loop at the time limit while other workloads keep answering", async () => {
    const seen = worker.messages.length
    const startedAt = performance.now()
    const { result, latencies } = await echoWhile(request("loop", "spin"))
    const elapsed = performance.now() - startedAt
    expect(errorOf(result)).toBe("timeout: exceeded 300 ms")
    expect(result.data.length).toBe(0)
    expect(elapsed).toBeGreaterThanOrEqual(290)
    expect(elapsed).toBeLessThan(2000)
    expect(latencies.length).toBeGreaterThanOrEqual(5)
    expect(Math.max(...latencies)).toBeLessThan(300)
    const lost = await worker.waitFor((message) => message.type === "isolateLost" && message.name === "loop", 2000, seen)
    expect(lost).toMatchObject({ reason: "timeout: an invocation exceeded 300 ms" })
    expect((await request("loop", "ok")).string()).toBe("fine")
  })

  it("stops a loop that starts after an await by disposing the isolate, then recreates it", async () => {
    const seen = worker.messages.length
    const { result, latencies } = await echoWhile(request("loop", "after-await"))
    expect(errorOf(result)).toBe("timeout: exceeded 300 ms")
    expect(Math.max(...latencies)).toBeLessThan(300)
    const lost = await worker.waitFor((message) => message.type === "isolateLost" && message.name === "loop", 2000, seen)
    expect(lost).toMatchObject({ reason: expect.stringContaining("timeout") })
    expect((await request("loop", "ok")).string()).toBe("fine")
  })

  it("kills a heap blow-up at the memory limit and starts a fresh isolate", async () => {
    await worker.deploy(specFor("heap", fixture("heap"), { triggers: ["heap"], memoryMiB: 16, timeoutMs: 10_000 }), fixture("heap"))
    const seen = worker.messages.length
    const { result, latencies } = await echoWhile(request("heap", "blow", 10_000))
    expect(errorOf(result)).toBe("memory_limit")
    expect(Math.max(...latencies)).toBeLessThan(300)
    await worker.waitFor((message) => message.type === "isolateLost" && message.name === "heap", 2000, seen)
    expect((await request("heap", "status")).string()).toBe("alive, retained 0")
    // An ArrayBuffer allocation failure is catchable in the guest; the isolate is recycled anyway.
    expect(errorOf(await request("heap", "bytes", 10_000))).toBe("memory_limit")
    await eventually(async () => expect((await request("heap", "status")).string()).toBe("alive, retained 0"))
  })

  it("gives the guest no way to host objects, process or host paths", async () => {
    await worker.deploy(specFor("escape", fixture("escape"), { triggers: ["escape"] }), fixture("escape"))
    const report = (await request("escape", "probe")).json()
    expect(report).toEqual({
      process: "undefined",
      require: "undefined",
      globalProcess: "undefined",
      constructorEscape: "blocked: ReferenceError: process is not defined",
      ctxConstructorEscape: "blocked: ReferenceError: process is not defined",
      thisConstructor: "undefined",
      functionGlobal: "undefined",
      evalGlobal: "undefined",
      webAssembly: "undefined",
      sharedArrayBuffer: "undefined",
      atomics: "undefined",
      leftovers: [],
      fetch: "undefined",
      setInterval: "undefined",
      dataBufferSize: 5,
      messageLength: 5,
      importFs: "blocked: Not supported",
      frozenContext: true,
      stackLeak: "no host paths"
    })
    // Its own prototype pollution stays in its own isolate.
    expect((await request("echo", "after")).json()).toMatchObject({ text: "after", headers: {} })
  })

  it("never replies into a $ system subject chosen by the sender", async () => {
    const hijacked: Msg[] = []
    const subscription = client.subscribe("$KV.>", {
      callback: (_error, message) => {
        hijacked.push(message)
      }
    })
    await client.flush()
    client.publish("echo", "hijack", { reply: "$KV.app-state.stolen" })
    // A normal request afterwards: once it is answered, the first message was handled too (concurrency 1).
    expect((await request("echo", "after")).json()).toMatchObject({ text: "after" })
    await client.flush()
    expect(hijacked).toHaveLength(0)
    subscription.unsubscribe()
  })

  it("refuses oversized payloads in every direction", async () => {
    await worker.deploy(specFor("big", fixture("big"), { triggers: ["big"], allowPublish: ["big.out"] }), fixture("big"))
    const reply = await request("big", "reply")
    expect(reply.data.length).toBe(0)
    expect(errorOf(reply)).toMatch(/^payload_too_large: reply of 2097152 bytes exceeds max_payload \d+$/)
    expect((await request("big", "publish")).string()).toMatch(/^refused: publish: argument 2: body larger than \d+ bytes$/)
    expect((await request("big", "kv")).string()).toMatch(/^refused: kv\.put: argument 3: body larger than \d+ bytes$/)
    const limit = client.info?.max_payload ?? 1024 * 1024
    expect((await request("big", new Uint8Array(limit - 1024))).string()).toBe(`got ${limit - 1024} bytes`)
  })

  it("keeps order with concurrency 1 and answers mailbox_full beyond the mailbox bound (10,000 messages)", async () => {
    const mailbox = 1000
    await worker.deploy(specFor("ordered", fixture("ordered"), { triggers: ["ordered"], mailbox, concurrency: 1 }), fixture("ordered"))
    const total = 10_000
    const replies: Array<{ sequence: number; body: string; error: string }> = []
    const subscription = client.subscribe("replies.ordered.>", {
      callback: (_error, message) => {
        replies.push({ sequence: Number(message.subject.split(".")[2]), body: message.string(), error: errorOf(message) })
      }
    })
    await client.flush()
    for (let sequence = 0; sequence < total; sequence++) {
      const sent = headers()
      sent.set("seq", String(sequence))
      // The first message holds the workload for a second while the rest arrive.
      client.publish("ordered", sequence === 0 ? "1000" : "0", { reply: `replies.ordered.${sequence}`, headers: sent })
    }
    await client.flush()
    await eventually(() => expect(replies).toHaveLength(total), { timeout: 20_000, interval: 50 })
    subscription.unsubscribe()
    const handled = replies.filter((reply) => reply.error === "")
    const refused = replies.filter((reply) => reply.error !== "")
    expect(handled.map((reply) => reply.sequence)).toEqual(Array.from({ length: mailbox + 1 }, (_, index) => index))
    expect(handled.every((reply) => reply.body === String(reply.sequence))).toBe(true)
    expect(refused).toHaveLength(total - mailbox - 1)
    expect(new Set(refused.map((reply) => reply.error))).toEqual(new Set(["mailbox_full"]))
  })
})

import { Kvm } from "@nats-io/kv"
import { Objm } from "@nats-io/obj"
import { connect, headers, type Msg, type NatsConnection } from "@nats-io/transport-node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { eventually } from "../../../../test/support/eventually.ts"
import { hasNatsServer, startNatsServer, type Target } from "../../../../test/support/natsServer.ts"
import type { WorkerToNode } from "../../src/worker/WorkerProtocol.ts"
import { fixture, specFor, WorkerProcess } from "./WorkerProcess.ts"

const decoder = new TextDecoder()

describe.skipIf(!hasNatsServer)("sandbox host process", () => {
  let server: Target
  let worker: WorkerProcess
  let client: NatsConnection

  beforeAll(async () => {
    server = await startNatsServer({ jetstream: true })
    worker = await WorkerProcess.start(server.url, "node-a")
    client = await connect({ servers: server.url })
  })

  afterAll(async () => {
    await client?.close()
    const exit = await worker?.stop()
    await server?.stop()
    expect(exit).toEqual({ code: 0, signal: null })
  })

  const request = (subject: string, data: string | Uint8Array = "", timeout = 5000): Promise<Msg> => client.request(subject, data, { timeout })
  const call = async (subject: string, command: object): Promise<{ ok: boolean; value?: unknown; error?: string; code?: string }> =>
    (await request(subject, JSON.stringify(command))).json()

  it("answers requests with the handler's result, headers included", async () => {
    await worker.deploy(specFor("echo", fixture("echo"), { triggers: ["echo.>"] }), fixture("echo"))
    const sent = headers()
    sent.set("X-Trace", "abc")
    const reply = await client.request("echo.one", "hello", { timeout: 5000, headers: sent })
    expect(reply.headers?.get("Nex-Error") ?? "").toBe("")
    expect(reply.json()).toEqual({
      subject: "echo.one",
      text: "hello",
      headers: { "X-Trace": "abc" },
      trace: "abc",
      name: "echo",
      node: "node-a"
    })
  })

  it("encodes strings, bytes, JSON and undefined; a throw becomes a one-line Nex-Error", async () => {
    await worker.deploy(specFor("kinds", fixture("kinds"), { triggers: ["kinds"] }), fixture("kinds"))
    expect((await request("kinds", "string")).string()).toBe("plain text")
    expect([...(await request("kinds", "bytes")).data]).toEqual([1, 2, 3, 250])
    expect([...(await request("kinds", "view")).data]).toEqual([7, 7, 7, 7])
    expect((await request("kinds", "json")).json()).toEqual({ a: 1, list: [true, null] })
    expect((await request("kinds", "null")).string()).toBe("null")
    expect((await request("kinds", "utf8")).string()).toBe("héllo ✓ 𝄞")
    const empty = await request("kinds", "undefined")
    expect(empty.data.length).toBe(0)
    expect(empty.headers?.get("Nex-Error") ?? "").toBe("")
    const thrown = await request("kinds", "throw")
    expect(thrown.data.length).toBe(0)
    expect(thrown.headers?.get("Nex-Error")).toBe("user_error: boom Injected-Header: yes")
    expect(thrown.headers?.get("Injected-Header") ?? "").toBe("")
    expect((await request("kinds", "throw-value")).headers?.get("Nex-Error")).toBe("user_error: a string")
  })

  it("refuses modules that cannot run, naming file and line", async () => {
    const syntax = await worker.startWorkload(specFor("broken", "export default async () => {\n  return 1 +;\n}"), "export default async () => {\n  return 1 +;\n}")
    expect(syntax).toMatchObject({ type: "startFailed", name: "broken" })
    expect(syntax.type === "startFailed" && syntax.reason).toMatch(/broken\.js:2:\d+/)
    const imports = await worker.startWorkload(specFor("imports", 'import fs from "node:fs"\nexport default () => fs'), 'import fs from "node:fs"\nexport default () => fs')
    expect(imports.type === "startFailed" && imports.reason).toContain("cannot import 'node:fs'")
    const noDefault = await worker.startWorkload(specFor("nodefault", "export const x = 1"), "export const x = 1")
    expect(noDefault.type === "startFailed" && noDefault.reason).toContain("no default export function")
    const thrown = await worker.startWorkload(specFor("toplevel", 'throw new TypeError("bad init")'), 'throw new TypeError("bad init")')
    expect(thrown.type === "startFailed" && thrown.reason).toContain("TypeError: bad init")
    const reserved = await worker.startWorkload(specFor("sneaky", fixture("echo"), { triggers: ["$KV.nex-deployments.>"] }), fixture("echo"))
    expect(reserved.type === "startFailed" && reserved.reason).toContain("reserved")
    const wildcard = await worker.startWorkload(specFor("greedy", fixture("echo"), { triggers: [">"] }), fixture("echo"))
    expect(wildcard.type).toBe("startFailed")
  })

  it("waits for top-level await before answering", async () => {
    const code = 'const ready = await new Promise((resolve) => resolve("ready"))\nexport default async () => ready'
    await worker.deploy(specFor("tla", code, { triggers: ["tla"] }), code)
    expect((await request("tla")).string()).toBe("ready")
  })

  it("serves kv, objects, artifacts, publish and request from ctx", async () => {
    await worker.deploy(specFor("services", fixture("services"), { triggers: ["services"], allowPublish: ["svc.>"] }), fixture("services"))
    const kv = await new Kvm(client).create("app-state")
    expect(await call("services", { op: "kv.put", bucket: "app-state", key: "greeting", value: { hello: "world" } })).toMatchObject({ ok: true })
    expect((await kv.get("greeting"))?.json()).toEqual({ hello: "world" })
    await kv.put("other", "from the client")
    expect(await call("services", { op: "kv.get", bucket: "app-state", key: "other" })).toMatchObject({
      ok: true,
      value: { key: "other", text: "from the client" }
    })
    expect(await call("services", { op: "kv.get", bucket: "app-state", key: "missing" })).toEqual({ ok: true, value: null })
    const keys = await call("services", { op: "kv.keys", bucket: "app-state" })
    expect((keys.value as string[]).sort()).toEqual(["greeting", "other"])
    await call("services", { op: "kv.delete", bucket: "app-state", key: "other" })
    expect(await kv.get("other")).toMatchObject({ operation: "DEL" })

    expect(await call("services", { op: "objects.put", bucket: "files", name: "a.txt", value: "object body" })).toMatchObject({
      ok: true,
      value: { name: "a.txt", size: 11 }
    })
    const store = await new Objm(client).open("files")
    expect(decoder.decode((await store.getBlob("a.txt")) ?? new Uint8Array())).toBe("object body")
    expect(await call("services", { op: "objects.get", bucket: "files", name: "a.txt" })).toEqual({
      ok: true,
      value: { name: "a.txt", size: 11, text: "object body" }
    })
    expect(await call("services", { op: "objects.info", bucket: "files", name: "a.txt" })).toMatchObject({ value: { name: "a.txt", size: 11 } })
    expect(await call("services", { op: "objects.list", bucket: "files" })).toMatchObject({ value: [{ name: "a.txt" }] })
    expect(await call("services", { op: "objects.delete", bucket: "files", name: "a.txt" })).toEqual({ ok: true, value: true })
    expect(await call("services", { op: "objects.get", bucket: "files", name: "a.txt" })).toEqual({ ok: true, value: null })

    await call("services", { op: "artifacts.put", name: "reports/today.txt", value: "artifact body" })
    const artifacts = await new Objm(client).open("nex-artifacts")
    expect(decoder.decode((await artifacts.getBlob("services/reports/today.txt")) ?? new Uint8Array())).toBe("artifact body")
    expect(await call("services", { op: "artifacts.get", name: "reports/today.txt" })).toEqual({ ok: true, value: "artifact body" })
    expect(await call("services", { op: "artifacts.put", name: "../echo/x", value: "" })).toMatchObject({ ok: false, code: "E_INVALID" })

    const received: Msg[] = []
    const subscription = client.subscribe("svc.out", {
      callback: (_error, message) => {
        received.push(message)
      }
    })
    await client.flush()
    await call("services", { op: "publish", subject: "svc.out", value: "published", headers: { "X-Kind": "test" } })
    await eventually(() => expect(received).toHaveLength(1))
    expect(received[0].string()).toBe("published")
    expect(received[0].headers?.get("X-Kind")).toBe("test")
    subscription.unsubscribe()

    const responder = client.subscribe("svc.answer", {
      callback: (_error, message) => {
        const answer = headers()
        answer.set("X-Answer", "42")
        message.respond(`answer to ${message.string()}`, { headers: answer })
      }
    })
    await client.flush()
    expect(await call("services", { op: "request", subject: "svc.answer", value: "question" })).toEqual({
      ok: true,
      value: { subject: expect.any(String), text: "answer to question", header: "42" }
    })
    responder.unsubscribe()
    expect(await call("services", { op: "request", subject: "svc.nobody", value: "?", timeout: 500 })).toMatchObject({
      ok: false,
      code: "E_NO_RESPONDERS",
      error: "no responders for 'svc.nobody'"
    })
    expect(await call("services", { op: "sleep", ms: 20 })).toEqual({ ok: true, value: "slept 20" })
  })

  it("denies what the spec does not allow, naming the subject or bucket", async () => {
    const leaked: Msg[] = []
    const subscription = client.subscribe("secret.>", {
      callback: (_error, message) => {
        leaked.push(message)
      }
    })
    await client.flush()
    expect(await call("services", { op: "publish", subject: "secret.plans", value: "x" })).toEqual({
      ok: false,
      error: "permission denied: publish to 'secret.plans'",
      code: "E_DENIED"
    })
    expect(await call("services", { op: "request", subject: "secret.ask", value: "x" })).toMatchObject({
      ok: false,
      error: "permission denied: request to 'secret.ask'"
    })
    expect(await call("services", { op: "publish", subject: "$JS.API.STREAM.DELETE.KV_app-state", value: "" })).toMatchObject({ code: "E_DENIED" })
    expect(await call("services", { op: "kv.put", bucket: "nex-deployments", key: "evil", value: "{}" })).toMatchObject({
      ok: false,
      error: "permission denied: kv bucket 'nex-deployments' is reserved"
    })
    expect(await call("services", { op: "publish", subject: "svc.*", value: "" })).toMatchObject({ code: "E_INVALID" })
    // The workload may always answer its own request.
    expect((await request("services", JSON.stringify({ op: "publish-reply" }))).string()).toBe("early answer")
    await client.flush()
    expect(leaked).toHaveLength(0)
    subscription.unsubscribe()
  })

  it("reads config from KV and sees each change within 100 ms without a restart", async () => {
    const kv = await new Kvm(client).open("nex-config")
    await kv.put("settings-key", JSON.stringify({ version: 0 }))
    await worker.deploy(
      specFor("configured", fixture("config"), { triggers: ["configured"], configKey: "settings-key", allowPublish: ["config.seen"] }),
      fixture("config")
    )
    expect((await request("configured")).json()).toEqual({ version: 0 })
    const seen = new Map<number, number>()
    const subscription = client.subscribe("config.seen", {
      callback: (_error, message) => {
        seen.set((message.json() as { version: number }).version, performance.now())
      }
    })
    await client.flush()
    const latencies: number[] = []
    for (let version = 1; version <= 20; version++) {
      const putAt = performance.now()
      await kv.put("settings-key", JSON.stringify({ version }))
      await eventually(() => expect(seen.has(version)).toBe(true), { timeout: 2000, interval: 1 })
      latencies.push((seen.get(version) ?? 0) - putAt)
    }
    subscription.unsubscribe()
    latencies.sort((a, b) => a - b)
    const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))]
    console.log(`config change → onConfig: p50 ${latencies[10].toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`)
    expect(p99).toBeLessThan(100)
    expect((await request("configured")).json()).toEqual({ version: 20 })
    await kv.put("settings-key", "not json")
    await eventually(async () => expect((await request("configured")).json()).toEqual({}))
    const started = worker.messages.filter((message) => message.type === "started" && message.name === "configured")
    expect(started).toHaveLength(1)
  })

  it("publishes console and ctx.log output as JSON lines on $NEX.logs.<name>", async () => {
    const lines: Array<Record<string, unknown>> = []
    const subscription = client.subscribe("$NEX.logs.logs", {
      callback: (_error, message) => {
        lines.push(message.json())
      }
    })
    await client.flush()
    await worker.deploy(specFor("logs", fixture("logs"), { triggers: ["logs"] }), fixture("logs"))
    expect((await request("logs", "detail")).string()).toBe("logged")
    await eventually(() => expect(lines).toHaveLength(3))
    expect(lines[0]).toMatchObject({ name: "logs", level: "info", message: 'console line {"n":1}', node: "node-a", revision: 1 })
    expect(lines[1]).toMatchObject({ level: "warn", message: "warn line detail" })
    expect(lines[2]).toMatchObject({ level: "error" })
    expect(String(lines[2].message)).toContain("Error: logged error")
    subscription.unsubscribe()
  })

  it("replaces a running revision and stops on request", async () => {
    const v1 = "export default async () => 'v1'"
    const v2 = "export default async () => 'v2'"
    await worker.deploy(specFor("versions", v1, { triggers: ["versions"] }), v1)
    expect((await request("versions")).string()).toBe("v1")
    await worker.deploy(specFor("versions", v2, { triggers: ["versions"], revision: 2 }), v2)
    await eventually(async () => expect((await request("versions")).string()).toBe("v2"))
    const seen = worker.messages.length
    worker.send({ type: "stop", name: "versions" })
    await worker.waitFor((message) => message.type === "stopped" && message.name === "versions", 5000, seen)
    await expect(request("versions", "", 500)).rejects.toThrow()
  })

  it("runs up to `concurrency` invocations at once", async () => {
    await worker.deploy(specFor("parallel", fixture("services"), { triggers: ["parallel"], concurrency: 4 }), fixture("services"))
    const startedAt = performance.now()
    const replies = await Promise.all([1, 2, 3, 4].map(() => call("parallel", { op: "sleep", ms: 300 })))
    expect(replies).toEqual(Array(4).fill({ ok: true, value: "slept 300" }))
    expect(performance.now() - startedAt).toBeLessThan(900)
  })

  it("heartbeats every second with per-workload figures", async () => {
    const seen = worker.messages.length
    const heartbeat = (await worker.waitFor((message) => message.type === "heartbeat", 3000, seen)) as Extract<WorkerToNode, { type: "heartbeat" }>
    const echo = heartbeat.stats.find((stats) => stats.name === "echo")
    expect(echo).toMatchObject({ name: "echo", revision: 1, invocations: 1, errors: 0 })
    expect(echo?.cpuTimeNs).toBeGreaterThan(0)
    expect(heartbeat.active).toContain("parallel")
    const kinds = heartbeat.stats.find((stats) => stats.name === "kinds")
    expect(kinds?.errors).toBe(2)
    expect(kinds?.lastError).toBe("user_error: a string")
  })
})

import { connect } from "@nats-io/transport-node"
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { eventually } from "../../../test/support/eventually.ts"
import { NoRespondersError } from "../src/index.ts"
import { RawClient, type RunningBroker, startBroker } from "./harness.ts"

const running: RunningBroker[] = []
const start = async (config: Parameters<typeof startBroker>[0] = {}, options: Parameters<typeof startBroker>[1] = {}) => {
  const broker = await startBroker(config, options)
  running.push(broker)
  return broker
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((broker) => broker.close()))
})

const connectLine = (options: Record<string, unknown> = {}) =>
  `CONNECT ${JSON.stringify({ verbose: false, pedantic: false, headers: true, protocol: 1, ...options })}\r\n`

describe("broker", () => {
  it("sends INFO with nats-server's fields on accept", async () => {
    const { broker } = await start()
    const raw = await RawClient.open(broker.port)
    await eventually(() => expect(raw.received).toContain("\r\n"))
    const info = JSON.parse(raw.received.slice(5, raw.received.indexOf("\r\n")))
    expect(info).toMatchObject({ server_id: broker.serverId, proto: 1, headers: true, max_payload: 1048576, port: broker.port })
    expect(info.version).toMatch(/^\d+\.\d+\.\d+$/)
    expect(typeof info.client_id).toBe("number")
    expect(info.auth_required).toBeUndefined()
    raw.close()
  })

  it("holds socket clients until opened, while in-process clients already work", async () => {
    const { broker } = await start({}, { held: true })
    const waiting = await RawClient.open(broker.port)
    const impatient = await RawClient.open(broker.port)
    impatient.close()
    waiting.send(`${connectLine()}PING\r\n`)
    const internal = broker.connectInternal("held")
    const seen: string[] = []
    internal.subscribe("early", (message) => seen.push(Buffer.from(message.payload).toString()))
    internal.publish("early", Buffer.from("served"))
    await eventually(() => expect(seen).toEqual(["served"]))
    // Nothing reaches a held socket: give the event loop a few turns to prove it.
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(waiting.received).toBe("")
    await Effect.runPromise(broker.open)
    await eventually(() => expect(waiting.received).toMatch(/^INFO \{.*\} ?\r\nPONG\r\n$/))
    const late = await connect({ port: broker.port })
    await late.flush()
    await late.close()
    waiting.close()
  })

  it("routes between an in-process client and a socket client both ways", async () => {
    const { broker } = await start()
    const internal = broker.connectInternal("test")
    const seen: string[] = []
    internal.subscribe("svc.*", (message) => {
      seen.push(`${message.subject}:${Buffer.from(message.payload).toString()}`)
      if (message.reply !== undefined) internal.publish(message.reply, Buffer.from("pong"))
    })
    const nc = await connect({ servers: broker.url })
    const reply = await nc.request("svc.ping", "hi")
    expect(reply.string()).toBe("pong")
    expect(seen).toEqual(["svc.ping:hi"])

    const received: string[] = []
    const sub = nc.subscribe("events.>", { callback: (_error, message) => void received.push(message.string()) })
    await nc.flush()
    internal.publish("events.a.b", Buffer.from("one"))
    await eventually(() => expect(received).toEqual(["one"]))
    sub.unsubscribe()
    await expect(internal.request("nobody.home", Buffer.from("x"), { timeoutMs: 1000 })).rejects.toBeInstanceOf(NoRespondersError)
    await nc.close()
  })

  it("closes a connection that stops answering PINGs with -ERR 'Stale Connection'", async () => {
    const { broker } = await start({ pingIntervalMs: 50, pingMax: 2 })
    const raw = await RawClient.open(broker.port)
    raw.send(connectLine())
    await eventually(() => expect(raw.closed).toBe(true), { timeout: 3000 })
    expect(raw.afterInfo).toBe("PING\r\nPING\r\n-ERR 'Stale Connection'\r\n")
    expect(broker.server.staleConnections).toBe(1)
  })

  it("keeps a connection that answers PINGs", async () => {
    const { broker } = await start({ pingIntervalMs: 30, pingMax: 2 })
    const nc = await connect({ servers: broker.url })
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(nc.isClosed()).toBe(false)
    expect(broker.server.staleConnections).toBe(0)
    await nc.close()
  })

  it("closes with 'Authentication Timeout' when auth is required and CONNECT never comes", async () => {
    const { broker } = await start({ auth: { token: "s3cret" }, authTimeoutMs: 100 })
    const raw = await RawClient.open(broker.port)
    await eventually(() => expect(raw.closed).toBe(true), { timeout: 3000 })
    expect(raw.received).toContain('"auth_required":true')
    expect(raw.afterInfo).toBe("-ERR 'Authentication Timeout'\r\n")
  })

  it("refuses connections past max_connections", async () => {
    const { broker } = await start({ maxConnections: 1 })
    const first = await RawClient.open(broker.port)
    await eventually(() => expect(broker.server.clients.size).toBe(1))
    const second = await RawClient.open(broker.port)
    await eventually(() => expect(second.closed).toBe(true))
    expect(second.received).toBe("-ERR 'maximum connections exceeded'\r\n")
    first.close()
  })

  it("cuts off a subscriber that does not read, while others keep receiving", async () => {
    const maxPending = 256 * 1024
    const { broker } = await start({ maxPending })
    const stalled = await RawClient.open(broker.port)
    stalled.send(`${connectLine()}SUB flood 1\r\nPING\r\n`)
    await eventually(() => expect(stalled.afterInfo).toContain("PONG"))
    stalled.socket.pause()
    const healthy = await connect({ servers: broker.url })
    let healthyCount = 0
    healthy.subscribe("flood", { callback: () => void healthyCount++ })
    await healthy.flush()
    const publisher = await connect({ servers: broker.url })
    const payload = new Uint8Array(1024)
    const total = 20_000
    // Bursts well under maxPending: on a loaded machine the healthy reader (in this same process)
    // may lag a burst behind, and a burst above the bound would cut it off too.
    for (let index = 0; index < total; index++) {
      publisher.publish("flood", payload)
      if (index % 64 === 0) await publisher.flush()
    }
    await publisher.flush()
    await eventually(() => expect(healthyCount).toBe(total), { timeout: 10_000 })
    await eventually(() => expect(broker.server.slowConsumers).toBe(1))
    expect(broker.server.closedClients.some((client) => client.closeReason === "Slow Consumer (Pending Bytes)")).toBe(true)
    await Promise.all([healthy.close(), publisher.close()])
    stalled.close()
  })

  it("holds output for a socket that stopped reading and delivers it in order once it reads again", async () => {
    const { broker } = await start()
    const paused = await RawClient.open(broker.port)
    paused.send(`${connectLine()}SUB flood 1\r\nPING\r\n`)
    await eventually(() => expect(paused.afterInfo).toContain("PONG"))
    paused.socket.pause()
    const publisher = await connect({ servers: broker.url })
    // 16 MiB: more than loopback's kernel buffers hold, so the broker has to keep the rest.
    const total = 16_384
    for (let index = 0; index < total; index++) {
      publisher.publish("flood", Buffer.from(String(index).padStart(1024, "0")))
      if (index % 1000 === 0) await publisher.flush()
    }
    await publisher.flush()
    await eventually(() => expect([...broker.server.clients.values()].some((client) => client.writeBlockedSince !== 0)).toBe(true))
    paused.socket.resume()
    const frame = (index: number) => `MSG flood 1 1024\r\n${String(index).padStart(1024, "0")}\r\n`
    await eventually(() => expect(paused.afterInfo.length).toBe(6 + total * frame(0).length), { timeout: 10_000 })
    const expected = Array.from({ length: total }, (_, index) => frame(index)).join("")
    expect(paused.afterInfo === `PONG\r\n${expected}`).toBe(true)
    await publisher.close()
    paused.close()
  })

  it("cuts off a socket that holds unread output past the write deadline", async () => {
    const { broker } = await start({ writeDeadlineMs: 200 })
    const stalled = await RawClient.open(broker.port)
    stalled.send(`${connectLine()}SUB flood 1\r\nPING\r\n`)
    await eventually(() => expect(stalled.afterInfo).toContain("PONG"))
    stalled.socket.pause()
    const publisher = await connect({ servers: broker.url })
    const payload = new Uint8Array(1024)
    // Enough to fill the kernel's buffers, far below maxPending (64 MiB).
    for (let index = 0; index < 16_384 && broker.server.slowConsumers === 0; index++) {
      publisher.publish("flood", payload)
      if (index % 1000 === 0) await publisher.flush()
    }
    await eventually(() => expect(broker.server.slowConsumers).toBe(1), { timeout: 5000 })
    expect(broker.server.closedClients.map((client) => client.closeReason)).toEqual(["Slow Consumer (Write Deadline)"])
    await publisher.flush()
    expect(publisher.isClosed()).toBe(false)
    await publisher.close()
    stalled.close()
  })

  it("drains buffered messages to clients on shutdown", async () => {
    const running = await startBroker({ port: 0 })
    const raw = await RawClient.open(running.broker.port)
    raw.send(`${connectLine()}SUB drain 1\r\nPING\r\n`)
    await eventually(() => expect(raw.afterInfo).toContain("PONG"))
    const internal = running.broker.connectInternal("publisher")
    for (let index = 0; index < 100; index++) internal.publish("drain", Buffer.from(String(index)))
    await running.close()
    await eventually(() => expect(raw.closed).toBe(true))
    const messages = raw.afterInfo.match(/MSG drain 1/g) ?? []
    expect(messages.length).toBe(100)
  })

  it("lets a user with allowResponses answer requests outside its publish permissions", async () => {
    const { broker } = await start({
      auth: {
        users: [
          { user: "service", password: "pw", permissions: { publish: { allow: ["none.>"] }, subscribe: { allow: ["svc.>", "_INBOX.>"] }, allowResponses: true } },
          { user: "caller", password: "pw" }
        ]
      }
    })
    const service = await connect({ servers: broker.url, user: "service", pass: "pw" })
    service.subscribe("svc.echo", { callback: (_error, message) => void message.respond(message.data) })
    await service.flush()
    const caller = await connect({ servers: broker.url, user: "caller", pass: "pw" })
    const reply = await caller.request("svc.echo", "hello", { timeout: 2000 })
    expect(reply.string()).toBe("hello")
    await Promise.all([service.close(), caller.close()])
  })

  it("applies a subscribe deny to wildcard subscriptions per message", async () => {
    const { broker } = await start({
      auth: { users: [{ user: "u", password: "p", permissions: { subscribe: { deny: ["secret.>"] } } }] }
    })
    const nc = await connect({ servers: broker.url, user: "u", pass: "p" })
    const received: string[] = []
    nc.subscribe(">", { callback: (_error, message) => void received.push(message.subject) })
    await nc.flush()
    const publisher = broker.connectInternal("publisher")
    publisher.publish("public.news", Buffer.from("a"))
    publisher.publish("secret.plans", Buffer.from("b"))
    publisher.publish("public.done", Buffer.from("c"))
    await eventually(() => expect(received).toEqual(["public.news", "public.done"]))
    await nc.close()
  })
})

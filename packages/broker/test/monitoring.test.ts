import { connect } from "@nats-io/transport-node"
import { Effect, Exit, Layer, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freePort } from "../../../test/support/ports.ts"
import { Broker, type BrokerShape, layer, Monitoring } from "../src/index.ts"
import { quiet } from "./harness.ts"

describe("monitoring endpoints", () => {
  let scope: Scope.CloseableScope
  let broker: BrokerShape
  let base: string

  beforeAll(async () => {
    const httpPort = await freePort()
    base = `http://127.0.0.1:${httpPort}`
    scope = await Effect.runPromise(Scope.make())
    const node = Layer.provideMerge(Monitoring.layer({ host: "127.0.0.1", port: httpPort }), layer({ port: 0 }))
    const context = await Effect.runPromise(Layer.buildWithScope(node.pipe(Layer.provide(quiet)), scope))
    broker = context.unsafeMap.get(Broker.key) as BrokerShape
  })

  afterAll(async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  })

  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`)
    return { status: response.status, type: response.headers.get("content-type"), body: await response.text() }
  }

  it("answers /healthz with status ok", async () => {
    const response = await get("/healthz")
    expect(response.status).toBe(200)
    expect(JSON.parse(response.body)).toEqual({ status: "ok" })
  })

  it("reports counters in /varz with nats-server's field names and types", async () => {
    const nc = await connect({ servers: broker.url, name: "varz-test" })
    nc.subscribe("metrics.>")
    nc.publish("metrics.cpu", "42")
    await nc.flush()
    const varz = JSON.parse((await get("/varz")).body)
    expect(varz).toMatchObject({ server_id: broker.serverId, proto: 1, port: broker.port, max_payload: 1048576, max_control_line: 4096, ping_max: 2 })
    expect(varz.connections).toBe(1)
    expect(varz.subscriptions).toBeGreaterThanOrEqual(1)
    expect(varz.in_msgs).toBeGreaterThanOrEqual(1)
    expect(varz.out_msgs).toBeGreaterThanOrEqual(1)
    expect(typeof varz.mem).toBe("number")
    expect(varz.uptime).toMatch(/^\d+[dhms]/)
    expect(new Date(varz.now).getTime()).not.toBeNaN()
    await nc.close()
  })

  it("lists connections in /connz with subscriptions and closed ones by state", async () => {
    const nc = await connect({ servers: broker.url, name: "connz-test" })
    nc.subscribe("orders.*", { queue: "workers" })
    await nc.flush()
    const connz = JSON.parse((await get("/connz?subs=detail")).body)
    const mine = connz.connections.find((connection: { name?: string }) => connection.name === "connz-test")
    expect(mine).toMatchObject({ lang: "nats.js", subscriptions: 1 })
    expect(mine.subscriptions_list_detail[0]).toMatchObject({ subject: "orders.*", qgroup: "workers" })
    await nc.close()
    const closed = JSON.parse((await get("/connz?state=closed")).body)
    expect(closed.connections.some((connection: { name?: string; reason?: string }) => connection.name === "connz-test" && connection.reason === "Client Closed")).toBe(true)
    expect((await get("/connz?sort=bogus")).status).toBe(400)
  })

  it("reports the subject index in /subsz and filters with ?test", async () => {
    const nc = await connect({ servers: broker.url })
    nc.subscribe("a.b")
    nc.subscribe("a.*")
    nc.subscribe("z")
    await nc.flush()
    const subsz = JSON.parse((await get("/subsz?test=a.b")).body)
    expect(subsz.num_subscriptions).toBeGreaterThanOrEqual(3)
    expect(subsz.subscriptions_list.map((entry: { subject: string }) => entry.subject).sort()).toEqual(["a.*", "a.b"])
    await nc.close()
  })
})

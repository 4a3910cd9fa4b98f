import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream"
import { createInbox, type Msg, type NatsConnection } from "@nats-io/transport-node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { eventually } from "../../../test/support/eventually.ts"
import { type RunningJetStream, startJetStream } from "./harness.ts"

/** Collects what arrives on `subject` until `until` says so (or 3 s pass). */
const collect = async (nc: NatsConnection, subject: string, until: (received: Msg[]) => boolean, onMessage?: (message: Msg) => void, queue?: string) => {
  const received: Msg[] = []
  const subscription = nc.subscribe(subject, { queue })
  const timer = setTimeout(() => subscription.unsubscribe(), 3000)
  const done = (async () => {
    for await (const message of subscription) {
      received.push(message)
      onMessage?.(message)
      if (until(received)) break
    }
  })()
  return { received, subscription, done: done.then(() => clearTimeout(timer)) }
}

describe("push consumers", () => {
  let node: RunningJetStream
  let nc: NatsConnection
  let jsm: JetStreamManager
  let js: JetStreamClient
  beforeAll(async () => {
    node = await startJetStream()
    nc = await node.connect()
    jsm = await jetstreamManager(nc)
    js = jetstream(nc)
  })
  afterAll(async () => {
    await node.close()
  })

  it("waits for interest on the deliver subject, then delivers with the stream subject", async () => {
    await jsm.streams.add({ name: "PUSH", subjects: ["push.>"] })
    for (let index = 0; index < 5; index++) await js.publish(`push.${index}`, `${index}`)
    const deliver = createInbox()
    const created = await jsm.consumers.add("PUSH", { durable_name: "p", ack_policy: AckPolicy.Explicit, deliver_subject: deliver })
    expect(created.push_bound).toBeUndefined()
    expect(created.num_pending).toBe(5)
    const { received, done } = await collect(nc, deliver, (all) => all.length === 5, (message) => message.respond())
    await done
    expect(received.map((message) => message.subject)).toEqual(["push.0", "push.1", "push.2", "push.3", "push.4"])
    expect(received[0].reply).toMatch(/^\$JS\.ACK\.PUSH\.p\.1\.1\.1\.\d+\.4$/)
    await eventually(async () => expect(await jsm.consumers.info("PUSH", "p")).toMatchObject({ num_ack_pending: 0, num_pending: 0 }))
  })

  it("consumes with the nats.js push consumer and reports push_bound", async () => {
    await jsm.streams.add({ name: "PUSHJS", subjects: ["pushjs"] })
    await jsm.consumers.add("PUSHJS", { durable_name: "p", ack_policy: AckPolicy.Explicit, deliver_subject: createInbox(), idle_heartbeat: 1_000_000_000, flow_control: true })
    const consumer = await js.consumers.getPushConsumer("PUSHJS", "p")
    const messages = await consumer.consume()
    await eventually(async () => expect((await jsm.consumers.info("PUSHJS", "p")).push_bound).toBe(true))
    for (let index = 0; index < 100; index++) await js.publish("pushjs", `${index}`)
    let count = 0
    for await (const message of messages) {
      message.ack()
      if (++count === 100) break
    }
    expect(count).toBe(100)
  })

  it("shares messages across a deliver_group", async () => {
    await jsm.streams.add({ name: "GROUP", subjects: ["group"] })
    const deliver = createInbox()
    await jsm.consumers.add("GROUP", { durable_name: "g", ack_policy: AckPolicy.None, deliver_subject: deliver, deliver_group: "workers" })
    let total = 0
    const until = () => total >= 200
    const first = await collect(nc, deliver, until, () => total++, "workers")
    const second = await collect(nc, deliver, until, () => total++, "workers")
    await Promise.all(Array.from({ length: 200 }, (_, index) => js.publish("group", `${index}`)))
    await eventually(() => expect(total).toBe(200))
    first.subscription.unsubscribe()
    second.subscription.unsubscribe()
    expect(first.received.length).toBeGreaterThan(0)
    expect(second.received.length).toBeGreaterThan(0)
    expect(first.received.length + second.received.length).toBe(200)
  })

  it("sends idle heartbeats with the last consumer and stream sequences", async () => {
    await jsm.streams.add({ name: "BEAT", subjects: ["beat"] })
    await js.publish("beat", "x")
    const deliver = createInbox()
    await jsm.consumers.add("BEAT", { durable_name: "b", ack_policy: AckPolicy.None, deliver_subject: deliver, idle_heartbeat: 200_000_000 })
    const { received, done } = await collect(nc, deliver, (all) => all.some((message) => message.headers?.code === 100))
    await done
    const heartbeat = received.find((message) => message.headers?.code === 100) as Msg
    expect(received[0].string()).toBe("x")
    expect(heartbeat.headers?.description).toBe("Idle Heartbeat")
    expect(heartbeat.headers?.get("Nats-Last-Consumer")).toBe("1")
    expect(heartbeat.headers?.get("Nats-Last-Stream")).toBe("1")
    expect(heartbeat.data.length).toBe(0)
  })

  it("asks for flow control and waits for the answer", async () => {
    await jsm.streams.add({ name: "FLOW", subjects: ["flow"], storage: "memory" as never })
    const payload = new Uint8Array(64 * 1024)
    for (let index = 0; index < 64; index++) await js.publish("flow", payload)
    const deliver = createInbox()
    await jsm.consumers.add("FLOW", { durable_name: "f", ack_policy: AckPolicy.None, deliver_subject: deliver, idle_heartbeat: 1_000_000_000, flow_control: true })
    let flowRequests = 0
    let data = 0
    const { done } = await collect(
      nc,
      deliver,
      () => data === 64,
      (message) => {
        if (message.headers?.code === 100 && message.headers.description === "FlowControl Request") {
          flowRequests++
          expect(message.reply).toMatch(/^\$JS\.FC\.FLOW\.f\.\w{4}$/)
          message.respond()
        } else if (message.data.length > 0) {
          data++
        }
      }
    )
    await done
    expect(data).toBe(64)
    expect(flowRequests).toBeGreaterThan(0)
  })

  it("deletes an ephemeral push consumer that lost its subscriber", async () => {
    await jsm.streams.add({ name: "LONELY", subjects: ["lonely"] })
    const deliver = createInbox()
    const subscription = nc.subscribe(deliver)
    await nc.flush()
    const info = await jsm.consumers.add("LONELY", { ack_policy: AckPolicy.None, deliver_subject: deliver, inactive_threshold: 300_000_000 })
    await eventually(async () => expect((await jsm.consumers.info("LONELY", info.name)).push_bound).toBe(true))
    subscription.unsubscribe()
    await eventually(async () => expect((await jsm.streams.info("LONELY")).state.consumer_count).toBe(0), { timeout: 3000 })
  })
})

describe("ordered consumers", () => {
  let node: RunningJetStream
  let nc: NatsConnection
  let jsm: JetStreamManager
  let js: JetStreamClient
  beforeAll(async () => {
    node = await startJetStream()
    nc = await node.connect()
    jsm = await jetstreamManager(nc)
    js = jetstream(nc)
    await jsm.streams.add({ name: "ORDERED", subjects: ["ordered.>"] })
    await Promise.all(Array.from({ length: 2000 }, (_, index) => js.publish(`ordered.${index % 10}`, `${index}`)))
  })
  afterAll(async () => {
    await node.close()
  })

  it("delivers everything in order to a pull ordered consumer", async () => {
    const consumer = await js.consumers.get("ORDERED")
    const messages = await consumer.consume()
    let expected = 1
    for await (const message of messages) {
      expect(message.seq).toBe(expected)
      expect(message.info.deliverySequence).toBe(expected)
      if (expected++ === 2000) break
    }
    expect(expected).toBe(2001)
  })

  it("recovers when its server-side consumer disappears", async () => {
    const consumer = await js.consumers.get("ORDERED", { filter_subjects: ["ordered.3"] })
    // Short expiries so the client notices the missing consumer (missed heartbeats) quickly.
    const messages = await consumer.consume({ max_messages: 20, expires: 1000 })
    const seen: number[] = []
    for await (const message of messages) {
      seen.push(message.seq)
      if (seen.length === 50) {
        const names: string[] = []
        for await (const name of jsm.consumers.list("ORDERED")) names.push(name.name)
        for (const name of names) await jsm.consumers.delete("ORDERED", name).catch(() => {})
      }
      if (seen.length === 200) break
    }
    expect(seen).toEqual(Array.from({ length: 200 }, (_, index) => 4 + index * 10))
  })

  it("delivers everything in order to a push ordered consumer", async () => {
    const consumer = await js.consumers.getPushConsumer("ORDERED", { filter_subjects: ["ordered.>"], deliver_policy: DeliverPolicy.All })
    const messages = await consumer.consume()
    let expected = 1
    for await (const message of messages) {
      expect(message.seq).toBe(expected)
      if (expected++ === 2000) break
    }
    expect(expected).toBe(2001)
  })
})

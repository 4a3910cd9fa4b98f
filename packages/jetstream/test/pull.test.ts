import { AckPolicy, DeliverPolicy, type JetStreamClient, type JsMsg } from "@nats-io/jetstream"
import { createInbox, type Msg, type NatsConnection } from "@nats-io/transport-node"
import { describe, expect, it } from "vitest"
import { eventually } from "../../../test/support/eventually.ts"
import { useJetStreamSession } from "./harness.ts"

/** Everything a fetch returns (ack or not per `ack`). */
const fetchAll = async (js: JetStreamClient, stream: string, consumer: string, max: number, ack = true, expires = 2000): Promise<JsMsg[]> => {
  const messages = await (await js.consumers.get(stream, consumer)).fetch({ max_messages: max, expires })
  const seen: JsMsg[] = []
  for await (const message of messages) {
    seen.push(message)
    if (ack) message.ack()
  }
  return seen
}

/** The messages (data and status) a raw pull request brings back within `windowMs`. */
const rawPull = async (nc: NatsConnection, stream: string, consumer: string, body: unknown, count: number, timeoutMs = 2000): Promise<Msg[]> => {
  const inbox = createInbox()
  const subscription = nc.subscribe(inbox, { max: count })
  const received: Msg[] = []
  const done = (async () => {
    for await (const message of subscription) received.push(message)
  })()
  nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, typeof body === "string" ? body : JSON.stringify(body), { reply: inbox })
  const timer = setTimeout(() => subscription.unsubscribe(), timeoutMs)
  await done
  clearTimeout(timer)
  return received
}

/** A no_wait pull: the data messages available now (the request ends with a 404/408 status). */
const available = async (nc: NatsConnection, stream: string, consumer: string, batch = 100): Promise<Msg[]> => {
  const inbox = createInbox()
  const subscription = nc.subscribe(inbox)
  const data: Msg[] = []
  const done = (async () => {
    for await (const message of subscription) {
      if (message.headers?.code) break
      data.push(message)
      if (data.length === batch) break
    }
  })()
  // With expires the request also ends when max_ack_pending holds it back (as in nats-server).
  nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, JSON.stringify({ batch, no_wait: true, expires: 300_000_000 }), { reply: inbox })
  const timer = setTimeout(() => subscription.unsubscribe(), 2000)
  await done
  clearTimeout(timer)
  subscription.unsubscribe()
  return data
}

const sequenceOf = (message: Msg): number => Number((message.reply ?? "").split(".")[5])

describe("pull consumers", () => {
  const session = useJetStreamSession()

  it("fetches, acks and reports exact counters", async () => {
    await session.jsm.streams.add({ name: "FETCH", subjects: ["fetch.>"] })
    for (let index = 1; index <= 10; index++) await session.js.publish(`fetch.${index % 2 ? "odd" : "even"}`, `${index}`)
    const created = await session.jsm.consumers.add("FETCH", { durable_name: "d", ack_policy: AckPolicy.Explicit })
    expect(created.num_pending).toBe(10)
    expect(created.config).toMatchObject({ ack_wait: 30_000_000_000, max_deliver: -1, max_waiting: 512, max_ack_pending: 1000, replay_policy: "instant", deliver_policy: "all" })
    const first = await fetchAll(session.js, "FETCH", "d", 4, false)
    expect(first.map((message) => message.string())).toEqual(["1", "2", "3", "4"])
    expect(first.map((message) => message.info.pending)).toEqual([9, 8, 7, 6])
    expect(first.map((message) => message.info.deliverySequence)).toEqual([1, 2, 3, 4])
    first[1].ack()
    await first[1].ackAck()
    let info = await session.jsm.consumers.info("FETCH", "d")
    expect(info).toMatchObject({
      num_pending: 6,
      num_ack_pending: 3,
      num_redelivered: 0,
      num_waiting: 0,
      delivered: { consumer_seq: 4, stream_seq: 4 },
      ack_floor: { consumer_seq: 0, stream_seq: 0 }
    })
    first[0].ack()
    await first[2].ackAck()
    info = await session.jsm.consumers.info("FETCH", "d")
    expect(info.ack_floor).toMatchObject({ consumer_seq: 3, stream_seq: 3 })
    await first[3].ackAck()
    const rest = await fetchAll(session.js, "FETCH", "d", 6)
    expect(rest.map((message) => message.seq)).toEqual([5, 6, 7, 8, 9, 10])
    await rest[rest.length - 1].ackAck()
    info = await session.jsm.consumers.info("FETCH", "d")
    expect(info).toMatchObject({ num_pending: 0, num_ack_pending: 0, ack_floor: { consumer_seq: 10, stream_seq: 10 }, delivered: { consumer_seq: 10, stream_seq: 10 } })
  })

  it("consumes a few thousand messages with next() and consume()", async () => {
    await session.jsm.streams.add({ name: "BULK", subjects: ["bulk"] })
    const total = 3000
    await Promise.all(Array.from({ length: total }, (_, index) => session.js.publish("bulk", `${index}`)))
    await session.jsm.consumers.add("BULK", { durable_name: "c", ack_policy: AckPolicy.Explicit })
    const consumer = await session.js.consumers.get("BULK", "c")
    const one = await consumer.next({ expires: 1000 })
    expect(one?.seq).toBe(1)
    one?.ack()
    const seen = new Set<number>([1])
    const messages = await consumer.consume({ max_messages: 200 })
    for await (const message of messages) {
      seen.add(message.seq)
      message.ack()
      if (seen.size === total) break
    }
    expect(seen.size).toBe(total)
    await eventually(async () => expect(await session.jsm.consumers.info("BULK", "c")).toMatchObject({ num_pending: 0, num_ack_pending: 0 }))
  })

  it("redelivers after ack_wait and after a nak, counting deliveries", async () => {
    await session.jsm.streams.add({ name: "REDELIVER", subjects: ["redeliver"] })
    await session.js.publish("redeliver", "a")
    await session.js.publish("redeliver", "b")
    await session.jsm.consumers.add("REDELIVER", { durable_name: "r", ack_policy: AckPolicy.Explicit, ack_wait: 300_000_000 })
    const first = await fetchAll(session.js, "REDELIVER", "r", 2, false)
    expect(first.map((message) => message.redelivered)).toEqual([false, false])
    first[1].nak()
    const again = await fetchAll(session.js, "REDELIVER", "r", 1, false)
    expect(again[0]).toMatchObject({ seq: 2, redelivered: true })
    expect(again[0].info).toMatchObject({ deliveryCount: 2, deliverySequence: 3 })
    again[0].ack()
    const expired = await fetchAll(session.js, "REDELIVER", "r", 1, true)
    expect(expired[0]).toMatchObject({ seq: 1, redelivered: true })
    await expired[0].ackAck()
    const info = await session.jsm.consumers.info("REDELIVER", "r")
    expect(info).toMatchObject({ num_ack_pending: 0, num_redelivered: 0, ack_floor: { stream_seq: 2 } })
  })

  it("delays a nak by the requested time", async () => {
    await session.jsm.streams.add({ name: "NAKDELAY", subjects: ["nakdelay"] })
    await session.js.publish("nakdelay", "a")
    await session.jsm.consumers.add("NAKDELAY", { durable_name: "n", ack_policy: AckPolicy.Explicit })
    const [message] = await fetchAll(session.js, "NAKDELAY", "n", 1, false)
    const nakAt = Date.now()
    message.nak(400)
    expect(await available(session.nc, "NAKDELAY", "n")).toHaveLength(0)
    const later = await fetchAll(session.js, "NAKDELAY", "n", 1, true)
    expect(later[0].seq).toBe(1)
    expect(Date.now() - nakAt).toBeGreaterThanOrEqual(350)
  })

  it("extends the ack wait on +WPI and delays a Go-duration -NAK", async () => {
    await session.jsm.streams.add({ name: "PROGRESS", subjects: ["progress"] })
    await session.js.publish("progress", "a")
    await session.jsm.consumers.add("PROGRESS", { durable_name: "p", ack_policy: AckPolicy.Explicit, ack_wait: 400_000_000 })
    const [message] = await available(session.nc, "PROGRESS", "p", 1)
    const reply = message.reply as string
    const started = Date.now()
    // Keep it in progress for longer than one ack wait: no redelivery meanwhile.
    while (Date.now() - started < 600) {
      await session.nc.request(reply, "+WPI", { timeout: 1000 })
      expect(await available(session.nc, "PROGRESS", "p", 1)).toHaveLength(0)
    }
    await session.nc.request(reply, "-NAK 800ms", { timeout: 1000 })
    expect(await available(session.nc, "PROGRESS", "p", 1)).toHaveLength(0)
    const later = await fetchAll(session.js, "PROGRESS", "p", 1)
    expect(later[0].info.deliveryCount).toBe(2)
  })

  it("stops after max_deliver and honours backoff", async () => {
    await session.jsm.streams.add({ name: "MAXDELIVER", subjects: ["maxdeliver"] })
    await session.js.publish("maxdeliver", "a")
    await session.jsm.consumers.add("MAXDELIVER", { durable_name: "m", ack_policy: AckPolicy.Explicit, max_deliver: 2, backoff: [100_000_000, 200_000_000] })
    const info = await session.jsm.consumers.info("MAXDELIVER", "m")
    expect(info.config.ack_wait).toBe(100_000_000)
    const seen: number[] = []
    const consumer = await session.js.consumers.get("MAXDELIVER", "m")
    const messages = await consumer.consume({ max_messages: 10, expires: 1000 })
    for await (const message of messages) {
      seen.push(message.info.deliveryCount)
      if (seen.length === 2) break
    }
    expect(seen).toEqual([1, 2])
    // After the second ack wait the message leaves pending instead of being queued again; as in
    // nats-server it still counts as redelivered and the ack floor stays below it.
    await eventually(async () =>
      expect(await session.jsm.consumers.info("MAXDELIVER", "m")).toMatchObject({
        num_ack_pending: 0,
        num_redelivered: 1,
        delivered: { consumer_seq: 2 },
        ack_floor: { consumer_seq: 0, stream_seq: 0 }
      })
    )
  })

  it("holds deliveries at max_ack_pending", async () => {
    await session.jsm.streams.add({ name: "MAXPENDING", subjects: ["maxpending"] })
    for (let index = 0; index < 10; index++) await session.js.publish("maxpending", `${index}`)
    await session.jsm.consumers.add("MAXPENDING", { durable_name: "p", ack_policy: AckPolicy.Explicit, max_ack_pending: 3 })
    const first = await available(session.nc, "MAXPENDING", "p", 10)
    expect(first.map(sequenceOf)).toEqual([1, 2, 3])
    await session.nc.request(first[0].reply as string, "+ACK", { timeout: 2000 })
    const second = await available(session.nc, "MAXPENDING", "p", 10)
    expect(second.map(sequenceOf)).toEqual([4])
  })

  it("terminates, acks all and acks with +NXT", async () => {
    await session.jsm.streams.add({ name: "ACKS", subjects: ["acks"] })
    for (let index = 0; index < 6; index++) await session.js.publish("acks", `${index}`)
    await session.jsm.consumers.add("ACKS", { durable_name: "all", ack_policy: AckPolicy.All })
    const batch = await fetchAll(session.js, "ACKS", "all", 4, false)
    await batch[2].ackAck()
    expect(await session.jsm.consumers.info("ACKS", "all")).toMatchObject({ num_ack_pending: 1, ack_floor: { stream_seq: 3, consumer_seq: 3 } })
    await session.jsm.consumers.add("ACKS", { durable_name: "term", ack_policy: AckPolicy.Explicit, ack_wait: 200_000_000 })
    const [terminated] = await fetchAll(session.js, "ACKS", "term", 1, false)
    terminated.term("done")
    const next = await fetchAll(session.js, "ACKS", "term", 1, false)
    expect(next[0].seq).toBe(2)
    // The next message keeps its stream subject, so it needs a plain subscription (not request()).
    const inbox = createInbox()
    const subscription = session.nc.subscribe(inbox, { max: 1, timeout: 2000 })
    session.nc.publish((next[0] as unknown as { reply: string }).reply, "+NXT {\"batch\":1}", { reply: inbox })
    for await (const message of subscription) {
      expect(message.subject).toBe("acks")
      expect(message.string()).toBe("2")
    }
    expect(subscription.getReceived()).toBe(1)
  })

  it("filters by subject and subjects", async () => {
    await session.jsm.streams.add({ name: "FILTER", subjects: ["filter.>"] })
    for (const subject of ["filter.a", "filter.b", "filter.c", "filter.a", "filter.b"]) await session.js.publish(subject, subject)
    const single = await session.jsm.consumers.add("FILTER", { durable_name: "one", ack_policy: AckPolicy.Explicit, filter_subject: "filter.a" })
    expect(single.num_pending).toBe(2)
    expect((await fetchAll(session.js, "FILTER", "one", 2)).map((message) => message.seq)).toEqual([1, 4])
    const multi = await session.jsm.consumers.add("FILTER", { durable_name: "two", ack_policy: AckPolicy.Explicit, filter_subjects: ["filter.b", "filter.c"] })
    expect(multi.num_pending).toBe(3)
    expect((await fetchAll(session.js, "FILTER", "two", 3)).map((message) => message.seq)).toEqual([2, 3, 5])
    expect((await session.jsm.consumers.info("FILTER", "two")).delivered.stream_seq).toBe(5)
  })

  it("starts where the deliver policy says", async () => {
    await session.jsm.streams.add({ name: "POLICY", subjects: ["policy.>"] })
    for (const subject of ["policy.a", "policy.b", "policy.a", "policy.c", "policy.b"]) await session.js.publish(subject, subject)
    const sequences = async (name: string, config: Record<string, unknown>) => {
      const info = await session.jsm.consumers.add("POLICY", { durable_name: name, ack_policy: AckPolicy.None, ...config })
      const received = (await available(session.nc, "POLICY", name, 10)).map(sequenceOf)
      return { pending: info.num_pending, delivered: info.delivered.stream_seq, received }
    }
    expect(await sequences("all", {})).toEqual({ pending: 5, delivered: 0, received: [1, 2, 3, 4, 5] })
    expect(await sequences("last", { deliver_policy: DeliverPolicy.Last })).toEqual({ pending: 1, delivered: 4, received: [5] })
    expect(await sequences("lastfiltered", { deliver_policy: DeliverPolicy.Last, filter_subject: "policy.a" })).toEqual({ pending: 1, delivered: 2, received: [3] })
    expect(await sequences("new", { deliver_policy: DeliverPolicy.New })).toEqual({ pending: 0, delivered: 5, received: [] })
    expect(await sequences("seq", { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 4 })).toEqual({ pending: 2, delivered: 3, received: [4, 5] })
    expect(await sequences("future", { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 40 })).toEqual({ pending: 0, delivered: 5, received: [] })
    expect(await sequences("lps", { deliver_policy: DeliverPolicy.LastPerSubject, filter_subject: "policy.>" })).toEqual({ pending: 3, delivered: 2, received: [3, 4, 5] })
    const start = new Date(Date.now() - 60_000).toISOString()
    expect(await sequences("time", { deliver_policy: DeliverPolicy.StartTime, opt_start_time: start })).toEqual({ pending: 5, delivered: 0, received: [1, 2, 3, 4, 5] })
  })

  it("sends headers only with Nats-Msg-Size", async () => {
    await session.jsm.streams.add({ name: "HDRONLY", subjects: ["hdronly"] })
    await session.js.publish("hdronly", "twelve bytes")
    await session.jsm.consumers.add("HDRONLY", { durable_name: "h", ack_policy: AckPolicy.None, headers_only: true })
    const [message] = await fetchAll(session.js, "HDRONLY", "h", 1, false)
    expect(message.data.length).toBe(0)
    expect(message.headers?.get("Nats-Msg-Size")).toBe("12")
  })

  it("answers pull requests with nats-server's statuses", async () => {
    await session.jsm.streams.add({ name: "STATUS", subjects: ["status"] })
    await session.jsm.consumers.add("STATUS", { durable_name: "s", ack_policy: AckPolicy.Explicit, max_batch: 5, max_waiting: 1 })
    const [noMessages] = await rawPull(session.nc, "STATUS", "s", { batch: 1, no_wait: true }, 1)
    expect([noMessages.headers?.code, noMessages.headers?.description]).toEqual([404, "No Messages"])
    const [timeout] = await rawPull(session.nc, "STATUS", "s", { batch: 3, expires: 200_000_000, max_bytes: 1000 }, 1)
    expect([timeout.headers?.code, timeout.headers?.description]).toEqual([408, "Request Timeout"])
    expect(timeout.headers?.get("Nats-Pending-Messages")).toBe("3")
    expect(timeout.headers?.get("Nats-Pending-Bytes")).toBe("1000")
    const [tooBig] = await rawPull(session.nc, "STATUS", "s", { batch: 6 }, 1)
    expect(tooBig.headers?.description).toBe("Exceeded MaxRequestBatch of 5")
    const [badHeartbeat] = await rawPull(session.nc, "STATUS", "s", { batch: 1, expires: 1_000_000_000, idle_heartbeat: 800_000_000 }, 1)
    expect(badHeartbeat.headers?.description).toBe("Bad Request - heartbeat value too large")
    const [heartbeat] = await rawPull(session.nc, "STATUS", "s", { batch: 1, expires: 2_000_000_000, idle_heartbeat: 200_000_000 }, 1)
    expect([heartbeat.headers?.code, heartbeat.headers?.description]).toEqual([100, "Idle Heartbeat"])
    expect(heartbeat.headers?.get("Nats-Last-Consumer")).toBe("0")
    await session.js.publish("status", "12345")
    const [sized] = await rawPull(session.nc, "STATUS", "s", { batch: 1, max_bytes: 10 }, 1)
    expect(sized.headers?.description).toBe("Message Size Exceeds MaxBytes")
    const [data, completed] = await rawPull(session.nc, "STATUS", "s", { batch: 1, max_bytes: 1000 }, 2, 500)
    expect(data.string()).toBe("12345")
    expect(completed.headers?.description).toBe("Batch Completed")
    await session.jsm.consumers.add("STATUS", { durable_name: "push", ack_policy: AckPolicy.Explicit, deliver_subject: createInbox() })
    const [push] = await rawPull(session.nc, "STATUS", "push", { batch: 1 }, 1)
    expect(push.headers?.description).toBe("Consumer is push based")
  })

  it("ends a no_wait request at the end of the stream", async () => {
    await session.jsm.streams.add({ name: "NOWAIT", subjects: ["nowait"] })
    await session.js.publish("nowait", "1")
    await session.js.publish("nowait", "2")
    await session.jsm.consumers.add("NOWAIT", { durable_name: "w", ack_policy: AckPolicy.None })
    const received = await rawPull(session.nc, "NOWAIT", "w", { batch: 5, no_wait: true }, 3)
    expect(received.map((message) => message.headers?.code ?? message.string())).toEqual(["1", "2", 408])
    expect(received[2].headers?.get("Nats-Pending-Messages")).toBe("3")
  })

  it("tells waiting requests when the consumer is deleted", async () => {
    await session.jsm.streams.add({ name: "DELETED", subjects: ["deleted"] })
    await session.jsm.consumers.add("DELETED", { durable_name: "x", ack_policy: AckPolicy.Explicit })
    const pending = rawPull(session.nc, "DELETED", "x", { batch: 1, expires: 5_000_000_000 }, 1)
    await eventually(async () => expect((await session.jsm.consumers.info("DELETED", "x")).num_waiting).toBe(1))
    await session.jsm.consumers.delete("DELETED", "x")
    const [deleted] = await pending
    expect(deleted.headers?.description).toBe("Consumer Deleted")
  })

  it("deletes an idle ephemeral after inactive_threshold", async () => {
    await session.jsm.streams.add({ name: "EPHEMERAL", subjects: ["ephemeral"] })
    const info = await session.jsm.consumers.add("EPHEMERAL", { ack_policy: AckPolicy.Explicit, inactive_threshold: 300_000_000 })
    expect(info.name).toHaveLength(8)
    await eventually(async () => expect((await session.jsm.streams.info("EPHEMERAL")).state.consumer_count).toBe(0), { timeout: 3000 })
  })
})

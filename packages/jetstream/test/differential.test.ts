import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, JetStreamApiError } from "@nats-io/jetstream"
import { Kvm } from "@nats-io/kv"
import { connect, createInbox, type NatsConnection } from "@nats-io/transport-node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { hasNatsServer, startNatsServer, type Target } from "../../../test/support/natsServer.ts"
import { type RunningJetStream, startJetStream } from "./harness.ts"

const decoder = new TextDecoder()

const api = async (nc: NatsConnection, subject: string, body?: unknown): Promise<Record<string, any>> => {
  const reply = await nc.request(`$JS.API.${subject}`, body === undefined ? "" : JSON.stringify(body), { timeout: 2000 })
  return JSON.parse(decoder.decode(reply.data))
}

const errorOf = async (promise: Promise<unknown>) => {
  try {
    await promise
    return "ok"
  } catch (error) {
    return error instanceof JetStreamApiError ? `${error.code} ${error.message}` : String(error)
  }
}

const counters = (info: Record<string, any>) => ({
  delivered: { consumer_seq: info.delivered.consumer_seq, stream_seq: info.delivered.stream_seq },
  ack_floor: { consumer_seq: info.ack_floor.consumer_seq, stream_seq: info.ack_floor.stream_seq },
  num_ack_pending: info.num_ack_pending,
  num_redelivered: info.num_redelivered,
  num_waiting: info.num_waiting,
  num_pending: info.num_pending
})

/** What one pull request brings back, up to its first status (or 2 s). */
const pullStatuses = async (nc: NatsConnection, stream: string, consumer: string, body: unknown) => {
  const inbox = createInbox()
  const subscription = nc.subscribe(inbox)
  const timer = setTimeout(() => subscription.unsubscribe(), 2000)
  nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, JSON.stringify(body), { reply: inbox })
  const seen: string[] = []
  for await (const message of subscription) {
    if (message.headers?.code) {
      const headers = message.headers
      seen.push(`${headers.code} ${headers.description} ${headers.get("Nats-Pending-Messages")}/${headers.get("Nats-Pending-Bytes")}`)
      break
    }
    seen.push(`${message.subject}:${message.string()}`)
  }
  clearTimeout(timer)
  subscription.unsubscribe()
  return seen
}

/** One scenario, observed through the official clients; the same on both servers. */
const scenario = async (nc: NatsConnection) => {
  const jsm = await jetstreamManager(nc)
  const js = jetstream(nc)
  const observed: Record<string, unknown> = {}
  const created = await jsm.streams.add({ name: "DIFF", subjects: ["diff.>"], max_msgs_per_subject: 3 })
  observed.created = { state: created.state, subjects: created.config.subjects, duplicate_window: created.config.duplicate_window }
  for (const subject of ["diff.a", "diff.b", "diff.a", "diff.c", "diff.a", "diff.b", "diff.a"]) await js.publish(subject, subject)
  observed.duplicate = await js.publish("diff.d", "d", { msgID: "m1" }).then(() => js.publish("diff.d", "d", { msgID: "m1" }))
  observed.state = (await jsm.streams.info("DIFF", { subjects_filter: ">" })).state
  delete (observed.state as Record<string, unknown>).first_ts
  delete (observed.state as Record<string, unknown>).last_ts
  observed.wrongLast = await errorOf(js.publish("diff.a", "x", { expect: { lastSubjectSequence: 1 } }))
  observed.wrongStream = await errorOf(js.publish("diff.a", "x", { expect: { streamName: "NOPE" } }))

  const lastPerSubject = await jsm.consumers.add("DIFF", { durable_name: "lps", ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.LastPerSubject, filter_subject: "diff.>" })
  observed.lastPerSubject = counters(lastPerSubject)
  const worker = await jsm.consumers.add("DIFF", { durable_name: "w", ack_policy: AckPolicy.Explicit, filter_subject: "diff.a" })
  observed.workerCreated = counters(worker)
  const batch = await (await js.consumers.get("DIFF", "w")).fetch({ max_messages: 2, expires: 2000 })
  const messages = []
  for await (const message of batch) messages.push(message)
  observed.pendingTokens = messages.map((message) => [message.seq, message.info.pending, message.info.deliverySequence])
  await messages[1].ackAck()
  observed.afterAck = counters(await jsm.consumers.info("DIFF", "w"))
  messages[0].nak()
  observed.redelivered = await pullStatuses(nc, "DIFF", "w", { batch: 1, expires: 1_000_000_000 })
  observed.expired = await pullStatuses(nc, "DIFF", "w", { batch: 2, expires: 100_000_000 })

  observed.purgeFiltered = await jsm.streams.purge("DIFF", { filter: "diff.b" })
  observed.purgeKeep = await jsm.streams.purge("DIFF", { filter: "diff.a", keep: 1 })
  observed.purgeAll = await jsm.streams.purge("DIFF")
  const purged = (await jsm.streams.info("DIFF")).state
  observed.purgedState = { messages: purged.messages, first_seq: purged.first_seq, last_seq: purged.last_seq }

  observed.errors = {
    missingStream: (await api(nc, "STREAM.INFO.NOPE")).error,
    missingConsumer: (await api(nc, "CONSUMER.INFO.DIFF.nope")).error,
    overlap: (await api(nc, "STREAM.CREATE.DIFF2", { name: "DIFF2", subjects: ["diff.x"] })).error,
    nameExists: (await api(nc, "STREAM.CREATE.DIFF", { name: "DIFF", subjects: ["other"] })).error,
    mismatch: (await api(nc, "STREAM.CREATE.A", { name: "B" })).error,
    msgGetMissing: (await api(nc, "STREAM.MSG.GET.DIFF", { seq: 1 })).error,
    msgDeleteMissing: (await api(nc, "STREAM.MSG.DELETE.DIFF", { seq: 1 })).error,
    replicas: (await api(nc, "STREAM.CREATE.R", { name: "R", num_replicas: 3 })).error
  }

  const kv = await new Kvm(nc).create("diffkv", { history: 2 })
  observed.kv = [await kv.put("k", "1"), await kv.put("k", "2"), await kv.put("k", "3"), await errorOf(kv.create("k", "x"))]
  observed.kvHistory = (await (async () => {
    const values: string[] = []
    for await (const entry of await kv.history({ key: "k" })) values.push(`${entry.revision}:${entry.string()}`)
    return values
  })())
  return observed
}

describe.skipIf(!hasNatsServer)("the same scenario against nats-server", () => {
  let reference: Target
  let node: RunningJetStream
  beforeAll(async () => {
    reference = await startNatsServer({ jetstream: true })
    node = await startJetStream()
  })
  afterAll(async () => {
    await node.close()
    await reference.stop()
  })

  it("observes the same results", async () => {
    const theirs = await connect({ servers: reference.url, reconnect: false })
    const expected = await scenario(theirs)
    await theirs.close()
    const ours = await scenario(await node.connect())
    expect(ours).toEqual(expected)
  })
})

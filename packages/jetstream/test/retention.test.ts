import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, JetStreamApiError, type JetStreamClient, type JetStreamManager, RetentionPolicy } from "@nats-io/jetstream"
import type { NatsConnection } from "@nats-io/transport-node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { eventually } from "../../../test/support/eventually.ts"
import { type RunningJetStream, startJetStream } from "./harness.ts"

const errorCode = async (promise: Promise<unknown>): Promise<number | undefined> => {
  try {
    await promise
    return undefined
  } catch (error) {
    if (error instanceof JetStreamApiError) return error.code
    throw error
  }
}

const consumeAll = async (js: JetStreamClient, stream: string, consumer: string, count: number) => {
  const messages = await (await js.consumers.get(stream, consumer)).fetch({ max_messages: count, expires: 2000 })
  const seen: number[] = []
  for await (const message of messages) {
    seen.push(message.seq)
    await message.ackAck()
  }
  return seen
}

describe("retention", () => {
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

  it("workqueue: removes a message once it is acked and restricts consumers", async () => {
    await jsm.streams.add({ name: "WQ", subjects: ["wq.>"], retention: RetentionPolicy.Workqueue })
    for (let index = 0; index < 4; index++) await js.publish(`wq.${index % 2 ? "b" : "a"}`, `${index}`)
    expect(await errorCode(jsm.consumers.add("WQ", { durable_name: "none", ack_policy: AckPolicy.None }))).toBe(10084)
    await jsm.consumers.add("WQ", { durable_name: "a", ack_policy: AckPolicy.Explicit, filter_subject: "wq.a" })
    expect(await errorCode(jsm.consumers.add("WQ", { durable_name: "all", ack_policy: AckPolicy.Explicit }))).toBe(10099)
    expect(await errorCode(jsm.consumers.add("WQ", { durable_name: "overlap", ack_policy: AckPolicy.Explicit, filter_subject: "wq.*" }))).toBe(10100)
    expect(await errorCode(jsm.consumers.add("WQ", { durable_name: "last", ack_policy: AckPolicy.Explicit, filter_subject: "wq.b", deliver_policy: DeliverPolicy.Last }))).toBe(10101)
    expect(await consumeAll(js, "WQ", "a", 2)).toEqual([1, 3])
    await eventually(async () => expect((await jsm.streams.info("WQ")).state).toMatchObject({ messages: 2, first_seq: 2 }))
  })

  it("interest: skips messages nobody is interested in and removes those all consumers acked", async () => {
    await jsm.streams.add({ name: "INTEREST", subjects: ["interest.>"], retention: RetentionPolicy.Interest })
    expect(await js.publish("interest.a", "nobody")).toMatchObject({ seq: 1 })
    expect((await jsm.streams.info("INTEREST")).state).toMatchObject({ messages: 0, last_seq: 1 })
    await jsm.consumers.add("INTEREST", { durable_name: "one", ack_policy: AckPolicy.Explicit, filter_subject: "interest.>" })
    await jsm.consumers.add("INTEREST", { durable_name: "two", ack_policy: AckPolicy.Explicit, filter_subject: "interest.a" })
    await js.publish("interest.a", "both")
    await js.publish("interest.b", "one only")
    expect((await jsm.streams.info("INTEREST")).state.messages).toBe(2)
    expect(await consumeAll(js, "INTEREST", "one", 2)).toEqual([2, 3])
    await eventually(async () => expect((await jsm.streams.info("INTEREST")).state.messages).toBe(1))
    expect(await consumeAll(js, "INTEREST", "two", 1)).toEqual([2])
    await eventually(async () => expect((await jsm.streams.info("INTEREST")).state.messages).toBe(0))
  })

  it("interest: drops what nobody needs when a consumer leaves", async () => {
    await jsm.streams.add({ name: "LEAVE", subjects: ["leave"], retention: RetentionPolicy.Interest })
    await jsm.consumers.add("LEAVE", { durable_name: "a", ack_policy: AckPolicy.Explicit })
    await jsm.consumers.add("LEAVE", { durable_name: "b", ack_policy: AckPolicy.Explicit })
    await js.publish("leave", "1")
    await js.publish("leave", "2")
    expect(await consumeAll(js, "LEAVE", "a", 2)).toEqual([1, 2])
    expect((await jsm.streams.info("LEAVE")).state.messages).toBe(2)
    await jsm.consumers.delete("LEAVE", "b")
    await eventually(async () => expect((await jsm.streams.info("LEAVE")).state.messages).toBe(0))
  })

  it("limits: acks never remove messages", async () => {
    await jsm.streams.add({ name: "LIMITS", subjects: ["limits"] })
    await js.publish("limits", "x")
    await jsm.consumers.add("LIMITS", { durable_name: "c", ack_policy: AckPolicy.Explicit })
    expect(await consumeAll(js, "LIMITS", "c", 1)).toEqual([1])
    expect((await jsm.streams.info("LIMITS")).state.messages).toBe(1)
  })
})

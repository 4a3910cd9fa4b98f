import { AckPolicy, DeliverPolicy, JetStreamApiError, type JetStreamClient, RetentionPolicy } from "@nats-io/jetstream"
import { describe, expect, it } from "vitest"
import { eventually } from "../../../test/support/eventually.ts"
import { useJetStreamSession } from "./harness.ts"

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
  const session = useJetStreamSession()

  it("workqueue: removes a message once it is acked and restricts consumers", async () => {
    await session.jsm.streams.add({ name: "WQ", subjects: ["wq.>"], retention: RetentionPolicy.Workqueue })
    for (let index = 0; index < 4; index++) await session.js.publish(`wq.${index % 2 ? "b" : "a"}`, `${index}`)
    expect(await errorCode(session.jsm.consumers.add("WQ", { durable_name: "none", ack_policy: AckPolicy.None }))).toBe(10084)
    await session.jsm.consumers.add("WQ", { durable_name: "a", ack_policy: AckPolicy.Explicit, filter_subject: "wq.a" })
    expect(await errorCode(session.jsm.consumers.add("WQ", { durable_name: "all", ack_policy: AckPolicy.Explicit }))).toBe(10099)
    expect(await errorCode(session.jsm.consumers.add("WQ", { durable_name: "overlap", ack_policy: AckPolicy.Explicit, filter_subject: "wq.*" }))).toBe(10100)
    expect(await errorCode(session.jsm.consumers.add("WQ", { durable_name: "last", ack_policy: AckPolicy.Explicit, filter_subject: "wq.b", deliver_policy: DeliverPolicy.Last }))).toBe(10101)
    expect(await consumeAll(session.js, "WQ", "a", 2)).toEqual([1, 3])
    await eventually(async () => expect((await session.jsm.streams.info("WQ")).state).toMatchObject({ messages: 2, first_seq: 2 }))
  })

  it("interest: skips messages nobody is interested in and removes those all consumers acked", async () => {
    await session.jsm.streams.add({ name: "INTEREST", subjects: ["interest.>"], retention: RetentionPolicy.Interest })
    expect(await session.js.publish("interest.a", "nobody")).toMatchObject({ seq: 1 })
    expect((await session.jsm.streams.info("INTEREST")).state).toMatchObject({ messages: 0, last_seq: 1 })
    await session.jsm.consumers.add("INTEREST", { durable_name: "one", ack_policy: AckPolicy.Explicit, filter_subject: "interest.>" })
    await session.jsm.consumers.add("INTEREST", { durable_name: "two", ack_policy: AckPolicy.Explicit, filter_subject: "interest.a" })
    await session.js.publish("interest.a", "both")
    await session.js.publish("interest.b", "one only")
    expect((await session.jsm.streams.info("INTEREST")).state.messages).toBe(2)
    expect(await consumeAll(session.js, "INTEREST", "one", 2)).toEqual([2, 3])
    await eventually(async () => expect((await session.jsm.streams.info("INTEREST")).state.messages).toBe(1))
    expect(await consumeAll(session.js, "INTEREST", "two", 1)).toEqual([2])
    await eventually(async () => expect((await session.jsm.streams.info("INTEREST")).state.messages).toBe(0))
  })

  it("interest: drops what nobody needs when a consumer leaves", async () => {
    await session.jsm.streams.add({ name: "LEAVE", subjects: ["leave"], retention: RetentionPolicy.Interest })
    await session.jsm.consumers.add("LEAVE", { durable_name: "a", ack_policy: AckPolicy.Explicit })
    await session.jsm.consumers.add("LEAVE", { durable_name: "b", ack_policy: AckPolicy.Explicit })
    await session.js.publish("leave", "1")
    await session.js.publish("leave", "2")
    expect(await consumeAll(session.js, "LEAVE", "a", 2)).toEqual([1, 2])
    expect((await session.jsm.streams.info("LEAVE")).state.messages).toBe(2)
    await session.jsm.consumers.delete("LEAVE", "b")
    await eventually(async () => expect((await session.jsm.streams.info("LEAVE")).state.messages).toBe(0))
  })

  it("limits: acks never remove messages", async () => {
    await session.jsm.streams.add({ name: "LIMITS", subjects: ["limits"] })
    await session.js.publish("limits", "x")
    await session.jsm.consumers.add("LIMITS", { durable_name: "c", ack_policy: AckPolicy.Explicit })
    expect(await consumeAll(session.js, "LIMITS", "c", 1)).toEqual([1])
    expect((await session.jsm.streams.info("LIMITS")).state.messages).toBe(1)
  })
})

import { jetstream, jetstreamManager } from "@nats-io/jetstream"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type RunningJetStream, startJetStream } from "./harness.ts"

describe("smoke", () => {
  let node: RunningJetStream
  beforeAll(async () => {
    node = await startJetStream()
  })
  afterAll(async () => {
    await node.close()
  })

  it("creates a stream, publishes and fetches", async () => {
    const nc = await node.connect()
    const jsm = await jetstreamManager(nc)
    const info = await jsm.streams.add({ name: "S1", subjects: ["s1.>"] })
    expect(info.config.name).toBe("S1")
    const js = jetstream(nc)
    const ack = await js.publish("s1.a", "hello")
    expect(ack).toMatchObject({ stream: "S1", seq: 1 })
    await jsm.consumers.add("S1", { durable_name: "d", ack_policy: "explicit" })
    const consumer = await js.consumers.get("S1", "d")
    const messages = await consumer.fetch({ max_messages: 1, expires: 1000 })
    const seen: string[] = []
    for await (const message of messages) {
      seen.push(message.string())
      message.ack()
    }
    expect(seen).toEqual(["hello"])
  })
})

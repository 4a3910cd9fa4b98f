import { AckPolicy, jetstream, jetstreamManager, JetStreamApiError, type JsMsg } from "@nats-io/jetstream"
import { afterAll, describe, expect, it } from "vitest"
import { sharedStore, startJetStream } from "./harness.ts"

const fetch = async (nc: Awaited<ReturnType<Awaited<ReturnType<typeof startJetStream>>["connect"]>>, stream: string, consumer: string, count: number): Promise<JsMsg[]> => {
  const messages = await (await jetstream(nc).consumers.get(stream, consumer)).fetch({ max_messages: count, expires: 2000 })
  const seen: JsMsg[] = []
  for await (const message of messages) seen.push(message)
  return seen
}

describe("restart recovery", () => {
  const store = sharedStore()
  afterAll(() => store.remove())

  it("brings back file streams, their messages and durable consumer positions", async () => {
    const first = await startJetStream({ storeDir: store.path })
    let nc = await first.connect()
    let jsm = await jetstreamManager(nc)
    let js = jetstream(nc)
    await jsm.streams.add({ name: "KEEP", subjects: ["keep.>"], max_msgs_per_subject: 5 })
    await jsm.streams.add({ name: "MEMORY", subjects: ["memory"], storage: "memory" as never })
    await jsm.streams.add({ name: "DROPPED", subjects: ["dropped"] })
    for (let index = 1; index <= 6; index++) await js.publish(`keep.${index % 2}`, `${index}`, { msgID: `id-${index}` })
    await js.publish("memory", "gone after restart")
    await jsm.streams.delete("DROPPED")
    await jsm.consumers.add("KEEP", { durable_name: "worker", ack_policy: AckPolicy.Explicit, ack_wait: 500_000_000 })
    await jsm.consumers.add("KEEP", { ack_policy: AckPolicy.None, name: "ephemeral" })
    const firstBatch = await fetch(nc, "KEEP", "worker", 3)
    expect(firstBatch.map((message) => message.seq)).toEqual([1, 2, 3])
    await firstBatch[0].ackAck()
    await firstBatch[2].ackAck()
    const before = await jsm.consumers.info("KEEP", "worker")
    await first.close()

    const second = await startJetStream({ storeDir: store.path })
    nc = await second.connect()
    jsm = await jetstreamManager(nc)
    js = jetstream(nc)
    const names: string[] = []
    for await (const name of jsm.streams.names()) names.push(name)
    expect(names).toEqual(["KEEP"])
    const stream = await jsm.streams.info("KEEP")
    expect(stream.state).toMatchObject({ messages: 6, first_seq: 1, last_seq: 6 })
    expect(stream.config.max_msgs_per_subject).toBe(5)
    expect(stream.created).toBe((await jsm.streams.info("KEEP")).created)
    const after = await jsm.consumers.info("KEEP", "worker")
    expect(after.created).toBe(before.created)
    expect(after).toMatchObject({
      delivered: { consumer_seq: 3, stream_seq: 3 },
      ack_floor: { consumer_seq: 1, stream_seq: 1 },
      num_ack_pending: 1,
      num_pending: 3
    })
    await expect(jsm.consumers.info("KEEP", "ephemeral")).rejects.toBeInstanceOf(JetStreamApiError)
    // Dedupe survives the restart.
    expect(await js.publish("keep.0", "again", { msgID: "id-6" })).toMatchObject({ seq: 6, duplicate: true })
    // The unacked delivery comes back (once its ack wait ran out) along with the rest.
    const next = await fetch(nc, "KEEP", "worker", 4)
    const delivered = next.map((message) => [message.seq, message.info.deliveryCount]).sort((left, right) => left[0] - right[0])
    expect(delivered).toEqual([[2, 2], [4, 1], [5, 1], [6, 1]])
    for (const message of next) await message.ackAck()
    const final = await jsm.consumers.info("KEEP", "worker")
    expect(final).toMatchObject({ num_ack_pending: 0, num_pending: 0, ack_floor: { stream_seq: 6 } })
    await second.close()

    const third = await startJetStream({ storeDir: store.path })
    nc = await third.connect()
    jsm = await jetstreamManager(nc)
    expect(await jsm.consumers.info("KEEP", "worker")).toMatchObject({ num_ack_pending: 0, ack_floor: { stream_seq: 6, consumer_seq: 7 }, delivered: { consumer_seq: 7 } })
    await third.close()
  })
})

import { AckPolicy, connect, consumerOpts, StringCodec } from "nats"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type RunningJetStream, startJetStream } from "./harness.ts"

const codec = StringCodec()

describe("the legacy nats 2.29 client", () => {
  let node: RunningJetStream
  beforeAll(async () => {
    node = await startJetStream()
  })
  afterAll(async () => {
    await node.close()
  })

  it("publishes, pulls and uses an ordered push subscription", async () => {
    const nc = await connect({ servers: node.url, reconnect: false })
    const jsm = await nc.jetstreamManager()
    const js = nc.jetstream()
    await jsm.streams.add({ name: "LEGACY", subjects: ["legacy.>"] })
    for (let index = 0; index < 50; index++) await js.publish(`legacy.${index % 3}`, codec.encode(`${index}`))
    await jsm.consumers.add("LEGACY", { durable_name: "pull", ack_policy: AckPolicy.Explicit })
    const single = await js.pull("LEGACY", "pull")
    expect(single.seq).toBe(1)
    single.ack()
    const fetched = js.fetch("LEGACY", "pull", { batch: 5, expires: 1000 })
    const sequences: number[] = []
    for await (const message of fetched) {
      sequences.push(message.seq)
      message.ack()
    }
    expect(sequences).toEqual([2, 3, 4, 5, 6])
    const options = consumerOpts()
    options.orderedConsumer()
    const subscription = await js.subscribe("legacy.>", options)
    let expected = 1
    for await (const message of subscription) {
      expect(message.seq).toBe(expected)
      if (expected++ === 50) break
    }
    await nc.close()
  })

  it("watches a KV bucket", async () => {
    const nc = await connect({ servers: node.url, reconnect: false })
    const kv = await nc.jetstream().views.kv("legacykv")
    await kv.put("a", codec.encode("1"))
    await kv.put("b", codec.encode("2"))
    const watcher = await kv.watch()
    const seen: string[] = []
    for await (const entry of watcher) {
      seen.push(`${entry.key}=${codec.decode(entry.value)}`)
      if (seen.length === 2) await kv.put("a", codec.encode("3"))
      if (seen.length === 3) break
    }
    expect(seen).toEqual(["a=1", "b=2", "a=3"])
    expect(codec.decode((await kv.get("a"))?.value ?? new Uint8Array())).toBe("3")
    await nc.close()
  })
})

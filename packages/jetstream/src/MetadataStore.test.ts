import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { tempDir } from "../../../test/support/tempdir.ts"
import type { ConsumerConfig } from "./ConsumerConfig.ts"
import type { ConsumerState } from "./ConsumerState.ts"
import { MetadataStore } from "./MetadataStore.ts"
import type { StreamConfig } from "./StreamConfig.ts"

const streamConfig = { name: "S", subjects: ["s.>"], storage: "file" } as unknown as StreamConfig
const consumerConfig = (name: string) => ({ durable_name: name, ack_policy: "explicit" }) as unknown as ConsumerConfig
const stateAt = (streamSeq: number): ConsumerState => ({
  delivered: { consumer_seq: streamSeq, stream_seq: streamSeq },
  ack_floor: { consumer_seq: 0, stream_seq: 0 },
  pending: [],
  redelivered: []
})

const directories: Array<{ remove: () => void }> = []
afterEach(() => {
  for (const directory of directories.splice(0)) directory.remove()
})

const storeDirectory = (): string => {
  const directory = tempDir("nex-metadata-")
  directories.push(directory)
  return directory.path
}

/** What a restarted node would recover: consumer name -> delivered stream sequence (-1: no state). */
const recovered = (root: string): Map<string, number> => {
  const [stream] = new MetadataStore(root).recover()
  return new Map(stream.consumers.map(({ consumer, state }) => [consumer.name, state?.delivered.stream_seq ?? -1]))
}

describe("MetadataStore consumer records", () => {
  it("brings back created, updated and removed consumers with their latest state", async () => {
    const root = storeDirectory()
    const store = new MetadataStore(root)
    await store.saveStream({ config: streamConfig, created: 1 })
    const saves = Array.from({ length: 50 }, (_, index) => store.saveConsumer("S", { name: `c${index}`, config: consumerConfig(`c${index}`), created: 1 }, stateAt(index)))
    await Promise.all(saves)
    await store.removeConsumer("S", "c1")
    await store.saveConsumerState("S", "c2", stateAt(200))
    await store.removeConsumer("S", "c3")
    await store.saveConsumer("S", { name: "c3", config: consumerConfig("c3"), created: 2 }, stateAt(300))
    await store.settled()
    // One log for all consumers; a directory only for the consumer whose state changed.
    expect(existsSync(join(root, "S", "consumers", "c0"))).toBe(false)
    const consumers = recovered(root)
    expect(consumers.size).toBe(49)
    expect(consumers.has("c1")).toBe(false)
    expect(consumers.get("c0")).toBe(0)
    expect(consumers.get("c2")).toBe(200)
    expect(consumers.get("c3")).toBe(300)
    expect(consumers.get("c49")).toBe(49)
  })

  it("keeps the consumers of a stream deleted and created again under the same name", async () => {
    const root = storeDirectory()
    const store = new MetadataStore(root)
    await store.saveStream({ config: streamConfig, created: 1 })
    const old = store.saveConsumer("S", { name: "old", config: consumerConfig("old"), created: 1 })
    const removed = store.removeStream("S")
    const created = store.saveStream({ config: streamConfig, created: 2 })
    // Before the batch holding "old" is written: "new" must not go out with it, before the removal.
    const saved = store.saveConsumer("S", { name: "new", config: consumerConfig("new"), created: 2 }, stateAt(3))
    await Promise.all([old, removed, created, saved])
    expect([...recovered(root)]).toEqual([["new", 3]])
  })

  it("ignores a torn last line and compacts the log when it recovers", async () => {
    const root = storeDirectory()
    const store = new MetadataStore(root)
    await store.saveStream({ config: streamConfig, created: 1 })
    await store.saveConsumer("S", { name: "kept", config: consumerConfig("kept"), created: 1 }, stateAt(7))
    await store.saveConsumer("S", { name: "gone", config: consumerConfig("gone"), created: 1 })
    await store.removeConsumer("S", "gone")
    appendFileSync(join(root, "S", "consumers.log"), '{"consumer":{"name":"torn"')
    const restarted = new MetadataStore(root)
    const [stream] = restarted.recover()
    expect(stream.consumers.map(({ consumer }) => consumer.name)).toEqual(["kept"])
    await restarted.settled()
    expect(readFileSync(join(root, "S", "consumers.log"), "utf8").trim().split("\n")).toHaveLength(1)
  })

  it("still reads consumers stored one config file per consumer", async () => {
    const root = storeDirectory()
    await new MetadataStore(root).saveStream({ config: streamConfig, created: 1 })
    const directory = join(root, "S", "consumers", "old")
    mkdirSync(directory, { recursive: true })
    writeFileSync(join(directory, "consumer.json"), JSON.stringify({ name: "old", config: consumerConfig("old"), created: 1 }))
    writeFileSync(join(directory, "state.json"), JSON.stringify(stateAt(5)))
    expect(recovered(root).get("old")).toBe(5)
  })
})

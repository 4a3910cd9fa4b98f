import { describe, expect, it } from "vitest"
import { eventually } from "../../../test/support/index.ts"
import type { Outbound } from "./Outbound.ts"
import { PowerCutDisk } from "./store/PowerCutDisk.ts"
import { type MessageStore, openFileStore, openMemoryStore, type SyncPolicy } from "./store/index.ts"
import { Stream, type StreamHost } from "./Stream.ts"
import { normalizeStreamConfig, type StreamConfig } from "./StreamConfig.ts"

const encoder = new TextEncoder()
const decoder = new TextDecoder()

interface Sent {
  readonly reply: string
  readonly body: Record<string, unknown>
}

/**
 * A stream whose host records the PubAcks it publishes (then calls `onSent`); nothing else of the
 * host is used by ingest.
 */
const streamOver = (store: MessageStore, onSent: (ack: Sent) => void = () => {}): { stream: Stream; sent: Sent[] } => {
  const sent: Sent[] = []
  const record = (reply: string, payload: Uint8Array) => {
    const ack = { reply, body: JSON.parse(decoder.decode(payload)) }
    sent.push(ack)
    onSent(ack)
  }
  const outbound = { publish: record, publishEncoded: (reply: string, _headerSize: number, payload: Uint8Array) => record(reply, payload) } as unknown as Outbound
  const host = { outbound, serverName: "test", storageExhausted: () => false } as unknown as StreamHost
  const config = normalizeStreamConfig({ name: "ORDERS", subjects: ["orders.>"], storage: store.kind }) as StreamConfig
  return { stream: new Stream(host, config, store, 0), sent }
}

const publish = (stream: Stream, index: number): void =>
  stream.ingest({ subject: `orders.${index}`, reply: `reply.${index}`, headers: undefined, payload: encoder.encode(`order ${index}`) })

const openFile = (disk: PowerCutDisk, sync: SyncPolicy) => openFileStore("/stream", { disk, sync })

describe("PubAcks", () => {
  it("go out inside ingest for a memory stream", async () => {
    const store = openMemoryStore()
    const { stream, sent } = streamOver(store)
    publish(stream, 1)
    expect(sent).toEqual([{ reply: "reply.1", body: { stream: "ORDERS", seq: 1 } }])
    await store.close()
  })

  it("go out under sync interval once written, within ingest every 16 publishes", async () => {
    const disk = new PowerCutDisk()
    const store = await openFile(disk, "interval")
    const { stream, sent } = streamOver(store)
    for (let index = 1; index <= 15; index++) publish(stream, index)
    expect(sent).toEqual([])
    publish(stream, 16)
    expect(sent.map((ack) => ack.body.seq)).toEqual(Array.from({ length: 16 }, (_, index) => index + 1))
    expect(sent[15]).toEqual({ reply: "reply.16", body: { stream: "ORDERS", seq: 16 } })
    publish(stream, 17)
    expect(sent.length).toBe(16)
    await eventually(() => expect(sent.length).toBe(17))
    // Acknowledged means written: a killed process leaves all of it in the page cache.
    disk.crash()
    const reopened = await openFile(disk, "interval")
    expect(reopened.state().lastSeq).toBe(17)
    await reopened.close()
  })

  it("reach a subscriber that publishes back into the stream only once the append is done", async () => {
    const disk = new PowerCutDisk()
    const store = await openFile(disk, "interval")
    const { stream, sent } = streamOver(store, (ack) => {
      if (ack.body.seq === 3) publish(stream, 100)
    })
    for (let index = 1; index <= 16; index++) publish(stream, index)
    expect(sent.map((ack) => ack.body.seq)).toEqual(Array.from({ length: 16 }, (_, index) => index + 1))
    expect(store.state().messages).toBe(17)
    expect(store.get(16)?.subject).toBe("orders.16")
    expect(store.get(17)?.subject).toBe("orders.100")
    await eventually(() => expect(sent.length).toBe(17))
    await store.close()
  })

  it("wait under sync always for the fdatasync, and fail when the store does", async () => {
    const disk = new PowerCutDisk()
    const store = await openFile(disk, "always")
    const { stream, sent } = streamOver(store)
    publish(stream, 1)
    publish(stream, 2)
    await Promise.resolve()
    expect(sent).toEqual([])
    await eventually(() => expect(sent.map((ack) => ack.body.seq)).toEqual([1, 2]))
    publish(stream, 3)
    disk.cut()
    await eventually(() => expect(sent.length).toBe(3))
    expect(sent[2].reply).toBe("reply.3")
    expect(sent[2].body.error).toMatchObject({ err_code: 10077 })
  })
})

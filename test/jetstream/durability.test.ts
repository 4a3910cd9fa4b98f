import { connect } from "@nats-io/transport-node"
import { type JetStreamClient, jetstream, jetstreamManager } from "@nats-io/jetstream"
import { afterAll, describe, expect, it } from "vitest"
import { startNex } from "../support/nexNode.ts"
import { tempDir } from "../support/tempdir.ts"

/** Every message of the stream, seq -> body, read through one ordered consumer. */
const storedMessages = async (js: JetStreamClient, lastSeq: number): Promise<Map<number, string>> => {
  const stored = new Map<number, string>()
  if (lastSeq === 0) return stored
  const messages = await (await js.consumers.get("DURABLE")).consume()
  for await (const message of messages) {
    stored.set(message.seq, message.string())
    if (message.seq >= lastSeq) break
  }
  return stored
}

/**
 * Kill -9 the node while clients publish asynchronously, restart it on the same store, and check
 * that every acknowledged message is there exactly once and that sequences continue.
 */
describe("durability across SIGKILL", () => {
  const store = tempDir("nex-kill-")
  afterAll(() => store.remove())

  it("keeps every acknowledged message over repeated kills", { timeout: 120_000 }, async () => {
    const cycles = 10
    const acked = new Map<number, string>() // seq -> body
    let lastSeqBefore = 0
    for (let cycle = 0; cycle < cycles; cycle++) {
      const node = await startNex({ storeDir: store.path })
      const nc = await connect({ servers: node.url, reconnect: false })
      const jsm = await jetstreamManager(nc)
      if (cycle === 0) await jsm.streams.add({ name: "DURABLE", subjects: ["durable.>"], storage: "file" })
      const info = await jsm.streams.info("DURABLE")
      // Everything acknowledged before the kill survived, once each (a message stored whose ack
      // was lost with the process may be there too: at-least-once, never at-most-once).
      expect(info.state.messages).toBeGreaterThanOrEqual(acked.size)
      expect(info.state.last_seq).toBeGreaterThanOrEqual(lastSeqBefore)
      const js = jetstream(nc)
      const stored = await storedMessages(js, info.state.last_seq)
      expect(stored.size).toBe(info.state.messages)
      const seen = new Map<string, number>()
      for (const body of stored.values()) seen.set(body, (seen.get(body) ?? 0) + 1)
      for (const [seq, body] of acked) {
        expect(stored.get(seq)).toBe(body)
        expect(seen.get(body)).toBe(1)
      }
      const inFlight: Promise<void>[] = []
      let killed = false
      for (let index = 0; index < 3000 && !killed; index++) {
        const body = `c${cycle}-m${index}`
        inFlight.push(
          js.publish(`durable.${index % 7}`, body).then(
            (ack) => {
              expect(acked.has(ack.seq)).toBe(false)
              expect(ack.duplicate).toBeFalsy()
              acked.set(ack.seq, body)
            },
            () => {} // unacknowledged: may or may not have been stored
          )
        )
        if (inFlight.length % 256 === 0) await Promise.race(inFlight.slice(-256))
        if (index === 1500) {
          // Kill mid-stream with publishes in flight.
          await node.process.stop("SIGKILL")
          killed = true
        }
      }
      await Promise.allSettled(inFlight)
      lastSeqBefore = Math.max(0, ...acked.keys())
      await nc.close().catch(() => {})
      if (!killed) await node.process.stop("SIGKILL")
    }
    // A final start: sequences continue after the last acknowledged one.
    const node = await startNex({ storeDir: store.path })
    const nc = await connect({ servers: node.url })
    const js = jetstream(nc)
    const jsm = await jetstreamManager(nc)
    const info = await jsm.streams.info("DURABLE")
    const unacknowledgedButStored = info.state.messages - acked.size
    expect(unacknowledgedButStored).toBeGreaterThanOrEqual(0)
    const next = await js.publish("durable.final", "final")
    expect(next.seq).toBe(info.state.last_seq + 1)
    expect(acked.size).toBeGreaterThan(1000)
    await nc.close()
    await node.stop()
  })
})

import { describe, expect, it } from "vitest"
import { openFileStore } from "./FileStore.ts"
import { durabilityWaiter } from "./durabilityWaiter.ts"
import { PowerCutDisk } from "./PowerCutDisk.ts"

const encoder = new TextEncoder()
const decoder = new TextDecoder()

const randomFrom = (seed: number): (() => number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let value = state
    value = Math.imul(value ^ (value >>> 15), value | 1)
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61)
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296
  }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe("file store: power cuts", () => {
  it("keeps every acknowledged message and every flushed deletion through 20 power cuts at random points", async () => {
    const random = randomFrom(0x5eed)
    const disk = new PowerCutDisk({ random })
    /** seq -> payload, for every append the store called durable before the cut that ended its run. */
    const acknowledged = new Map<number, string>()
    /** Deleted, and `flush()` resolved before the cut: must stay gone. */
    const deleted = new Set<number>()
    const written = new Set<string>()
    let truncatedBytes = 0
    let replayedRecords = 0
    let checkpointsLoaded = 0

    for (let run = 0; run <= 20; run++) {
      const store = await openFileStore("/power", { disk, segmentBytes: 4096, checkpointBytes: 8192 })
      const durability = durabilityWaiter(store)
      truncatedBytes += store.recovery.truncatedBytes
      replayedRecords += store.recovery.replayedRecords
      if (store.recovery.checkpointLoaded) checkpointsLoaded++

      for (const [seq, payload] of acknowledged) {
        const message = store.get(seq)
        expect(message === undefined ? `missing ${seq}` : decoder.decode(message.data)).toBe(payload)
      }
      for (const seq of deleted) expect(store.get(seq)).toBeUndefined()
      for (let message = store.nextMatching(0); message !== undefined; message = store.nextMatching(message.seq + 1)) {
        const payload = decoder.decode(message.data)
        expect(written.has(payload)).toBe(true)
        expect(payload.startsWith(`${message.seq}|${message.subject}|`)).toBe(true)
      }
      expect(store.state().lastSeq).toBeGreaterThanOrEqual(Math.max(0, ...acknowledged.keys()))
      if (run === 20) {
        await store.close()
        break
      }

      let powerOff = false
      const producer = async (producerId: number): Promise<void> => {
        for (let count = 0; !powerOff; count++) {
          const subject = `power.${producerId}.${Math.floor(random() * 5)}`
          const seq = store.state().lastSeq + 1
          const payload = `${seq}|${subject}|${run}|${"x".repeat(Math.floor(random() * 300))}`
          written.add(payload)
          const result = store.append(subject, undefined, encoder.encode(payload))
          if (!result.ok) return
          expect(result.seq).toBe(seq)
          if (count % 40 === 39) store.checkpoint().catch(() => {})
          try {
            await durability.until(result.seq)
          } catch {
            return
          }
          if (!powerOff) acknowledged.set(result.seq, payload)
        }
      }
      const deleter = async (): Promise<void> => {
        while (!powerOff) {
          await nextTurn()
          const candidates = [...acknowledged.keys()]
          if (candidates.length === 0) continue
          const victims = random() < 0.8 ? [candidates[Math.floor(random() * candidates.length)]] : candidates.filter((seq) => seq % 7 === 0)
          for (const seq of victims) {
            store.delete(seq, { erase: random() < 0.3 })
            acknowledged.delete(seq)
          }
          try {
            await store.flush()
          } catch {
            return
          }
          if (!powerOff) for (const seq of victims) deleted.add(seq)
        }
      }
      const workers = [...Array.from({ length: 8 }, (_, producerId) => producer(producerId)), deleter()]
      const turns = 1 + Math.floor(random() * 40)
      for (let turn = 0; turn < turns; turn++) await nextTurn()
      disk.cut(random() < 0.5 ? { random } : {})
      powerOff = true
      await Promise.allSettled(workers)
    }

    expect(acknowledged.size).toBeGreaterThan(100)
    expect(deleted.size).toBeGreaterThan(10)
    expect(replayedRecords).toBeGreaterThan(0)
    expect(checkpointsLoaded).toBeGreaterThan(0)
    expect(truncatedBytes).toBeGreaterThan(0)
  })
})

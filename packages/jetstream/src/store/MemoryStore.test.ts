import { describe, expect, it } from "vitest"
import { openMemoryStore } from "./MemoryStore.ts"
import { storeSuite } from "./store.suite.ts"

storeSuite("memory store", async (limits) => openMemoryStore({ limits }))

/** Distinct bytes per sequence, sized to span many slabs, some near the largest a slab takes, some in buffers of their own. */
const bytesOf = (seq: number, length: number): Uint8Array => {
  const bytes = new Uint8Array(length)
  for (let index = 0; index < length; index++) bytes[index] = (seq * 31 + index) & 255
  return bytes
}
/** Compared as one Buffer: a deep equality over thousands of large arrays takes seconds. */
const same = (actual: Uint8Array | undefined, expected: Uint8Array): boolean => actual !== undefined && Buffer.from(expected).equals(actual)
const lengthOf = (seq: number): number => (seq % 97 === 0 ? 20_000 : seq % 13 === 0 ? 6000 + (seq % 2000) : 50 + ((seq * 7) % 400))

describe("memory store slabs", () => {
  it("reads every message back intact while most are deleted, purged and erased out of order", () => {
    const store = openMemoryStore()
    const count = 3000
    for (let seq = 1; seq <= count; seq++) {
      const headers = seq % 5 === 0 ? new TextEncoder().encode(`NATS/1.0\r\nIndex: ${seq}\r\n\r\n`) : undefined
      store.append(`subject.${seq % 10}`, headers, bytesOf(seq, lengthOf(seq)))
    }
    const kept = new Set<number>()
    for (let seq = 1; seq <= count; seq++) {
      if (seq % 7 === 0) kept.add(seq)
      else if (seq > 500) store.delete(seq, { erase: seq % 3 === 0 })
    }
    store.purge({ upToSeq: 501 })
    for (let seq = 1; seq <= count; seq++) {
      const message = store.get(seq)
      if (!kept.has(seq) || seq <= 500) {
        expect(message).toBeUndefined()
        continue
      }
      expect(message?.subject).toBe(`subject.${seq % 10}`)
      expect(same(message?.data, bytesOf(seq, lengthOf(seq)))).toBe(true)
      if (seq % 5 === 0) expect(new TextDecoder().decode(message?.headers)).toBe(`NATS/1.0\r\nIndex: ${seq}\r\n\r\n`)
      else expect(message?.headers).toBeUndefined()
    }
    // Appends after the compactions land intact too.
    const next = store.append("after", undefined, bytesOf(1, 100))
    expect(next.ok && store.get(next.seq)?.data).toEqual(bytesOf(1, 100))
  })

  it("reuses freed slots while slabs roll and compact, keeping every message intact", () => {
    const store = openMemoryStore()
    const kept = new Set<number>()
    for (let round = 0; round < 20; round++) {
      const first = store.state().lastSeq + 1
      for (let index = 0; index < 300; index++) store.append(`round.${round}`, undefined, bytesOf(first + index, lengthOf(first + index)))
      // Most of what was just written goes, so the current slab is thin when the next round rolls it.
      for (let seq = first; seq < first + 300; seq++) {
        if (seq % 5 === 0) kept.add(seq)
        else store.delete(seq)
      }
    }
    expect(store.state().messages).toBe(kept.size)
    for (const seq of kept) expect(same(store.get(seq)?.data, bytesOf(seq, lengthOf(seq)))).toBe(true)
  })

  it("leaves the bytes a reader copied alone when their slab is compacted", () => {
    const store = openMemoryStore()
    for (let seq = 1; seq <= 2000; seq++) store.append("s", undefined, bytesOf(seq, 200))
    const held = store.get(2)
    for (let seq = 3; seq <= 1000; seq++) store.delete(seq)
    expect(held?.data).toEqual(bytesOf(2, 200))
    expect(store.get(2)?.data).toEqual(bytesOf(2, 200))
  })
})

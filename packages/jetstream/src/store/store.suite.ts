import { describe, expect, it } from "vitest"
import { eventually } from "../../../../test/support/index.ts"
import { durabilityWaiter } from "./durabilityWaiter.ts"
import { type MessageStore, noLimits, type StoreLimits } from "./MessageStore.ts"

/** Opens a fresh, empty store with these limits; the suite closes it. */
export type OpenStore = (limits: StoreLimits) => Promise<MessageStore>

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const bytes = (text: string): Uint8Array => encoder.encode(text)
const text = (data: Uint8Array | undefined): string | undefined => (data === undefined ? undefined : decoder.decode(data))

const limits = (overrides: Partial<StoreLimits>): StoreLimits => ({ ...noLimits, ...overrides })

/** nats-server's accounting, per store kind (see spec §3.3). */
const accountedSize = (store: MessageStore, subject: string, headers: string | undefined, data: string): number => {
  const subjectLength = encoder.encode(subject).length
  const headersLength = headers === undefined ? 0 : encoder.encode(headers).length
  const dataLength = encoder.encode(data).length
  if (store.kind === "memory") return subjectLength + headersLength + dataLength + 16
  return headersLength === 0 ? 22 + subjectLength + dataLength + 8 : 22 + subjectLength + 4 + headersLength + dataLength + 8
}

const appendAll = (store: MessageStore, messages: ReadonlyArray<readonly [string, string]>): number[] =>
  messages.map(([subject, data]) => {
    const result = store.append(subject, undefined, bytes(data))
    if (!result.ok) throw new Error(`append refused: ${result.description}`)
    return result.seq
  })

/** A tiny deterministic PRNG, so a failing random run can be replayed. */
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

/** Simple reference semantics for subject matching, independent of the store's. */
const referenceMatches = (filter: string, subject: string): boolean => {
  const filterTokens = filter.split(".")
  const subjectTokens = subject.split(".")
  for (let index = 0; index < filterTokens.length; index++) {
    if (filterTokens[index] === ">") return subjectTokens.length > index
    if (index >= subjectTokens.length) return false
    if (filterTokens[index] !== "*" && filterTokens[index] !== subjectTokens[index]) return false
  }
  return filterTokens.length === subjectTokens.length
}

/** The behaviour every MessageStore must have; run once per implementation and sync policy. */
export const storeSuite = (name: string, open: OpenStore): void => {
  const withStore = async (storeLimits: StoreLimits, body: (store: MessageStore) => Promise<void> | void): Promise<void> => {
    const store = await open(storeLimits)
    try {
      await body(store)
    } finally {
      await store.close()
    }
  }

  describe(`${name}: MessageStore behaviour`, () => {
    it("assigns sequences and returns what was stored", () =>
      withStore(noLimits, async (store) => {
        const first = store.append("orders.new", bytes("NATS/1.0\r\nX: 1\r\n\r\n"), bytes("one"))
        const second = store.append("orders.new", undefined, bytes(""))
        expect(first.ok && first.seq).toBe(1)
        expect(second.ok && second.seq).toBe(2)
        if (!first.ok || !second.ok) return
        await durabilityWaiter(store).until(second.seq)
        const message = store.get(1)!
        expect(message.seq).toBe(1)
        expect(message.subject).toBe("orders.new")
        expect(text(message.headers)).toBe("NATS/1.0\r\nX: 1\r\n\r\n")
        expect(text(message.data)).toBe("one")
        expect(message.timestamp).toBe(first.timestamp)
        const empty = store.get(2)!
        expect(empty.headers).toBeUndefined()
        expect(empty.data.length).toBe(0)
        expect(store.get(0)).toBeUndefined()
        expect(store.get(3)).toBeUndefined()
      }))

    it("tells its durability listener how far its appends are durable", () =>
      withStore(noLimits, async (store) => {
        const told: number[] = []
        store.setDurabilityListener({ durableThrough: (seq) => told.push(seq), failed: () => {} })
        const results = appendAll(store, [["a", "1"], ["b", "2"], ["a", "3"]])
        expect(results).toEqual([1, 2, 3])
        const last = store.append("c", undefined, bytes("4"))
        if (!last.ok) throw new Error(last.description)
        // A memory store's appends are durable before append returns, so it has nothing to tell.
        if (store.kind === "memory") expect(store.durableSeq()).toBe(4)
        await eventually(() => expect(store.durableSeq()).toBe(4))
        if (store.kind === "memory") expect(told).toEqual([])
        else expect(told.at(-1)).toBe(4)
        expect(told).toEqual([...told].sort((a, b) => a - b))
      }))

    it("lends what get copies, and a copy outlives later reads", () =>
      withStore(noLimits, async (store) => {
        const appended = [
          store.append("a.one", bytes("NATS/1.0\r\nX: 1\r\n\r\n"), bytes("first")),
          store.append("b.two", undefined, bytes("second")),
          store.append("a.one", undefined, bytes(""))
        ]
        await store.flush()
        const view = (message: ReturnType<MessageStore["get"]>) =>
          message && [message.seq, message.subject, text(message.headers), text(message.data), message.timestamp]
        const copy = store.get(1)!
        const copied = view(copy)
        for (const seq of [1, 2, 3]) expect(view(store.get(seq, "lend"))).toEqual(view(store.get(seq)))
        expect(view(store.nextMatching(2, "a.*", "lend"))).toEqual(view(store.get(3)))
        expect(view(store.lastBySubject("b.two", "lend"))).toEqual(view(store.get(2)))
        expect(store.get(4, "lend")).toBeUndefined()
        expect(view(copy)).toEqual(copied)
      }))

    it("keeps the given timestamp and reads back unicode subjects", () =>
      withStore(noLimits, (store) => {
        const stamp = 1_700_000_000_123_456_768
        const result = store.append("ünïcødé.主题", undefined, bytes("x"), stamp)
        expect(result.ok).toBe(true)
        expect(store.get(1)?.timestamp).toBe(stamp)
        expect(store.get(1)?.subject).toBe("ünïcødé.主题")
        expect(store.subjectsState().get("ünïcødé.主题")).toBe(1)
        expect(store.nextMatchingSeq(1, "ünïcødé.*")).toBe(1)
      }))

    it("reports the state of a never-written store", () =>
      withStore(noLimits, (store) => {
        expect(store.state()).toEqual({
          messages: 0,
          bytes: 0,
          firstSeq: 0,
          firstTs: 0,
          lastSeq: 0,
          lastTs: 0,
          numSubjects: 0,
          numDeleted: 0
        })
      }))

    it("counts messages, bytes, subjects and times", () =>
      withStore(noLimits, (store) => {
        store.append("a", undefined, bytes("12345"), 1000)
        store.append("b", bytes("NATS/1.0\r\n\r\n"), bytes("xy"), 2000)
        store.append("a", undefined, bytes(""), 3000)
        expect(store.state()).toEqual({
          messages: 3,
          bytes:
            accountedSize(store, "a", undefined, "12345") +
            accountedSize(store, "b", "NATS/1.0\r\n\r\n", "xy") +
            accountedSize(store, "a", undefined, ""),
          firstSeq: 1,
          firstTs: 1000,
          lastSeq: 3,
          lastTs: 3000,
          numSubjects: 2,
          numDeleted: 0
        })
      }))

    it("deletes single messages, leaving gaps that are counted", () =>
      withStore(noLimits, (store) => {
        appendAll(store, [["a", "1"], ["b", "2"], ["a", "3"], ["b", "4"], ["a", "5"]])
        expect(store.delete(2)).toBe(true)
        expect(store.delete(2)).toBe(false)
        expect(store.delete(99)).toBe(false)
        expect(store.get(2)).toBeUndefined()
        expect(store.state()).toMatchObject({ messages: 4, firstSeq: 1, lastSeq: 5, numDeleted: 1 })
        expect(store.deletedSequences()).toEqual([2])
        expect(store.delete(1)).toBe(true)
        expect(store.state()).toMatchObject({ messages: 3, firstSeq: 3, numDeleted: 0 })
        expect(store.delete(4, { erase: true })).toBe(true)
        expect(store.get(4)).toBeUndefined()
        expect(store.deletedSequences()).toEqual([4])
        expect(store.delete(5)).toBe(true)
        expect(store.state()).toMatchObject({ messages: 1, firstSeq: 3, lastSeq: 5, numDeleted: 2 })
        expect(store.deletedSequences()).toEqual([4, 5])
        expect(store.subjectsState()).toEqual(new Map([["a", 1]]))
        const next = store.append("c", undefined, bytes("6"))
        expect(next.ok && next.seq).toBe(6)
      }))

    it("purges everything: first becomes last + 1 and sequences continue", () =>
      withStore(noLimits, (store) => {
        appendAll(store, [["a", "1"], ["b", "2"], ["c", "3"]])
        expect(store.purge()).toBe(3)
        expect(store.state()).toMatchObject({ messages: 0, bytes: 0, firstSeq: 4, lastSeq: 3, numSubjects: 0, numDeleted: 0 })
        expect(store.state().lastTs).toBeGreaterThan(0)
        expect(store.purge()).toBe(0)
        const next = store.append("a", undefined, bytes("4"))
        expect(next.ok && next.seq).toBe(4)
        expect(store.state()).toMatchObject({ messages: 1, firstSeq: 4, lastSeq: 4 })
      }))

    it("purges by subject, by sequence and keeping the newest", () =>
      withStore(noLimits, (store) => {
        appendAll(store, [
          ["kv.a", "1"],
          ["kv.b", "2"],
          ["kv.a", "3"],
          ["other", "4"],
          ["kv.a", "5"],
          ["kv.b", "6"],
          ["other", "7"]
        ])
        expect(store.purge({ subject: "kv.a", keep: 1 })).toBe(2)
        expect(store.subjectsState("kv.a")).toEqual(new Map([["kv.a", 1]]))
        expect(store.get(5)?.subject).toBe("kv.a")
        expect(store.purge({ subject: "kv.*", upToSeq: 6 })).toBe(2)
        expect(store.subjectsState("kv.>")).toEqual(new Map([["kv.b", 1]]))
        expect(store.purge({ subject: "other" })).toBe(2)
        expect(store.state()).toMatchObject({ messages: 1, firstSeq: 6, lastSeq: 7 })
        appendAll(store, [["x", "8"], ["x", "9"], ["y", "10"]])
        expect(store.purge({ upToSeq: 9 })).toBe(2)
        expect(store.state()).toMatchObject({ messages: 2, firstSeq: 9 })
        expect(store.purge({ keep: 1 })).toBe(1)
        expect(store.state()).toMatchObject({ messages: 1, firstSeq: 10, lastSeq: 10 })
        expect(store.purge({ keep: 5 })).toBe(0)
      }))

    it("compacts past the end so the next message gets the given sequence", () =>
      withStore(noLimits, (store) => {
        appendAll(store, [["a", "1"], ["a", "2"]])
        expect(store.compact(100)).toBe(2)
        expect(store.state()).toMatchObject({ messages: 0, firstSeq: 100, lastSeq: 99 })
        const next = store.append("a", undefined, bytes("3"))
        expect(next.ok && next.seq).toBe(100)
        expect(store.compact(50)).toBe(0)
      }))

    it("drops the oldest beyond max_msgs and max_bytes (discard old)", () =>
      withStore(limits({ maxMsgs: 3 }), (store) => {
        appendAll(store, [["a", "1"], ["b", "2"], ["a", "3"], ["c", "4"], ["a", "5"]])
        expect(store.state()).toMatchObject({ messages: 3, firstSeq: 3, lastSeq: 5, numSubjects: 2 })
        const size = accountedSize(store, "a", undefined, "xxxx")
        store.updateLimits(limits({ maxBytes: size * 2 }))
        expect(store.state().messages).toBe(2)
        appendAll(store, [["a", "xxxx"], ["a", "yyyy"], ["a", "zzzz"]])
        expect(store.state()).toMatchObject({ messages: 2, bytes: size * 2, firstSeq: 7, lastSeq: 8 })
        expect(text(store.get(8)?.data)).toBe("zzzz")
      }))

    it("refuses new messages at max_msgs and max_bytes with discard new", () =>
      withStore(limits({ maxMsgs: 2, discard: "new" }), (store) => {
        appendAll(store, [["a", "1"], ["b", "2"]])
        const refused = store.append("c", undefined, bytes("3"))
        expect(refused).toEqual({ ok: false, reason: "maxMsgs", description: "maximum messages exceeded" })
        expect(store.state()).toMatchObject({ messages: 2, lastSeq: 2, numSubjects: 2 })
        const size = accountedSize(store, "a", undefined, "1")
        // nats-server refuses once stored + new bytes would reach max_bytes.
        store.updateLimits(limits({ maxBytes: size * 3 + 1, discard: "new" }))
        appendAll(store, [["a", "3"]])
        const tooBig = store.append("a", undefined, bytes("4"))
        expect(tooBig.ok === false && tooBig.description).toBe("maximum bytes exceeded")
        expect(store.state().lastSeq).toBe(3)
      }))

    it("weighs only headers and payload against max_bytes with discard new, then trims the oldest", () =>
      withStore(limits({ discard: "new" }), (store) => {
        appendAll(store, [["a", "x".repeat(100)]])
        const stored = store.state().bytes
        store.updateLimits(limits({ maxBytes: stored + 50, discard: "new" }))
        const refused = store.append("b", bytes("h"), bytes("x".repeat(49)))
        expect(refused.ok === false && refused.reason).toBe("maxBytes")
        const accepted = store.append("b", undefined, bytes("x".repeat(49)))
        expect(accepted.ok).toBe(true)
        expect(store.state()).toMatchObject({ messages: 1, firstSeq: 2, bytes: accountedSize(store, "b", undefined, "x".repeat(49)) })
      }))

    it("lets a replacement in at max_bytes only if the message it replaces is bigger (file) or as big (memory)", () =>
      withStore(limits({ discard: "new" }), (store) => {
        appendAll(store, [["kv.a", "1"], ["kv.b", "x".repeat(100)]])
        const oldest = accountedSize(store, "kv.a", undefined, "1")
        store.updateLimits(limits({ maxBytes: store.state().bytes + 1, maxMsgsPerSubject: 1, discard: "new" }))
        const tie = store.append("kv.a", undefined, bytes("x".repeat(oldest)))
        expect(tie.ok).toBe(store.kind === "memory")
        if (tie.ok) return
        expect(store.append("kv.a", undefined, bytes("x".repeat(oldest + 1))).ok).toBe(false)
        expect(store.append("kv.a", undefined, bytes("x".repeat(oldest - 1))).ok).toBe(true)
      }))

    it("keeps max_msgs_per_subject, and discard new per subject refuses", () =>
      withStore(limits({ maxMsgsPerSubject: 2 }), (store) => {
        appendAll(store, [["k.a", "1"], ["k.a", "2"], ["k.b", "3"], ["k.a", "4"], ["k.a", "5"]])
        expect(store.subjectsState()).toEqual(new Map([["k.a", 2], ["k.b", 1]]))
        expect(text(store.get(4)?.data)).toBe("4")
        expect(store.get(2)).toBeUndefined()
        store.updateLimits(limits({ maxMsgsPerSubject: 1 }))
        expect(store.subjectsState()).toEqual(new Map([["k.a", 1], ["k.b", 1]]))
        store.updateLimits(limits({ maxMsgsPerSubject: 1, discard: "new", discardNewPerSubject: true }))
        const refused = store.append("k.a", undefined, bytes("6"))
        expect(refused.ok === false && refused.reason).toBe("maxMsgsPerSubject")
        expect(refused.ok === false && refused.description).toBe("maximum messages per subject exceeded")
        expect(store.append("k.c", undefined, bytes("7")).ok).toBe(true)
      }))

    it("lets a message replace one at the subject limit under discard new (KV updates)", () =>
      withStore(limits({ maxMsgs: 2, maxMsgsPerSubject: 1, discard: "new" }), (store) => {
        appendAll(store, [["kv.a", "1"], ["kv.b", "2"]])
        const update = store.append("kv.a", undefined, bytes("3"))
        expect(update.ok && update.seq).toBe(3)
        expect(store.subjectsState()).toEqual(new Map([["kv.a", 1], ["kv.b", 1]]))
        const refused = store.append("kv.c", undefined, bytes("4"))
        expect(refused.ok === false && refused.reason).toBe("maxMsgs")
      }))

    it("finds the messages that have headers without loading any", () =>
      withStore(noLimits, (store) => {
        store.append("a", undefined, bytes("1"))
        store.append("a", bytes("NATS/1.0\r\nNats-Msg-Id: x\r\n\r\n"), bytes("2"))
        store.append("b", undefined, bytes("3"))
        store.append("b", new Uint8Array(0), bytes("4"))
        store.append("c", undefined, bytes("5"))
        expect(store.nextSeqWithHeaders(1)).toBe(2)
        expect(store.nextSeqWithHeaders(3)).toBe(4)
        store.delete(4)
        expect(store.nextSeqWithHeaders(3)).toBeUndefined()
      }))

    it("refuses a message larger than max_msg_size", () =>
      withStore(limits({ maxMsgSize: 8 }), (store) => {
        expect(store.append("a", bytes("1234"), bytes("5678")).ok).toBe(true)
        const refused = store.append("a", bytes("1234"), bytes("56789"))
        expect(refused).toEqual({ ok: false, reason: "maxMsgSize", description: "message size exceeds maximum allowed" })
        expect(store.state().messages).toBe(1)
      }))

    it("expires messages older than max_age", () =>
      withStore(limits({ maxAgeMs: 200 }), async (store) => {
        const old = (Date.now() - 10_000) * 1e6
        store.append("a", undefined, bytes("old"), old)
        store.append("a", undefined, bytes("old too"), old + 1)
        store.append("b", undefined, bytes("fresh"))
        await eventually(() => expect(store.state().messages).toBe(1), { timeout: 2000 })
        expect(store.state().firstSeq).toBe(3)
        await eventually(() => expect(store.state().messages).toBe(0), { timeout: 3000 })
        expect(store.state()).toMatchObject({ firstSeq: 4, lastSeq: 3 })
      }))

    it("finds the next message matching literal, wildcard and multiple filters", () =>
      withStore(noLimits, (store) => {
        appendAll(store, [
          ["orders.eu.new", "1"],
          ["orders.us.new", "2"],
          ["billing.eu", "3"],
          ["orders.eu.paid", "4"],
          ["orders", "5"],
          ["billing.us", "6"]
        ])
        expect(store.nextMatchingSeq(1)).toBe(1)
        expect(store.nextMatchingSeq(1, ">")).toBe(1)
        expect(store.nextMatchingSeq(2, "orders.*.new")).toBe(2)
        expect(store.nextMatchingSeq(3, "orders.*.new")).toBeUndefined()
        expect(store.nextMatchingSeq(1, "orders.>")).toBe(1)
        expect(store.nextMatchingSeq(5, "orders.>")).toBeUndefined()
        expect(store.nextMatchingSeq(1, "orders")).toBe(5)
        expect(store.nextMatchingSeq(1, "billing.*")).toBe(3)
        expect(store.nextMatchingSeq(4, "billing.*")).toBe(6)
        expect(store.nextMatchingSeq(1, ["billing.us", "orders.eu.paid"])).toBe(4)
        expect(store.nextMatchingSeq(5, ["billing.us", "orders.eu.paid"])).toBe(6)
        expect(store.nextMatchingSeq(1, ["*.eu", "orders.us.*"])).toBe(2)
        expect(store.nextMatchingSeq(1, "nothing.here")).toBeUndefined()
        expect(store.nextMatchingSeq(1, "*")).toBe(5)
        expect(store.nextMatchingSeq(7)).toBeUndefined()
        store.delete(3)
        expect(store.nextMatchingSeq(1, "billing.*")).toBe(6)
        expect(store.nextMatching(2, "billing.>")?.subject).toBe("billing.us")
        expect(text(store.nextMatching(0, "orders.*.paid")?.data)).toBe("4")
      }))

    it("returns the last message by subject, including wildcards", () =>
      withStore(noLimits, (store) => {
        appendAll(store, [["kv.a", "1"], ["kv.b", "2"], ["kv.a", "3"], ["other", "4"]])
        expect(text(store.lastBySubject("kv.a")?.data)).toBe("3")
        expect(text(store.lastBySubject("kv.*")?.data)).toBe("3")
        expect(text(store.lastBySubject(">")?.data)).toBe("4")
        expect(store.lastSeqBySubject("kv.b")).toBe(2)
        expect(store.lastBySubject("missing")).toBeUndefined()
        expect(store.lastSeqBySubject("missing.*")).toBe(0)
        expect(store.lastSeqsBySubject("kv.*")).toEqual([2, 3])
        expect(store.lastSeqsBySubject()).toEqual([2, 3, 4])
        store.delete(3)
        expect(text(store.lastBySubject("kv.a")?.data)).toBe("1")
        store.delete(4)
        expect(text(store.lastBySubject(">")?.data)).toBe("2")
      }))

    it("counts pending messages from a sequence, per filter and per subject", () =>
      withStore(noLimits, (store) => {
        appendAll(store, [
          ["a.1", "1"],
          ["a.2", "2"],
          ["b.1", "3"],
          ["a.1", "4"],
          ["a.2", "5"],
          ["b.1", "6"],
          ["a.1", "7"]
        ])
        expect(store.numPending(1)).toBe(7)
        expect(store.numPending(6)).toBe(2)
        expect(store.numPending(2, ">")).toBe(6)
        expect(store.numPending(1, "a.1")).toBe(3)
        expect(store.numPending(2, "a.1")).toBe(2)
        expect(store.numPending(5, "a.*")).toBe(2)
        expect(store.numPending(2, "a.*")).toBe(4)
        expect(store.numPending(1, ["b.1", "a.2"])).toBe(4)
        expect(store.numPending(1, "a.*", true)).toBe(2)
        expect(store.numPending(6, "a.*", true)).toBe(1)
        expect(store.numPending(1, undefined, true)).toBe(3)
        expect(store.numPending(8)).toBe(0)
        store.delete(4)
        expect(store.numPending(2, "a.1")).toBe(1)
      }))

    it("reports subject counts, dropping subjects with no messages", () =>
      withStore(noLimits, (store) => {
        appendAll(store, [["x.a", "1"], ["x.b", "2"], ["x.a", "3"], ["y", "4"]])
        expect(store.subjectsState()).toEqual(new Map([["x.a", 2], ["x.b", 1], ["y", 1]]))
        expect(store.subjectsState("x.*")).toEqual(new Map([["x.a", 2], ["x.b", 1]]))
        expect(store.subjectsState("y")).toEqual(new Map([["y", 1]]))
        store.delete(2)
        expect(store.subjectsState("x.*")).toEqual(new Map([["x.a", 2]]))
        expect(store.state().numSubjects).toBe(2)
      }))

    it("finds the first sequence at or after a time", () =>
      withStore(noLimits, (store) => {
        store.append("a", undefined, bytes("1"), 1000)
        store.append("a", undefined, bytes("2"), 2000)
        store.append("a", undefined, bytes("3"), 3000)
        expect(store.firstSeqAtOrAfter(0)).toBe(1)
        expect(store.firstSeqAtOrAfter(1500)).toBe(2)
        expect(store.firstSeqAtOrAfter(3000)).toBe(3)
        expect(store.firstSeqAtOrAfter(3001)).toBeUndefined()
      }))

    it("refuses appends once closed", async () => {
      const store = await open(noLimits)
      await store.close()
      const refused = store.append("a", undefined, bytes("1"))
      expect(refused.ok === false && refused.reason).toBe("storeClosed")
    })

    it("agrees with a reference model over random operations across chunk boundaries", () =>
      withStore(limits({ maxMsgsPerSubject: 40 }), async (store) => {
        const random = randomFrom(7)
        const model = new Map<number, { subject: string; data: string }>()
        const subjects = Array.from({ length: 30 }, (_, index) => `s.${index % 5}.${index}`)
        const filters = ["s.>", "s.1.*", "s.*.7", "s.2.12", ">", "s.3.>", "none"]
        let lastSeq = 0
        const dropFirstOnSubject = (subject: string): void => {
          let count = 0
          for (const entry of model.values()) if (entry.subject === subject) count++
          if (count <= 40) return
          for (const [seq, entry] of model) {
            if (entry.subject === subject) {
              model.delete(seq)
              return
            }
          }
        }
        for (let step = 0; step < 12_000; step++) {
          const roll = random()
          if (roll < 0.8) {
            const subject = subjects[Math.floor(random() * subjects.length)]
            const data = `m${step}`
            const result = store.append(subject, undefined, bytes(data))
            expect(result.ok).toBe(true)
            lastSeq++
            model.set(lastSeq, { subject, data })
            dropFirstOnSubject(subject)
          } else if (roll < 0.97) {
            const seq = 1 + Math.floor(random() * lastSeq)
            expect(store.delete(seq)).toBe(model.delete(seq))
          } else if (roll < 0.98) {
            const subject = subjects[Math.floor(random() * subjects.length)]
            let expected = 0
            for (const [seq, entry] of model) {
              if (entry.subject === subject) {
                model.delete(seq)
                expected++
              }
            }
            expect(store.purge({ subject })).toBe(expected)
          }
          if (step % 1000 === 999) {
            const live = [...model.keys()].sort((left, right) => left - right)
            expect(store.state()).toMatchObject({
              messages: model.size,
              lastSeq,
              firstSeq: live.length > 0 ? live[0] : lastSeq + 1,
              numSubjects: new Set([...model.values()].map((entry) => entry.subject)).size
            })
            const gaps = live.length > 0 ? lastSeq - live[0] + 1 - live.length : 0
            expect(store.state().numDeleted).toBe(gaps)
            expect(store.deletedSequences().length).toBe(gaps)
            for (const filter of filters) {
              const matching = live.filter((seq) => referenceMatches(filter, model.get(seq)!.subject))
              const from = 1 + Math.floor(random() * lastSeq)
              const pending = matching.filter((seq) => seq >= from)
              expect(store.numPending(from, filter)).toBe(pending.length)
              expect(store.nextMatchingSeq(from, filter) ?? 0).toBe(pending.length > 0 ? pending[0] : 0)
              expect(store.lastSeqBySubject(filter)).toBe(matching.length > 0 ? matching[matching.length - 1] : 0)
              const lastPerSubject = new Map<string, number>()
              for (const seq of matching) lastPerSubject.set(model.get(seq)!.subject, seq)
              expect(store.lastSeqsBySubject(filter)).toEqual([...lastPerSubject.values()].sort((left, right) => left - right))
              expect(store.numPending(from, filter, true)).toBe([...lastPerSubject.values()].filter((seq) => seq >= from).length)
              const perSubject = new Map<string, number>()
              for (const seq of matching) perSubject.set(model.get(seq)!.subject, (perSubject.get(model.get(seq)!.subject) ?? 0) + 1)
              expect(store.subjectsState(filter)).toEqual(perSubject)
            }
            for (let probe = 0; probe < 50; probe++) {
              const seq = 1 + Math.floor(random() * lastSeq)
              const expected = model.get(seq)
              const message = store.get(seq)
              expect(message === undefined ? undefined : { subject: message.subject, data: text(message.data) }).toEqual(expected)
            }
          }
        }
        let walked = 0
        for (let seq = store.nextMatchingSeq(0, "s.1.*"); seq !== undefined; seq = store.nextMatchingSeq(seq + 1, "s.1.*")) walked++
        expect(walked).toBe([...model.values()].filter((entry) => referenceMatches("s.1.*", entry.subject)).length)
      }))
  })
}

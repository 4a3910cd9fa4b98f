import { JetStreamApiError } from "@nats-io/jetstream"
import { headers } from "@nats-io/transport-node"
import { describe, expect, it } from "vitest"
import { eventually } from "../../../test/support/eventually.ts"
import { useJetStreamSession } from "./harness.ts"

const failure = async (promise: Promise<unknown>): Promise<{ code: number; description: string } | undefined> => {
  try {
    await promise
    return undefined
  } catch (error) {
    if (error instanceof JetStreamApiError) return { code: error.code, description: error.message }
    throw error
  }
}

const withHeaders = (entries: Record<string, string>) => {
  const block = headers()
  for (const [key, value] of Object.entries(entries)) block.set(key, value)
  return block
}

describe("publishing into streams", () => {
  const session = useJetStreamSession()

  it("acks with the stream and sequence, and stores plain publishes silently", async () => {
    await session.jsm.streams.add({ name: "P", subjects: ["p.>"] })
    expect(await session.js.publish("p.a", "1")).toMatchObject({ stream: "P", seq: 1 })
    session.nc.publish("p.b", "2")
    await session.nc.flush()
    await eventually(async () => expect((await session.jsm.streams.info("P")).state.messages).toBe(2))
    const raw = await session.nc.request("p.c", "3", { timeout: 2000 })
    expect(JSON.parse(raw.string())).toEqual({ stream: "P", seq: 3 })
  })

  it("sends no PubAck on a no_ack stream", async () => {
    await session.jsm.streams.add({ name: "NOACK", subjects: ["noack"], no_ack: true })
    await expect(session.nc.request("noack", "x", { timeout: 300 })).rejects.toThrow()
    expect((await session.jsm.streams.info("NOACK")).state.messages).toBe(1)
  })

  it("checks Nats-Expected-Stream, -Last-Sequence and -Last-Subject-Sequence", async () => {
    await session.jsm.streams.add({ name: "EXP", subjects: ["exp.>"] })
    await session.js.publish("exp.a", "1")
    await session.js.publish("exp.b", "2")
    expect(await failure(session.js.publish("exp.a", "x", { expect: { streamName: "OTHER" } }))).toEqual({ code: 10060, description: "expected stream does not match" })
    expect(await failure(session.js.publish("exp.a", "x", { expect: { lastSequence: 1 } }))).toEqual({ code: 10071, description: "wrong last sequence: 2" })
    expect(await session.js.publish("exp.a", "x", { expect: { lastSequence: 2, streamName: "EXP" } })).toMatchObject({ seq: 3 })
    expect(await failure(session.js.publish("exp.a", "y", { expect: { lastSubjectSequence: 1 } }))).toEqual({ code: 10071, description: "wrong last sequence: 3" })
    expect(await session.js.publish("exp.a", "y", { expect: { lastSubjectSequence: 3 } })).toMatchObject({ seq: 4 })
    expect(await session.js.publish("exp.new", "z", { expect: { lastSubjectSequence: 0 } })).toMatchObject({ seq: 5 })
    expect(await failure(session.js.publish("exp.new", "z", { expect: { lastSubjectSequence: 0 } }))).toEqual({ code: 10071, description: "wrong last sequence: 5" })
  })

  it("dedupes Nats-Msg-Id within the window and checks the last msg id", async () => {
    await session.jsm.streams.add({ name: "DEDUPE", subjects: ["dedupe"], duplicate_window: 200_000_000 })
    expect(await session.js.publish("dedupe", "1", { msgID: "a" })).toEqual(expect.objectContaining({ seq: 1, duplicate: false }))
    expect(await session.js.publish("dedupe", "1", { msgID: "a" })).toEqual(expect.objectContaining({ seq: 1, duplicate: true }))
    expect(await session.js.publish("dedupe", "2", { msgID: "b" })).toMatchObject({ seq: 2 })
    expect(await failure(session.js.publish("dedupe", "3", { expect: { lastMsgID: "a" } }))).toEqual({ code: 10070, description: "wrong last msg ID: b" })
    expect(await session.js.publish("dedupe", "3", { msgID: "c", expect: { lastMsgID: "b" } })).toMatchObject({ seq: 3 })
    // The expected-sequence checks come before the duplicate check.
    expect((await failure(session.js.publish("dedupe", "1", { msgID: "a", expect: { lastSequence: 1 } })))?.code).toBe(10071)
    await eventually(async () => expect((await session.js.publish("dedupe", "again", { msgID: "a" })).duplicate).toBe(false), { timeout: 3000 })
    expect((await session.jsm.streams.info("DEDUPE")).state.messages).toBe(4)
  })

  it("rolls up a subject or the whole stream with Nats-Rollup", async () => {
    await session.jsm.streams.add({ name: "ROLL", subjects: ["roll.>"], allow_rollup_hdrs: true })
    for (const subject of ["roll.a", "roll.a", "roll.b", "roll.a"]) await session.js.publish(subject, "v")
    await session.js.publish("roll.a", "sum", { headers: withHeaders({ "Nats-Rollup": "sub" }) })
    let info = await session.jsm.streams.info("ROLL", { subjects_filter: ">" })
    expect(info.state.subjects).toEqual({ "roll.a": 1, "roll.b": 1 })
    await session.js.publish("roll.c", "all", { headers: withHeaders({ "Nats-Rollup": "all" }) })
    info = await session.jsm.streams.info("ROLL")
    expect(info.state).toMatchObject({ messages: 1, first_seq: 6, last_seq: 6 })
    expect(await failure(session.js.publish("roll.c", "bad", { headers: withHeaders({ "Nats-Rollup": "x" }) }))).toMatchObject({ code: 10111 })
    await session.jsm.streams.add({ name: "NOROLL", subjects: ["noroll"] })
    expect(await failure(session.js.publish("noroll", "x", { headers: withHeaders({ "Nats-Rollup": "sub" }) }))).toEqual({ code: 10111, description: "rollup not permitted" })
  })

  it("refuses messages over max_msg_size (10054)", async () => {
    await session.jsm.streams.add({ name: "SIZE", subjects: ["size"], max_msg_size: 10 })
    expect(await session.js.publish("size", "0123456789")).toMatchObject({ seq: 1 })
    expect(await failure(session.js.publish("size", "0123456789x"))).toEqual({ code: 10054, description: "message size exceeds maximum allowed" })
  })

  it("discards old messages at max_msgs and max_bytes", async () => {
    await session.jsm.streams.add({ name: "OLD", subjects: ["old"], max_msgs: 3 })
    for (let index = 1; index <= 5; index++) await session.js.publish("old", `${index}`)
    expect((await session.jsm.streams.info("OLD")).state).toMatchObject({ messages: 3, first_seq: 3, last_seq: 5 })
    await session.jsm.streams.add({ name: "OLDBYTES", subjects: ["oldbytes"], max_bytes: 400, storage: "memory" })
    for (let index = 0; index < 10; index++) await session.js.publish("oldbytes", new Uint8Array(50))
    const state = (await session.jsm.streams.info("OLDBYTES")).state
    expect(state.bytes).toBeLessThanOrEqual(400)
    expect(state.last_seq).toBe(10)
  })

  it("rejects new messages with discard new (10077), but lets per-subject replacements in", async () => {
    await session.jsm.streams.add({ name: "NEW", subjects: ["new.>"], max_msgs: 2, discard: "new" as never })
    await session.js.publish("new.a", "1")
    await session.js.publish("new.b", "2")
    expect(await failure(session.js.publish("new.c", "3"))).toEqual({ code: 10077, description: "maximum messages exceeded" })
    await session.jsm.streams.add({ name: "KVLIKE", subjects: ["kvlike.>"], max_msgs: 2, max_msgs_per_subject: 1, discard: "new" as never })
    await session.js.publish("kvlike.a", "1")
    await session.js.publish("kvlike.b", "1")
    expect(await session.js.publish("kvlike.a", "2")).toMatchObject({ seq: 3 })
    expect(await failure(session.js.publish("kvlike.c", "1"))).toMatchObject({ code: 10077 })
    await session.jsm.streams.add({ name: "PERSUBJECT", subjects: ["persubject.>"], max_msgs_per_subject: 1, discard: "new" as never, discard_new_per_subject: true })
    await session.js.publish("persubject.a", "1")
    expect(await failure(session.js.publish("persubject.a", "2"))).toEqual({ code: 10077, description: "maximum messages per subject exceeded" })
    await session.jsm.streams.add({ name: "NEWBYTES", subjects: ["newbytes"], max_bytes: 200, discard: "new" as never, storage: "memory" })
    await session.js.publish("newbytes", new Uint8Array(100))
    expect(await failure(session.js.publish("newbytes", new Uint8Array(100)))).toEqual({ code: 10077, description: "maximum bytes exceeded" })
  })

  it("keeps max_msgs_per_subject of history", async () => {
    await session.jsm.streams.add({ name: "HISTORY", subjects: ["history.>"], max_msgs_per_subject: 2 })
    for (let index = 0; index < 5; index++) await session.js.publish("history.k", `${index}`)
    const info = await session.jsm.streams.info("HISTORY")
    expect(info.state).toMatchObject({ messages: 2, first_seq: 4, last_seq: 5 })
  })

  it("expires messages past max_age", async () => {
    await session.jsm.streams.add({ name: "AGE", subjects: ["age"], max_age: 200_000_000 })
    await session.js.publish("age", "x")
    await eventually(async () => expect((await session.jsm.streams.info("AGE")).state.messages).toBe(0), { timeout: 3000 })
  })
})

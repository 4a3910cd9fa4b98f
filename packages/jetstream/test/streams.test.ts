import { jetstream, jetstreamManager, JetStreamApiError, type JetStreamManager } from "@nats-io/jetstream"
import { headers, type NatsConnection } from "@nats-io/transport-node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type RunningJetStream, startJetStream } from "./harness.ts"

const decoder = new TextDecoder()

/** A raw API request, for checking exact response bodies. */
const api = async (nc: NatsConnection, subject: string, body?: unknown): Promise<Record<string, any>> => {
  const payload = body === undefined ? new Uint8Array(0) : typeof body === "string" ? body : JSON.stringify(body)
  const reply = await nc.request(`$JS.API.${subject}`, payload, { timeout: 2000 })
  return JSON.parse(decoder.decode(reply.data))
}

const apiErrorCode = async (promise: Promise<unknown>): Promise<number | undefined> => {
  try {
    await promise
    return undefined
  } catch (error) {
    if (error instanceof JetStreamApiError) return error.code
    throw error
  }
}

describe("streams", () => {
  let node: RunningJetStream
  let nc: NatsConnection
  let jsm: JetStreamManager
  beforeAll(async () => {
    node = await startJetStream()
    nc = await node.connect()
    jsm = await jetstreamManager(nc)
  })
  afterAll(async () => {
    await node.close()
  })

  it("answers $JS.API.INFO like nats-server", async () => {
    const info = await api(nc, "INFO")
    expect(info.type).toBe("io.nats.jetstream.api.v1.account_info_response")
    expect(info.limits).toMatchObject({ max_memory: -1, max_storage: -1, max_streams: -1, max_consumers: -1 })
    expect(info.api).toMatchObject({ level: 0 })
    expect(typeof info.api.total).toBe("number")
  })

  it("applies nats-server's defaults and serializes the 2.10 config", async () => {
    const created = await api(nc, "STREAM.CREATE.DEFAULTS", { name: "DEFAULTS" })
    expect(created.type).toBe("io.nats.jetstream.api.v1.stream_create_response")
    expect(created.did_create).toBe(true)
    expect(created.config).toEqual({
      name: "DEFAULTS",
      subjects: ["DEFAULTS"],
      retention: "limits",
      max_consumers: -1,
      max_msgs: -1,
      max_bytes: -1,
      max_age: 0,
      max_msgs_per_subject: -1,
      max_msg_size: -1,
      discard: "old",
      storage: "file",
      num_replicas: 1,
      duplicate_window: 120000000000,
      compression: "none",
      allow_direct: false,
      mirror_direct: false,
      sealed: false,
      deny_delete: false,
      deny_purge: false,
      allow_rollup_hdrs: false,
      consumer_limits: {}
    })
    expect(created.state).toMatchObject({ messages: 0, bytes: 0, first_seq: 0, last_seq: 0, first_ts: "0001-01-01T00:00:00Z", consumer_count: 0 })
    expect(created.created).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/)
    expect(created.cluster).toEqual({ leader: expect.any(String) })
  })

  it("defaults duplicate_window to a shorter max_age and validates limits", async () => {
    const info = await jsm.streams.add({ name: "AGED", subjects: ["aged.>"], max_age: 1_000_000_000 })
    expect(info.config.duplicate_window).toBe(1_000_000_000)
    const tooYoung = await api(nc, "STREAM.CREATE.YOUNG", { name: "YOUNG", max_age: 50_000_000 })
    expect(tooYoung.error).toEqual({ code: 500, err_code: 10052, description: "max age needs to be >= 100ms" })
    const duplicates = await api(nc, "STREAM.CREATE.DUPS", { name: "DUPS", subjects: ["a", "a"] })
    expect(duplicates.error).toEqual({ code: 500, err_code: 10052, description: "duplicate subjects detected" })
  })

  it("is idempotent for an identical config and refuses a different one (10058)", async () => {
    const config = { name: "IDEM", subjects: ["idem.>"], max_msgs_per_subject: 3 }
    await jsm.streams.add(config)
    const again = await api(nc, "STREAM.CREATE.IDEM", config)
    expect(again.error).toBeUndefined()
    expect(again.config.max_msgs_per_subject).toBe(3)
    const different = await api(nc, "STREAM.CREATE.IDEM", { ...config, max_msgs_per_subject: 4 })
    expect(different.error).toEqual({ code: 400, err_code: 10058, description: "stream name already in use with a different configuration" })
  })

  it("rejects subject overlap (10065), replicas > 1 (10074) and name mismatch (10056)", async () => {
    await jsm.streams.add({ name: "OVER", subjects: ["over.*"] })
    expect((await api(nc, "STREAM.CREATE.OVER2", { name: "OVER2", subjects: ["over.>"] })).error).toEqual({
      code: 400,
      err_code: 10065,
      description: "subjects overlap with an existing stream"
    })
    expect((await api(nc, "STREAM.CREATE.R3", { name: "R3", num_replicas: 3 })).error).toEqual({
      code: 500,
      err_code: 10074,
      description: "replicas > 1 not supported in non-clustered mode"
    })
    expect((await api(nc, "STREAM.CREATE.X", { name: "Y" })).error?.err_code).toBe(10056)
    expect((await api(nc, "STREAM.CREATE.BAD", "{not json")).error?.err_code).toBe(10025)
  })

  it("reports a missing stream as 10059 with nats-server's text", async () => {
    expect((await api(nc, "STREAM.INFO.MISSING")).error).toEqual({ code: 404, err_code: 10059, description: "stream not found" })
    expect(await apiErrorCode(jsm.streams.info("MISSING"))).toBe(10059)
  })

  it("updates allowed fields and refuses the forbidden ones", async () => {
    await jsm.streams.add({ name: "UPD", subjects: ["upd.>"], max_msgs: 10 })
    const js = jetstream(nc)
    for (let index = 0; index < 5; index++) await js.publish("upd.a", `${index}`)
    const updated = await jsm.streams.update("UPD", { max_msgs: 3, subjects: ["upd.>", "upd2.>"] })
    expect(updated.config.max_msgs).toBe(3)
    expect(updated.state.messages).toBe(3)
    expect(updated.config.subjects).toEqual(["upd.>", "upd2.>"])
    const storage = await api(nc, "STREAM.UPDATE.UPD", { ...updated.config, storage: "memory" })
    expect(storage.error).toEqual({ code: 500, err_code: 10052, description: "stream configuration update can not change storage type" })
    const workqueue = await api(nc, "STREAM.UPDATE.UPD", { ...updated.config, retention: "workqueue" })
    expect(workqueue.error?.description).toBe("stream configuration update can not change retention policy to/from workqueue")
    expect((await api(nc, "STREAM.UPDATE.NOPE", { name: "NOPE" })).error?.err_code).toBe(10059)
    await jsm.streams.update("UPD", { deny_delete: true })
    const undeny = await api(nc, "STREAM.UPDATE.UPD", { ...updated.config, deny_delete: false })
    expect(undeny.error?.description).toBe("stream configuration update can not cancel deny message deletes")
  })

  it("seals a stream: no writes, deletes or purges", async () => {
    await jsm.streams.add({ name: "SEAL", subjects: ["seal.>"] })
    const js = jetstream(nc)
    await js.publish("seal.a", "x")
    expect((await api(nc, "STREAM.CREATE.SEALED", { name: "SEALED", sealed: true })).error?.description).toBe(
      "stream configuration for create can not be sealed"
    )
    const sealed = await jsm.streams.update("SEAL", { sealed: true } as never)
    expect(sealed.config).toMatchObject({ sealed: true, deny_delete: true, deny_purge: true })
    expect(await apiErrorCode(js.publish("seal.a", "y"))).toBe(10109)
    expect((await api(nc, "STREAM.PURGE.SEAL")).error?.err_code).toBe(10109)
    expect((await api(nc, "STREAM.MSG.DELETE.SEAL", { seq: 1 })).error?.err_code).toBe(10109)
  })

  it("lists and names streams, filtered by subject, sorted", async () => {
    await jsm.streams.add({ name: "LIST_B", subjects: ["list.b.>"] })
    await jsm.streams.add({ name: "LIST_A", subjects: ["list.a.*"] })
    const names = await api(nc, "STREAM.NAMES", { subject: "list.>" })
    expect(names).toMatchObject({ type: "io.nats.jetstream.api.v1.stream_names_response", total: 2, offset: 0, limit: 1024, streams: ["LIST_A", "LIST_B"] })
    expect(await jsm.streams.find("list.a.x")).toBe("LIST_A")
    const listed = await api(nc, "STREAM.LIST", { subject: "list.b.x" })
    expect(listed.type).toBe("io.nats.jetstream.api.v1.stream_list_response")
    expect(listed.limit).toBe(256)
    expect(listed.streams.map((stream: any) => stream.config.name)).toEqual(["LIST_B"])
    const all: string[] = []
    for await (const name of jsm.streams.names()) all.push(name)
    expect(all).toContain("LIST_A")
  })

  it("reports subjects and deleted details in STREAM.INFO", async () => {
    await jsm.streams.add({ name: "DETAIL", subjects: ["detail.>"] })
    const js = jetstream(nc)
    for (const subject of ["detail.a", "detail.b", "detail.a", "detail.c.x"]) await js.publish(subject, "m")
    await jsm.streams.deleteMessage("DETAIL", 2)
    const info = await api(nc, "STREAM.INFO.DETAIL", { subjects_filter: "detail.*", deleted_details: true })
    expect(info.state).toMatchObject({ messages: 3, first_seq: 1, last_seq: 4, num_subjects: 2, num_deleted: 1, deleted: [2], subjects: { "detail.a": 2 } })
    expect(info.total).toBe(1)
    const plain = await api(nc, "STREAM.INFO.DETAIL")
    expect(plain).toMatchObject({ total: 0, offset: 0, limit: 0 })
    expect(plain.state.subjects).toBeUndefined()
    const viaClient = await jsm.streams.info("DETAIL", { subjects_filter: ">" })
    expect(viaClient.state.subjects).toEqual({ "detail.a": 2, "detail.c.x": 1 })
  })

  it("purges everything, by filter, below a sequence and keeping the newest", async () => {
    await jsm.streams.add({ name: "PURGE", subjects: ["purge.>"] })
    const js = jetstream(nc)
    for (let index = 0; index < 10; index++) await js.publish(index % 2 === 0 ? "purge.even" : "purge.odd", `${index}`)
    expect(await jsm.streams.purge("PURGE", { filter: "purge.odd", keep: 2 })).toMatchObject({ success: true, purged: 3 })
    expect(await jsm.streams.purge("PURGE", { seq: 5 })).toMatchObject({ success: true, purged: 2 })
    expect(await jsm.streams.purge("PURGE", { filter: "purge.even" })).toMatchObject({ success: true, purged: 3 })
    expect((await api(nc, "STREAM.PURGE.PURGE", { seq: 3, keep: 1 })).error?.err_code).toBe(10003)
    expect(await jsm.streams.purge("PURGE")).toMatchObject({ success: true, purged: 2 })
    const info = await jsm.streams.info("PURGE")
    expect(info.state).toMatchObject({ messages: 0, first_seq: 11, last_seq: 10 })
    await jsm.streams.add({ name: "NOPURGE", subjects: ["nopurge"], deny_purge: true })
    expect((await api(nc, "STREAM.PURGE.NOPURGE")).error).toEqual({ code: 500, err_code: 10110, description: "stream purge not permitted" })
  })

  it("gets and deletes messages by the JSON API", async () => {
    await jsm.streams.add({ name: "GET", subjects: ["get.>"] })
    const js = jetstream(nc)
    await js.publish("get.a", "one")
    const fooHeaders = headers()
    fooHeaders.set("X-Foo", "bar")
    await js.publish("get.b", "two", { headers: fooHeaders })
    await js.publish("get.a", "three")
    const bySeq = await api(nc, "STREAM.MSG.GET.GET", { seq: 2 })
    expect(bySeq.type).toBe("io.nats.jetstream.api.v1.stream_msg_get_response")
    expect(bySeq.message).toMatchObject({ subject: "get.b", seq: 2, data: Buffer.from("two").toString("base64") })
    expect(Buffer.from(bySeq.message.hdrs, "base64").toString()).toBe("NATS/1.0\r\nX-Foo: bar\r\n\r\n")
    const last = await jsm.streams.getMessage("GET", { last_by_subj: "get.a" })
    expect(last?.seq).toBe(3)
    const lastWildcard = await jsm.streams.getMessage("GET", { last_by_subj: "get.>" })
    expect(lastWildcard?.seq).toBe(3)
    const next = await jsm.streams.getMessage("GET", { next_by_subj: "get.a", seq: 2 } as never)
    expect(next?.seq).toBe(3)
    expect(await jsm.streams.getMessage("GET", { seq: 99 })).toBeNull()
    expect((await api(nc, "STREAM.MSG.GET.GET", { seq: 99 })).error).toEqual({ code: 404, err_code: 10037, description: "no message found" })
    expect((await api(nc, "STREAM.MSG.GET.GET")).error?.err_code).toBe(10003)
    expect(await jsm.streams.deleteMessage("GET", 1)).toBe(true)
    expect((await api(nc, "STREAM.MSG.DELETE.GET", { seq: 1 })).error).toEqual({ code: 500, err_code: 10057, description: "no message found" })
    await jsm.streams.add({ name: "GETMEM", subjects: ["getmem"], storage: "memory" as never })
    expect((await api(nc, "STREAM.MSG.DELETE.GETMEM", { seq: 1 })).error).toEqual({ code: 400, err_code: 10043, description: "sequence 1 not found" })
    const info = await jsm.streams.info("GET")
    expect(info.state).toMatchObject({ messages: 2, first_seq: 2 })
  })

  it("serves DIRECT.GET only with allow_direct, with the four Nats-* headers", async () => {
    await jsm.streams.add({ name: "DIRECT", subjects: ["direct.>"], allow_direct: true })
    await jsm.streams.add({ name: "NODIRECT", subjects: ["nodirect.>"] })
    const js = jetstream(nc)
    await js.publish("direct.a", "first")
    await js.publish("direct.a", "second")
    const reply = await nc.request("$JS.API.DIRECT.GET.DIRECT.direct.a", "", { timeout: 2000 })
    expect(reply.string()).toBe("second")
    expect(reply.headers?.get("Nats-Stream")).toBe("DIRECT")
    expect(reply.headers?.get("Nats-Subject")).toBe("direct.a")
    expect(reply.headers?.get("Nats-Sequence")).toBe("2")
    expect(reply.headers?.get("Nats-Time-Stamp")).toMatch(/Z$/)
    const bySeq = await jsm.direct.getMessage("DIRECT", { seq: 1 })
    expect(bySeq?.string()).toBe("first")
    expect(await jsm.direct.getMessage("DIRECT", { last_by_subj: "direct.none" })).toBeNull()
    const empty = await nc.request("$JS.API.DIRECT.GET.DIRECT", "", { timeout: 2000 })
    expect(empty.headers?.code).toBe(408)
    await expect(nc.request("$JS.API.DIRECT.GET.NODIRECT.nodirect.a", "", { timeout: 1000 })).rejects.toThrow(/503|no responders/i)
  })

  it("keeps a message's own headers, UTF-8 subjects and large payloads through DIRECT.GET", async () => {
    await jsm.streams.add({ name: "DIRECTMIX", subjects: ["mix.>"], allow_direct: true })
    const js = jetstream(nc)
    const stored = headers()
    stored.set("Color", "blue")
    await js.publish("mix.ünïcode", "small", { headers: stored })
    const large = new Uint8Array(100_000).map((_, index) => index % 251)
    await js.publish("mix.large", large)
    await js.publish("mix.after", "tiny")
    const withHeaders = await jsm.direct.getMessage("DIRECTMIX", { last_by_subj: "mix.ünïcode" })
    expect(withHeaders?.string()).toBe("small")
    expect(withHeaders?.subject).toBe("mix.ünïcode")
    expect(withHeaders?.header.get("Color")).toBe("blue")
    expect(withHeaders?.header.get("Nats-Sequence")).toBe("1")
    const big = await jsm.direct.getMessage("DIRECTMIX", { last_by_subj: "mix.large" })
    expect(big?.data).toEqual(large)
    const after = await nc.request("$JS.API.DIRECT.GET.DIRECTMIX.mix.after", "", { timeout: 2000 })
    expect(after.string()).toBe("tiny")
    expect(after.headers?.get("Nats-Subject")).toBe("mix.after")
  })

  it("deletes a stream", async () => {
    await jsm.streams.add({ name: "GONE", subjects: ["gone"] })
    expect(await jsm.streams.delete("GONE")).toBe(true)
    expect((await api(nc, "STREAM.DELETE.GONE")).error?.err_code).toBe(10059)
  })
})

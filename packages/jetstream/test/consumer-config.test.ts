import { AckPolicy, DeliverPolicy, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream"
import type { NatsConnection } from "@nats-io/transport-node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type RunningJetStream, startJetStream } from "./harness.ts"

const decoder = new TextDecoder()

const api = async (nc: NatsConnection, subject: string, body?: unknown): Promise<Record<string, any>> => {
  const reply = await nc.request(`$JS.API.${subject}`, body === undefined ? "" : JSON.stringify(body), { timeout: 2000 })
  return JSON.parse(decoder.decode(reply.data))
}

describe("consumer configuration and create subjects", () => {
  let node: RunningJetStream
  let nc: NatsConnection
  let jsm: JetStreamManager
  beforeAll(async () => {
    node = await startJetStream()
    nc = await node.connect()
    jsm = await jetstreamManager(nc)
    await jsm.streams.add({ name: "C", subjects: ["c.>"] })
  })
  afterAll(async () => {
    await node.close()
  })

  it("creates on every subject form with nats-server's checks", async () => {
    const legacy = await api(nc, "CONSUMER.CREATE.C", { stream_name: "C", config: { ack_policy: "explicit" } })
    expect(legacy.type).toBe("io.nats.jetstream.api.v1.consumer_create_response")
    expect(legacy.name).toMatch(/^\w{8}$/)
    expect(legacy.config.inactive_threshold).toBe(5_000_000_000)
    const legacyNamed = await api(nc, "CONSUMER.CREATE.C", { stream_name: "C", config: { name: "named", ack_policy: "none" } })
    expect(legacyNamed.name).toBe("named")
    expect((await api(nc, "CONSUMER.CREATE.C", { stream_name: "C", config: { durable_name: "d" } })).error?.err_code).toBe(10020)
    const durable = await api(nc, "CONSUMER.DURABLE.CREATE.C.dur", { stream_name: "C", config: { durable_name: "dur", ack_policy: "explicit" } })
    expect(durable.name).toBe("dur")
    expect(durable.config.inactive_threshold).toBeUndefined()
    expect((await api(nc, "CONSUMER.DURABLE.CREATE.C.dur", { stream_name: "C", config: {} })).error?.err_code).toBe(10018)
    expect((await api(nc, "CONSUMER.DURABLE.CREATE.C.dur", { stream_name: "C", config: { durable_name: "other" } })).error?.err_code).toBe(10017)
    const filtered = await api(nc, "CONSUMER.CREATE.C.f.c.*.x", { stream_name: "C", config: { name: "f", filter_subject: "c.*.x" } })
    expect(filtered.config.filter_subject).toBe("c.*.x")
    expect((await api(nc, "CONSUMER.CREATE.C.g.c.a", { stream_name: "C", config: { filter_subject: "c.b" } })).error).toEqual({
      code: 400,
      err_code: 10131,
      description: "Consumer create request did not match filtered subject from create subject"
    })
    expect((await api(nc, "CONSUMER.CREATE.C.h", { stream_name: "D", config: {} })).error?.err_code).toBe(10056)
    expect((await api(nc, "CONSUMER.CREATE.NOSTREAM.h", { stream_name: "NOSTREAM", config: {} })).error?.err_code).toBe(10059)
  })

  it("follows create/update action semantics", async () => {
    const config = { durable_name: "act", ack_policy: AckPolicy.Explicit, ack_wait: 10_000_000_000 }
    const created = await api(nc, "CONSUMER.CREATE.C.act", { stream_name: "C", config, action: "create" })
    expect(created.error).toBeUndefined()
    expect((await api(nc, "CONSUMER.CREATE.C.act", { stream_name: "C", config, action: "create" })).error).toBeUndefined()
    expect((await api(nc, "CONSUMER.CREATE.C.act", { stream_name: "C", config: { ...config, ack_wait: 20_000_000_000 }, action: "create" })).error).toEqual({
      code: 400,
      err_code: 10148,
      description: "consumer already exists"
    })
    expect((await api(nc, "CONSUMER.CREATE.C.nope", { stream_name: "C", config: { durable_name: "nope" }, action: "update" })).error).toEqual({
      code: 400,
      err_code: 10149,
      description: "consumer does not exist"
    })
    const updated = await jsm.consumers.update("C", "act", { ack_wait: 20_000_000_000, description: "changed" })
    expect(updated.config).toMatchObject({ ack_wait: 20_000_000_000, description: "changed" })
    const refused = await api(nc, "CONSUMER.CREATE.C.act", { stream_name: "C", config: { ...config, deliver_policy: "new" } })
    expect(refused.error).toEqual({ code: 500, err_code: 10012, description: "deliver policy can not be updated" })
  })

  it("validates configurations", async () => {
    const create = (config: Record<string, unknown>) => api(nc, "CONSUMER.CREATE.C", { stream_name: "C", config })
    expect((await create({ deliver_policy: "last_per_subject" })).error?.description).toBe(
      "consumer delivery policy is deliver last per subject, but optional filter subject is not set"
    )
    expect((await create({ deliver_policy: "by_start_sequence" })).error?.err_code).toBe(10094)
    expect((await create({ idle_heartbeat: 1_000_000_000 })).error?.err_code).toBe(10088)
    expect((await create({ deliver_subject: "x", flow_control: true })).error?.err_code).toBe(10108)
    expect((await create({ deliver_subject: "c.loop" })).error?.err_code).toBe(10081)
    expect((await create({ filter_subjects: ["c.a", "c.*"] })).error?.err_code).toBe(10138)
    expect((await create({ ack_policy: "explicit", max_deliver: 1, backoff: [1, 2] })).error?.err_code).toBe(10116)
    expect((await api(nc, "CONSUMER.CREATE.C.a/b", { stream_name: "C", config: {} })).error?.err_code).toBe(10127)
  })

  it("lists, names, infos and deletes consumers", async () => {
    await jsm.streams.add({ name: "L", subjects: ["l"] })
    for (const name of ["b", "a", "c"]) await jsm.consumers.add("L", { durable_name: name, ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All })
    const names = await api(nc, "CONSUMER.NAMES.L")
    expect(names).toMatchObject({ type: "io.nats.jetstream.api.v1.consumer_names_response", total: 3, limit: 1024, consumers: ["a", "b", "c"] })
    const list = await api(nc, "CONSUMER.LIST.L", { offset: 1 })
    expect(list.consumers.map((info: any) => info.name)).toEqual(["b", "c"])
    expect(list.limit).toBe(256)
    const info = await api(nc, "CONSUMER.INFO.L.a")
    expect(info).toMatchObject({ type: "io.nats.jetstream.api.v1.consumer_info_response", stream_name: "L", name: "a", num_pending: 0, cluster: { leader: expect.any(String) } })
    expect((await api(nc, "CONSUMER.INFO.L.zz")).error).toEqual({ code: 404, err_code: 10014, description: "consumer not found" })
    expect(await api(nc, "CONSUMER.DELETE.L.a")).toEqual({ type: "io.nats.jetstream.api.v1.consumer_delete_response", success: true })
    expect((await api(nc, "CONSUMER.DELETE.L.a")).error?.err_code).toBe(10014)
  })
})

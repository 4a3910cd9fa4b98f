import { createHash, randomBytes } from "node:crypto"
import { Kvm } from "@nats-io/kv"
import { Objm } from "@nats-io/obj"
import type { NatsConnection } from "@nats-io/transport-node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type RunningJetStream, startJetStream } from "./harness.ts"

const collect = async <T>(iterator: AsyncIterable<T>): Promise<T[]> => {
  const values: T[] = []
  for await (const value of iterator) values.push(value)
  return values
}

describe("key-value buckets", () => {
  let node: RunningJetStream
  let nc: NatsConnection
  beforeAll(async () => {
    node = await startJetStream()
    nc = await node.connect()
  })
  afterAll(async () => {
    await node.close()
  })

  it("puts, gets, keeps history and lists keys", async () => {
    const kv = await new Kvm(nc).create("config", { history: 3 })
    expect(await kv.put("a", "1")).toBe(1)
    expect(await kv.put("a", "2")).toBe(2)
    expect(await kv.put("b.c", "x")).toBe(3)
    expect(await kv.put("a", "3")).toBe(4)
    expect(await kv.put("a", "4")).toBe(5)
    const entry = await kv.get("a")
    expect(entry?.string()).toBe("4")
    expect(entry?.revision).toBe(5)
    expect((await kv.get("a", { revision: 2 }))?.string()).toBe("2")
    expect(await kv.get("missing")).toBeNull()
    const history = await collect(await kv.history({ key: "a" }))
    expect(history.map((item) => item.string())).toEqual(["2", "3", "4"])
    expect((await collect(await kv.keys())).sort()).toEqual(["a", "b.c"])
    const status = await kv.status()
    expect(status).toMatchObject({ bucket: "config", history: 3, values: 4 })
  })

  it("creates only once and updates only at the expected revision", async () => {
    const kv = await new Kvm(nc).create("guarded")
    const revision = await kv.create("k", "v1")
    await expect(kv.create("k", "v2")).rejects.toThrow(/wrong last sequence/)
    const updated = await kv.update("k", "v2", revision)
    await expect(kv.update("k", "v3", revision)).rejects.toThrow(/wrong last sequence/)
    expect((await kv.get("k"))?.string()).toBe("v2")
    await kv.delete("k")
    expect((await kv.get("k"))?.operation).toBe("DEL")
    expect(await kv.create("k", "again")).toBeGreaterThan(updated)
    await kv.purge("k")
    expect((await new Kvm(nc).open("guarded").then((bucket) => bucket.status())).values).toBe(1)
  })

  it("watches the initial values and then the updates", async () => {
    const kv = await new Kvm(nc).create("watched")
    await kv.put("x", "1")
    await kv.put("y", "1")
    const watcher = await kv.watch()
    const seen: string[] = []
    let updated = false
    for await (const entry of watcher) {
      seen.push(`${entry.key}=${entry.string()}`)
      if (seen.length === 2 && !updated) {
        updated = true
        await kv.put("x", "2")
      }
      if (seen.length === 3) break
    }
    expect(seen).toEqual(["x=1", "y=1", "x=2"])
  })

  it("lists buckets and destroys one", async () => {
    const kvm = new Kvm(nc)
    await kvm.create("gone")
    const names = (await collect(kvm.list())).map((status) => status.bucket)
    expect(names).toContain("gone")
    expect(await (await kvm.open("gone")).destroy()).toBe(true)
  })
})

describe("object stores", () => {
  let node: RunningJetStream
  let nc: NatsConnection
  beforeAll(async () => {
    node = await startJetStream()
    nc = await node.connect()
  })
  afterAll(async () => {
    await node.close()
  })

  it("stores and reads back a 1 MiB object", async () => {
    const os = await new Objm(nc).create("files")
    const data = randomBytes(1024 * 1024)
    const info = await os.putBlob({ name: "a/b.bin" }, data)
    expect(info).toMatchObject({ name: "a/b.bin", size: data.length, chunks: 8, bucket: "files" })
    const back = await os.getBlob("a/b.bin")
    expect(back?.length).toBe(data.length)
    expect(createHash("sha256").update(back as Uint8Array).digest("hex")).toBe(createHash("sha256").update(data).digest("hex"))
    expect((await os.list()).map((item) => item.name)).toEqual(["a/b.bin"])
  })

  it("replaces, deletes and seals", async () => {
    const os = await new Objm(nc).create("docs")
    await os.putBlob({ name: "doc" }, new TextEncoder().encode("one"))
    await os.putBlob({ name: "doc" }, new TextEncoder().encode("two"))
    expect(new TextDecoder().decode((await os.getBlob("doc")) as Uint8Array)).toBe("two")
    await os.putBlob({ name: "empty" }, new Uint8Array(0))
    expect((await os.getBlob("empty"))?.length).toBe(0)
    await os.delete("doc")
    expect(await os.getBlob("doc")).toBeNull()
    const status = await os.seal()
    expect(status.sealed).toBe(true)
    await expect(os.putBlob({ name: "late" }, new Uint8Array(1))).rejects.toThrow()
  })
})

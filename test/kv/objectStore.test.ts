import { createHash, randomBytes } from "node:crypto"
import { jetstreamManager } from "@nats-io/jetstream"
import { type ObjectInfo, type ObjectStore, Objm } from "@nats-io/obj"
import { connect, type NatsConnection } from "@nats-io/transport-node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { referenceComparison, useTarget } from "../support/index.ts"
import { outcome } from "../support/jetstreamClients.ts"
import { jetStreamTargets } from "../support/jetstreamTargets.ts"

const compare = referenceComparison()

const kibibyte = 1024
const chunkSize = 128 * kibibyte

// 0 B publishes no chunk, 1 B a short one, 128 KiB exactly one full chunk, one byte more a second
// chunk, 20 MiB 160 chunks.
const sizes = [0, 1, chunkSize, chunkSize + 1, 20 * 1024 * kibibyte]

// Random contents, the same on both targets so that digests and sizes compare.
const contents = new Map(sizes.map((size) => [size, randomBytes(size)]))

const digestOf = (data: Uint8Array): string => `SHA-256=${createHash("sha256").update(data).digest("base64url")}=`

/** The meta fields that are the same on every run (not the nuid or the time). */
const infoView = (info: ObjectInfo | null) =>
  info === null
    ? null
    : {
        name: info.name,
        bucket: info.bucket,
        description: info.description ?? "",
        size: info.size,
        chunks: info.chunks,
        digest: info.digest,
        deleted: info.deleted,
        revision: info.revision,
        link: info.options?.link ?? null
      }

/** Reads an object through os.get, checking the client's own digest verification finished cleanly. */
const read = async (store: ObjectStore, name: string): Promise<Buffer | null> => {
  const result = await store.get(name)
  if (result === null) return null
  const parts: Array<Uint8Array> = []
  for await (const part of result.data) parts.push(part)
  expect(await result.error).toBeFalsy()
  return Buffer.concat(parts)
}

describe.each(jetStreamTargets())("$name", (target) => {
  describe.skipIf(!target.available)("object store buckets (@nats-io/obj)", () => {
    const server = useTarget(target)
    let connection: NatsConnection
    let objects: Objm

    beforeAll(async () => {
      connection = await connect({ servers: server().url })
      objects = new Objm(connection)
    })
    afterAll(async () => {
      await connection?.close()
    })

    const observe = (scenario: string, observation: unknown): void => compare(target.name, scenario, observation)
    const streamState = async (bucket: string) => {
      const { state } = await (await jetstreamManager(connection)).streams.info(`OBJ_${bucket}`)
      return { messages: state.messages, bytes: state.bytes, first_seq: state.first_seq, last_seq: state.last_seq }
    }

    it.each(sizes)("stores and returns %i bytes with their SHA-256 digest", async (size) => {
      const store = await objects.create("sizes")
      const data = contents.get(size)!
      const name = `object-${size}.bin`
      const put = await store.putBlob({ name, description: `${size} bytes` }, data)
      expect(put.digest).toBe(digestOf(data))
      expect(put.chunks).toBe(Math.ceil(size / chunkSize))
      const back = await read(store, name)
      expect(back?.equals(data)).toBe(true)
      observe(`object of ${size} bytes`, { put: infoView(put), info: infoView(await store.info(name)), stream: await streamState("sizes") })
    }, 60_000)

    it("overwrites, deletes and lists objects, purging the chunks they leave behind", async () => {
      const store = await objects.create("lifecycle", { description: "lifecycle" })
      await store.putBlob({ name: "a.txt" }, Buffer.from("first version"))
      await store.putBlob({ name: "nested/b.txt" }, contents.get(chunkSize + 1)!)
      const afterPuts = await streamState("lifecycle")
      const overwritten = await store.putBlob({ name: "a.txt" }, contents.get(chunkSize)!)
      const afterOverwrite = await streamState("lifecycle")
      const overwrittenData = await read(store, "a.txt")
      expect(overwrittenData?.equals(contents.get(chunkSize)!)).toBe(true)
      const deleted = await store.delete("nested/b.txt")
      const deletedAgain = await store.delete("nested/b.txt")
      const listed = (await store.list()).map(infoView).sort((left, right) => left!.name.localeCompare(right!.name))
      observe("overwrite, delete and list", {
        afterPuts,
        overwritten: infoView(overwritten),
        afterOverwrite,
        deleted,
        deletedInfo: infoView(await store.info("nested/b.txt")),
        deletedGet: await store.get("nested/b.txt"),
        deletedAgain,
        afterDelete: await streamState("lifecycle"),
        listed
      })
    })

    it("lists, watches and reads nothing from an empty bucket", async () => {
      const store = await objects.create("empty")
      const watch = await store.watch({ includeHistory: true })
      const first = (async () => {
        for await (const info of watch) return { name: info.name, isUpdate: info.isUpdate }
        return null
      })()
      const listed = await store.list()
      await store.putBlob({ name: "first.txt" }, Buffer.from("first"))
      observe("empty bucket", { listed, missingInfo: await store.info("nothing"), missingGet: await store.get("nothing"), watched: await first })
    })

    it("follows links to objects and to other buckets", async () => {
      const source = await objects.create("origin")
      const target = await objects.create("links")
      const original = await source.putBlob({ name: "data.bin" }, contents.get(1)!)
      const objectLink = await target.link("alias.bin", original)
      const bucketLink = await target.linkStore("everything", source)
      const viaLink = await read(target, "alias.bin")
      expect(viaLink?.equals(contents.get(1)!)).toBe(true)
      const linkToLink = await outcome(target.link("again.bin", (await target.info("alias.bin"))!)).catch((error: unknown) => ({ thrown: String(error) }))
      const bucketLinkGet = await target.get("everything").catch((error: unknown) => ({ thrown: String(error) }))
      observe("links", {
        objectLink: infoView(objectLink),
        bucketLink: infoView(bucketLink),
        linkToLink,
        bucketLinkGet,
        listed: (await target.list()).map((info) => info.name).sort()
      })
    })

    it("watches current objects then changes, and seals a bucket against further writes", async () => {
      const store = await objects.create("sealing", { storage: "memory" as never, max_bytes: 64 * 1024 * 1024 })
      await store.putBlob({ name: "kept.txt" }, Buffer.from("kept"))
      const watch = await store.watch({ includeHistory: true })
      const seen: Array<{ name: string; deleted: boolean; size: number; isUpdate: boolean }> = []
      const reading = (async () => {
        for await (const info of watch) {
          seen.push({ name: info.name, deleted: info.deleted, size: info.size, isUpdate: info.isUpdate })
          if (seen.length === 3) break
        }
      })()
      await store.putBlob({ name: "new.txt" }, Buffer.from("new"))
      await store.delete("kept.txt")
      await reading
      const status = await store.seal()
      const refused = await outcome(store.putBlob({ name: "late.txt" }, Buffer.from("late")))
      observe("watch and seal", {
        seen,
        status: { bucket: status.bucket, sealed: status.sealed, size: status.size, storage: status.storage, replicas: status.replicas, ttl: status.ttl },
        refused,
        stillReadable: (await read(store, "new.txt"))?.toString()
      })
      expect(status.sealed).toBe(true)
      expect(refused).toHaveProperty("error")
    })
  })
})

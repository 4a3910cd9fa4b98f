import { Kvm } from "@nats-io/kv"
import { connect } from "@nats-io/transport-node"
import * as legacy from "nats"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { eventually, referenceComparison, useTarget } from "../support/index.ts"
import { outcome } from "../support/jetstreamClients.ts"
import { streamInfoView } from "../support/jetstreamObservation.ts"
import { jetStreamTargets } from "../support/jetstreamTargets.ts"

const compare = referenceComparison()

/** The entry fields both KV clients expose, with the value as text. */
interface EntryView {
  readonly key: string
  readonly value: string
  readonly revision: number
  readonly operation: string
  readonly delta: number | undefined
  readonly length: number
}

interface RawEntry {
  readonly key: string
  readonly value: Uint8Array
  readonly revision: number
  readonly operation: string
  readonly delta?: number
  readonly length: number
}

interface Stoppable<A> extends AsyncIterable<A> {
  stop(): void
}

interface RawStatus {
  readonly values: number
  readonly history: number
  readonly ttl: number
  readonly size: number
  readonly streamInfo: Parameters<typeof streamInfoView>[0]
}

/** The KV calls both clients make the same way (@nats-io/kv's KV and legacy nats' views.kv). */
interface KvLike {
  put(key: string, value: string): Promise<number>
  get(key: string, options?: { revision: number }): Promise<RawEntry | null>
  create(key: string, value: string): Promise<number>
  update(key: string, value: string, revision: number): Promise<number>
  delete(key: string): Promise<void>
  purge(key: string): Promise<void>
  history(options?: { key?: string }): Promise<Stoppable<RawEntry>>
  keys(filter?: string): Promise<Stoppable<string>>
  watch(options?: { key?: string; include?: "" | "history" | "updates" }): Promise<Stoppable<RawEntry>>
  status(): Promise<RawStatus>
  destroy(): Promise<boolean>
}

interface BucketOptions {
  readonly history?: number
  readonly ttl?: number
  readonly maxValueSize?: number
  readonly max_bytes?: number
  readonly storage?: "file" | "memory"
  readonly description?: string
}

interface KvKit {
  readonly name: "@nats-io/kv" | "nats"
  /** Prefix for bucket names, so the two clients' scenarios never share a bucket. */
  readonly tag: string
  readonly open: (url: string) => Promise<{ readonly bucket: (name: string, options?: BucketOptions) => Promise<KvLike>; readonly close: () => Promise<void> }>
}

const kits: ReadonlyArray<KvKit> = [
  {
    name: "@nats-io/kv",
    tag: "v3",
    open: async (url) => {
      const connection = await connect({ servers: url })
      const kvm = new Kvm(connection)
      return { bucket: async (name, options) => (await kvm.create(name, options as never)) as unknown as KvLike, close: () => connection.close() }
    }
  },
  {
    name: "nats",
    tag: "lg",
    open: async (url) => {
      const connection = await legacy.connect({ servers: url })
      const client = connection.jetstream()
      return { bucket: async (name, options) => (await client.views.kv(name, options as never)) as unknown as KvLike, close: () => connection.close() }
    }
  }
]

const decoder = new TextDecoder()

const view = (entry: RawEntry | null): EntryView | null =>
  entry === null
    ? null
    : { key: entry.key, value: decoder.decode(entry.value), revision: entry.revision, operation: entry.operation, delta: entry.delta, length: entry.length }

/** Everything an iterator that ends by itself (history, keys) yields. */
const drain = async <A>(iterator: AsyncIterable<A>): Promise<Array<A>> => {
  const items: Array<A> = []
  for await (const item of iterator) items.push(item)
  return items
}

/**
 * A running watch: the entries seen so far, a way to wait for the first `count`, and stop. A watch
 * that does not deliver is stopped after 10 s so that the test fails instead of hanging.
 */
const startWatch = async (kv: KvLike, options: { key?: string; include?: "" | "history" | "updates" }) => {
  const iterator = await kv.watch(options)
  const entries: Array<EntryView> = []
  const guard = setTimeout(() => iterator.stop(), 10_000)
  const reading = (async () => {
    for await (const entry of iterator) entries.push(view(entry)!)
  })()
  return {
    entries,
    seen: (count: number) => eventually(() => expect(entries.length).toBeGreaterThanOrEqual(count), { timeout: 10_000 }),
    stop: async () => {
      clearTimeout(guard)
      iterator.stop()
      await reading
      return entries
    }
  }
}

const statusView = (status: RawStatus) => ({
  values: status.values,
  history: status.history,
  ttl: status.ttl,
  size: status.size,
  stream: streamInfoView(status.streamInfo)
})

describe.each(jetStreamTargets())("$name", (target) => {
  describe.skipIf(!target.available)("key-value buckets", () => {
    const server = useTarget(target)

    describe.each(kits)("$name", (kit) => {
      let client: Awaited<ReturnType<KvKit["open"]>>
      beforeAll(async () => {
        client = await kit.open(server().url)
      })
      afterAll(async () => {
        await client?.close()
      })

      const bucket = (base: string, options?: BucketOptions): Promise<KvLike> => client.bucket(`${kit.tag}_${base}`, options)
      const observe = (scenario: string, observation: unknown): void => compare(target.name, `${scenario} (${kit.name})`, observation)

      it("counts revisions per bucket and keeps the history asked for", async () => {
        const kv = await bucket("revisions", { history: 3 })
        const revisions = [await kv.put("a", "1"), await kv.put("a", "2"), await kv.put("b", "x"), await kv.put("a", "3"), await kv.put("a", "4")]
        expect(revisions).toEqual([1, 2, 3, 4, 5])
        observe("revisions", {
          revisions,
          latest: view(await kv.get("a")),
          second: view(await kv.get("a", { revision: 2 })),
          // Revision 3 belongs to another key: the clients report nothing for it.
          otherKey: view(await kv.get("a", { revision: 3 })),
          trimmed: view(await kv.get("a", { revision: 1 })),
          missing: view(await kv.get("nothing")),
          history: (await drain(await kv.history({ key: "a" }))).map(view),
          status: statusView(await kv.status())
        })
      })

      it.runIf(kit.name === "@nats-io/kv")("reads through STREAM.MSG.GET when opened without allow_direct, as through DIRECT.GET", async () => {
        await bucket("paths", { history: 2 })
        const connection = await connect({ servers: server().url })
        try {
          const kvm = new Kvm(connection)
          const direct = (await kvm.open(`${kit.tag}_paths`, { allow_direct: true })) as unknown as KvLike
          const stored = (await kvm.open(`${kit.tag}_paths`)) as unknown as KvLike
          await direct.put("k", "one")
          await direct.put("k", "two")
          await direct.delete("other")
          const reads = async (kv: KvLike) => ({
            latest: view(await kv.get("k")),
            first: view(await kv.get("k", { revision: 1 })),
            deleted: view(await kv.get("other")),
            missing: view(await kv.get("missing")),
            beyond: view(await kv.get("k", { revision: 99 }))
          })
          const viaDirect = await reads(direct)
          const viaMessageGet = await reads(stored)
          expect(viaMessageGet).toEqual(viaDirect)
          observe("read paths", viaDirect)
        } finally {
          await connection.close()
        }
      })

      it("creates only absent keys and updates only at the expected revision", async () => {
        const kv = await bucket("cas", { history: 10 })
        const created = await kv.create("k", "first")
        const again = await outcome(kv.create("k", "second"))
        expect(again).toMatchObject({ error: { err_code: 10071, description: `wrong last sequence: ${created}` } })
        await kv.delete("k")
        const recreated = await kv.create("k", "third")
        const wrongRevision = await outcome(kv.update("k", "fourth", created))
        expect(wrongRevision).toMatchObject({ error: { err_code: 10071 } })
        const updated = await kv.update("k", "fourth", recreated)
        observe("create and update", {
          created,
          again,
          recreated,
          wrongRevision,
          updated,
          history: (await drain(await kv.history({ key: "k" }))).map(view)
        })
      })

      it("marks deletes, purges history and lists live keys, wildcards included", async () => {
        const kv = await bucket("keys", { history: 5 })
        for (const key of ["app.db.host", "app.db.port", "app.web", "other", "deep.x.y.z", "gone", "purged"]) await kv.put(key, `${key}-1`)
        await kv.put("purged", "purged-2")
        await kv.delete("gone")
        await kv.purge("purged")
        const sortedKeys = async (filter?: string): Promise<Array<string>> => (await drain(await kv.keys(filter))).sort()
        const all = await sortedKeys()
        expect(all).toEqual(["app.db.host", "app.db.port", "app.web", "deep.x.y.z", "other"])
        observe("delete, purge and keys", {
          deleted: view(await kv.get("gone")),
          purged: view(await kv.get("purged")),
          purgedHistory: (await drain(await kv.history({ key: "purged" }))).map(view),
          all,
          oneLevel: await sortedKeys("app.*"),
          allLevels: await sortedKeys("app.>"),
          middle: await sortedKeys("*.db.*"),
          none: await sortedKeys("missing.>"),
          status: statusView(await kv.status())
        })
      })

      it("watches current values, then live updates, deletes seen as deletes", async () => {
        const kv = await bucket("watch", { history: 5 })
        await kv.put("a", "1")
        await kv.put("b", "1")
        await kv.put("a", "2")
        await kv.delete("b")
        const latest = await startWatch(kv, {})
        const everything = await startWatch(kv, { include: "history" })
        const updates = await startWatch(kv, { include: "updates" })
        const filtered = await startWatch(kv, { key: "c.*" })
        await latest.seen(2)
        await everything.seen(4)
        await kv.put("c.x", "live")
        // The purge below removes this put from the stream: a watcher that has not been sent it yet
        // never will be (nats-server under load showed it), so every watcher sees it first.
        await Promise.all([latest.seen(3), everything.seen(5), updates.seen(1), filtered.seen(1)])
        await kv.delete("a")
        await kv.purge("c.x")
        await kv.put("d", "last")
        await latest.seen(6)
        await everything.seen(8)
        await updates.seen(4)
        await filtered.seen(2)
        const observation = {
          latest: await latest.stop(),
          everything: await everything.stop(),
          updates: await updates.stop(),
          filtered: await filtered.stop()
        }
        expect(observation.latest.map((entry) => `${entry.operation} ${entry.key}`)).toEqual(["PUT a", "DEL b", "PUT c.x", "DEL a", "PURGE c.x", "PUT d"])
        observe("watch", observation)
      })

      it("expires values after the bucket's TTL", async () => {
        const kv = await bucket("ttl", { ttl: 1000 })
        await kv.put("short", "lived")
        const before = view(await kv.get("short"))
        await eventually(async () => expect(await kv.get("short")).toBeNull(), { timeout: 8000, interval: 100 })
        const status = await kv.status()
        observe("ttl expiry", { before, after: view(await kv.get("short")), values: status.values, ttl: status.ttl, keys: await drain(await kv.keys()) })
      })

      it("answers on an empty bucket: no keys, no history, a watch that only sees updates", async () => {
        const kv = await bucket("empty")
        const keys = await drain(await kv.keys())
        const history = await drain(await kv.history({ key: "nothing" }))
        const watch = await startWatch(kv, {})
        await kv.put("first", "1")
        await watch.seen(1)
        observe("empty bucket", { keys, history, missing: view(await kv.get("nothing")), watched: await watch.stop() })
      })

      // nats-server 2.9 refuses a message on a discard-new stream only when bytes + payload + headers
      // reach max_bytes (subject and record overhead not counted), then trims the oldest messages to
      // the limit.
      it("enforces the bucket's size as nats-server does", async () => {
        const kv = await bucket("full", { max_bytes: 2048 })
        const results: Array<unknown> = []
        for (let index = 0; index < 20; index++) results.push(await outcome(kv.put(`key.${index}`, "v".repeat(100))))
        const { state } = (await kv.status()).streamInfo
        observe("bucket size limit", { results, messages: state.messages, bytes: state.bytes, first_seq: state.first_seq })
      })

      it("reports the bucket's limits in its status and enforces them", async () => {
        const kv = await bucket("limits", { history: 4, ttl: 3_600_000, maxValueSize: 64, max_bytes: 1024 * 1024, storage: "memory", description: "limited" })
        await kv.put("small", "fits")
        const tooLarge = await outcome(kv.put("large", "x".repeat(65)))
        expect(tooLarge).toMatchObject({ error: { err_code: 10054 } })
        const status = statusView(await kv.status())
        expect(status.stream.config).toMatchObject({ max_msgs_per_subject: 4, max_msg_size: 64, max_bytes: 1024 * 1024, storage: "memory", allow_rollup_hdrs: true })
        const destroyed = await kv.destroy()
        const afterDestroy = await outcome(kv.status())
        observe("status and limits", { tooLarge, status, destroyed, afterDestroy })
      })
    })
  })
})

import { jetstream } from "@nats-io/jetstream"
import { Kvm } from "@nats-io/kv"
import type { Scenario } from "../Scenario.ts"
import { fillBucket } from "./kvFill.ts"
import { kvListingConsumer, measureRawPushDelivery } from "./rawPushDelivery.ts"
import { settle, withScaleServer } from "./jetstreamScaleServer.ts"

const bucket = "REPLAY"
// A deep history is only exercised if keys have older values the replay must skip.
const revisionsAtDepth = 3
const replayTimeoutMs = 120_000
// nats-server takes seconds to create a last_per_subject consumer over a large bucket.
const apiTimeoutMs = 60_000

/**
 * A watch of the whole bucket (last value of each key, then updates) on a bucket keeping
 * `history` values per key: how fast the initial values of a fifth of the message budget of keys
 * (200,000 in a full run) are replayed through @nats-io/kv, and how fast the server delivers the
 * same consumer's messages to a reader that only frames them (the client's parsing left out).
 */
export const kvWatchReplay = (history: number): Scenario => ({
  id: `kv-replay-h${history}`,
  title: `KV watch replay, history ${history}`,
  run: (server, budget) =>
    withScaleServer(server.name, async ({ connection, port }) => {
      const keys = Math.max(10_000, Math.floor(budget.messages / 5))
      await fillBucket(connection, bucket, keys, history, history > 1 ? revisionsAtDepth : 1)
      await settle()
      const kv = await new Kvm(jetstream(connection, { timeout: apiTimeoutMs })).open(bucket)
      const started = performance.now()
      const watch = await kv.watch()
      const stalled = setTimeout(() => watch.stop(), replayTimeoutMs)
      let replayed = 0
      for await (const _entry of watch) if (++replayed === keys) break
      const seconds = (performance.now() - started) / 1000
      clearTimeout(stalled)
      watch.stop()
      if (replayed !== keys) throw new Error(`the watch replayed ${replayed} of ${keys} keys in ${replayTimeoutMs / 1000} s`)
      const rawSeconds = await measureRawPushDelivery(connection, port, `KV_${bucket}`, kvListingConsumer(bucket, false), keys, replayTimeoutMs)
      return [
        { metric: `replay of ${keys.toLocaleString("en-US")} keys`, unit: "entries/s", value: replayed / seconds, higherIsBetter: true },
        { metric: "server delivery to a raw reader", unit: "entries/s", value: keys / rawSeconds, higherIsBetter: true }
      ]
    })
})

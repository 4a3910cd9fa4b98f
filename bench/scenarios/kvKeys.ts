import { jetstream } from "@nats-io/jetstream"
import { Kvm } from "@nats-io/kv"
import type { Scenario } from "../Scenario.ts"
import { fillBucket } from "./kvFill.ts"
import { kvListingConsumer, measureRawPushDelivery } from "./rawPushDelivery.ts"
import { settle, withScaleServer } from "./jetstreamScaleServer.ts"

const bucket = "KEYS"
const listTimeoutMs = 120_000
// nats-server takes seconds to create a last_per_subject consumer over a large bucket.
const apiTimeoutMs = 60_000

/**
 * `keys()` over a bucket holding `budget.messages` keys (a million in a full run): an ordered
 * push consumer delivering the last value of each subject, headers only. Keys listed per second,
 * and how long the server takes to deliver the same consumer's messages to a reader that only
 * frames them: keys() is bound by the client's per-message parsing, this by the server.
 */
export const kvKeys: Scenario = {
  id: "kv-keys",
  title: "KV keys() over a large bucket",
  run: (server, budget) =>
    withScaleServer(server.name, async ({ connection, port }) => {
      const count = budget.messages
      await fillBucket(connection, bucket, count, 1, 1)
      await settle()
      const kv = await new Kvm(jetstream(connection, { timeout: apiTimeoutMs })).open(bucket)
      const started = performance.now()
      const keys = await kv.keys()
      const stalled = setTimeout(() => keys.stop(), listTimeoutMs)
      let listed = 0
      for await (const _key of keys) listed++
      const seconds = (performance.now() - started) / 1000
      clearTimeout(stalled)
      if (listed !== count) throw new Error(`keys() listed ${listed} of ${count} keys in ${listTimeoutMs / 1000} s`)
      const rawSeconds = await measureRawPushDelivery(connection, port, `KV_${bucket}`, kvListingConsumer(bucket, true), count, listTimeoutMs)
      return [
        { metric: `keys() of ${count.toLocaleString("en-US")} keys`, unit: "s", value: seconds, higherIsBetter: false },
        { metric: "keys listed", unit: "keys/s", value: listed / seconds, higherIsBetter: true },
        { metric: "server delivery to a raw reader", unit: "s", value: rawSeconds, higherIsBetter: false }
      ]
    })
}

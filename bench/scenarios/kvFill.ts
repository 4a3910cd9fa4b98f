import { Kvm } from "@nats-io/kv"
import type { NatsConnection } from "@nats-io/transport-node"
import { fillStream } from "./jetstreamScaleFill.ts"

/**
 * Creates file bucket `bucket` keeping `history` values per key and writes `revisions` rounds of
 * 16 B values to `keys` keys (`key.0` ...), straight to the bucket's stream subjects with many
 * publishes in flight: filling a million keys with kv.put one round trip at a time would take
 * longer than the measurement.
 */
export const fillBucket = async (connection: NatsConnection, bucket: string, keys: number, history: number, revisions: number): Promise<void> => {
  await new Kvm(connection).create(bucket, { history })
  await fillStream(connection, keys * revisions, (index) => `$KV.${bucket}.key.${index % keys}`, new Uint8Array(16))
}

import type { StreamInfo } from "@nats-io/jetstream"
import { type KV, Kvm } from "@nats-io/kv"
import { assertBucketName } from "./bucketName.ts"
import { requireBucketStream } from "./bucketStream.ts"
import type { ConnectionSettings } from "./connection.ts"
import { type JetStreamSession, withJetStream } from "./jetstreamSession.ts"

export interface KvSession extends JetStreamSession {
  readonly bucket: string
  readonly kv: KV
  /** The bucket's stream as it was when the session opened. */
  readonly stream: StreamInfo
}

/** The stream behind KV bucket `bucket`. */
export const kvStreamName = (bucket: string): string => `KV_${bucket}`

/**
 * Opens an existing bucket as natscli does (a missing one is "bucket not found"), reading through
 * DIRECT.GET when the stream allows it, and runs `use` within one connection.
 */
export const withKeyValue = async <A>(settings: ConnectionSettings, bucket: string, use: (session: KvSession) => Promise<A>): Promise<A> => {
  assertBucketName(bucket)
  return withJetStream(settings, async (session) => {
    const stream = await requireBucketStream(session.manager, kvStreamName(bucket))
    const kv = await new Kvm(session.client).open(bucket, { allow_direct: stream.config.allow_direct === true })
    return use({ ...session, bucket, kv, stream })
  })
}

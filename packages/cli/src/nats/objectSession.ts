import type { StreamInfo } from "@nats-io/jetstream"
import { type ObjectStore, Objm, setSha256Backend } from "@nats-io/obj"
import { assertBucketName } from "./bucketName.ts"
import { requireBucketStream } from "./bucketStream.ts"
import type { ConnectionSettings } from "./connection.ts"
import { type JetStreamSession, withJetStream } from "./jetstreamSession.ts"

export interface ObjectSession extends JetStreamSession {
  readonly bucket: string
  readonly store: ObjectStore
  /** The bucket's stream as it was when the session opened. */
  readonly stream: StreamInfo
  /** Opens another existing bucket on the same connection (a link may point into one). */
  readonly open: (bucket: string) => Promise<ObjectStore>
}

/** The stream behind object store bucket `bucket`. */
export const objectStreamName = (bucket: string): string => `OBJ_${bucket}`

/** Opens an existing bucket as natscli does (a missing one is "bucket not found") and runs `use` within one connection. */
export const withObjectStore = async <A>(settings: ConnectionSettings, bucket: string, use: (session: ObjectSession) => Promise<A>): Promise<A> => {
  assertBucketName(bucket)
  // os.put hashes every chunk; Node's SHA-256 is several times faster than the default pure-JS one.
  setSha256Backend("native")
  return withJetStream(settings, async (session) => {
    const objects = new Objm(session.client)
    const open = async (name: string): Promise<ObjectStore> => {
      await requireBucketStream(session.manager, objectStreamName(name))
      return objects.open(name, false)
    }
    const stream = await requireBucketStream(session.manager, objectStreamName(bucket))
    return use({ ...session, bucket, store: await objects.open(bucket, false), stream, open })
  })
}

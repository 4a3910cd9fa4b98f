import { DiscardPolicy, jetstreamManager, JetStreamApiCodes, JetStreamApiError, type StreamConfig, StorageType } from "@nats-io/jetstream"
import { type KV, Kvm } from "@nats-io/kv"
import { type ObjectStore, Objm } from "@nats-io/obj"
import type { NatsConnection } from "@nats-io/transport-node"
import { Data, Effect } from "effect"
import { subjects } from "./subjects.ts"
import { names } from "./worker/WorkerProtocol.ts"

export class InfrastructureError extends Data.TaggedError("InfrastructureError")<{
  /** The bucket or stream that could not be created or opened. */
  readonly resource: string
  readonly cause: unknown
}> {
  override get message(): string {
    return `could not create or open ${this.resource}: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }
}

const nanosPerDay = 86_400_000_000_000
const mebibyte = 1024 * 1024

/** The streams the runtime writes to; existing streams are left as an operator configured them. */
const streams: ReadonlyArray<Partial<StreamConfig> & { name: string }> = [
  { name: names.logsStream, subjects: [subjects.allLogs], max_age: 7 * nanosPerDay, max_bytes: 256 * mebibyte },
  { name: names.eventsStream, subjects: [subjects.allEvents], max_age: 14 * nanosPerDay, max_bytes: 64 * mebibyte },
  { name: names.deadLetterStream, subjects: [subjects.allDeadLetters], max_age: 14 * nanosPerDay, max_bytes: 256 * mebibyte }
]

const attempt = <A>(resource: string, run: () => Promise<A>): Effect.Effect<A, InfrastructureError> =>
  Effect.tryPromise({ try: run, catch: (cause) => new InfrastructureError({ resource, cause }) })

const isStreamNotFound = (error: unknown): boolean =>
  error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound

/**
 * How many copies of each stream and bucket to keep: one per server of the cluster the connection
 * reached, at most three (a single server, or our embedded broker, announces no cluster).
 */
export const replicasFor = (connection: NatsConnection): number => {
  const info = connection.info
  if (info?.cluster === undefined) return 1
  return Math.max(1, Math.min(3, info.connect_urls?.length ?? 1))
}

export interface BucketOptions {
  /** Copies kept by a cluster (default 1). */
  readonly replicas?: number
  /** Values kept per key (default 5). */
  readonly history?: number
  /** How long a value is kept (default: for ever). */
  readonly ttlMs?: number
}

/** Opens a KV bucket, creating it when missing (concurrent creators agree: the config is the same). */
export const ensureKv = (connection: NatsConnection, bucket: string, options: BucketOptions = {}): Effect.Effect<KV, InfrastructureError> =>
  attempt(`KV bucket ${bucket}`, () =>
    new Kvm(connection).create(bucket, {
      history: options.history ?? 5,
      storage: StorageType.File,
      replicas: options.replicas ?? 1,
      ...(options.ttlMs === undefined ? {} : { ttl: options.ttlMs })
    })
  )

/** Opens an object store bucket, creating it when missing. */
export const ensureObjectStore = (connection: NatsConnection, bucket: string, options: Pick<BucketOptions, "replicas"> = {}): Effect.Effect<ObjectStore, InfrastructureError> =>
  attempt(`object store ${bucket}`, () => new Objm(connection).create(bucket, { storage: StorageType.File, replicas: options.replicas ?? 1 }))

const ensureStream = (connection: NatsConnection, config: Partial<StreamConfig> & { name: string }, replicas: number) =>
  attempt(`stream ${config.name}`, async () => {
    const manager = await jetstreamManager(connection)
    try {
      await manager.streams.info(config.name)
    } catch (error) {
      if (!isStreamNotFound(error)) throw error
      await manager.streams.add({ ...config, storage: StorageType.File, discard: DiscardPolicy.Old, num_replicas: replicas })
    }
  })

/** The buckets and streams every part of the runtime expects, created when missing, replicated as `replicasFor` says. */
export const ensureInfrastructure = (connection: NatsConnection): Effect.Effect<void, InfrastructureError> => {
  const replicas = replicasFor(connection)
  return Effect.all(
    [
      ensureKv(connection, names.deploymentsBucket, { replicas }),
      ensureKv(connection, names.configBucket, { replicas }),
      ensureObjectStore(connection, names.bundlesBucket, { replicas }),
      ensureObjectStore(connection, names.artifactsBucket, { replicas }),
      ...streams.map((stream) => ensureStream(connection, stream, replicas))
    ],
    { concurrency: "unbounded", discard: true }
  )
}

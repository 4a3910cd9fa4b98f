import type { StorageType, StreamConfig } from "@nats-io/jetstream"
import type { KvOptions } from "@nats-io/kv"
import { UsageError } from "./CliError.ts"
import type { FlagSpec, ParsedArguments } from "./CommandLine.ts"

const nanosPerMillisecond = 1_000_000
const maximumHistory = 64
const maximumValueSize = 2 ** 31 - 1

/** The flags of `nats kv add`, named as natscli names them. */
export const kvConfigFlags: ReadonlyArray<FlagSpec> = [
  { long: "history", kind: "integer", placeholder: "N", description: "How many historic values to keep per key (default 1, at most 64)" },
  { long: "ttl", kind: "duration", description: "How long to keep values for, e.g. 1h or 1d (default forever)" },
  { long: "replicas", kind: "integer", description: "How many replicas of the data to store (default 1)" },
  { long: "max-value-size", kind: "size", unlimited: true, placeholder: "BYTES", description: "Maximum size for any single value, e.g. 1KiB (default unlimited)" },
  { long: "max-bucket-size", kind: "size", unlimited: true, placeholder: "BYTES", description: "Maximum size for the bucket, e.g. 10MiB (default unlimited)" },
  { long: "description", kind: "string", description: "A description for the bucket" },
  { long: "storage", kind: "string", choices: ["file", "memory"], choiceAliases: { f: "file", m: "memory" }, description: "Storage backend to use (default file)" }
]

export interface KvRequest {
  /** What Kvm.create is given. */
  readonly options: Partial<KvOptions>
  /** The stream settings those options make, to compare with a bucket that already exists. */
  readonly expected: Partial<StreamConfig>
}

// natscli reads 0 and any negative limit as unlimited.
const limit = (value: number): number => (value <= 0 ? -1 : value)

/** The bucket `nats kv add` asks for: the flags given, natscli's defaults for the rest. */
export const kvRequest = (parsed: ParsedArguments): KvRequest => {
  const history = parsed.integer("history", 1)
  if (history < 1 || history > maximumHistory) throw new UsageError(`invalid value "${history}" for --history: expected 1 to ${maximumHistory}`)
  const replicas = parsed.integer("replicas", 1)
  if (replicas < 1) throw new UsageError(`invalid value "${replicas}" for --replicas: expected at least 1`)
  const maxValueSize = limit(parsed.size("max-value-size", -1))
  if (maxValueSize > maximumValueSize) throw new UsageError(`invalid size for --max-value-size: at most ${maximumValueSize} bytes`)
  const maxBytes = limit(parsed.size("max-bucket-size", -1))
  const ttl = parsed.duration("ttl", 0)
  const storage = (parsed.string("storage") ?? "file") as StorageType
  const description = parsed.string("description")
  const options: Partial<KvOptions> = { history, replicas, maxValueSize, max_bytes: maxBytes, ttl, storage }
  if (description !== undefined) options.description = description
  return {
    options,
    expected: {
      max_msgs_per_subject: history,
      num_replicas: replicas,
      max_msg_size: maxValueSize,
      max_bytes: maxBytes,
      max_age: Math.round(ttl * nanosPerMillisecond),
      storage,
      description
    }
  }
}

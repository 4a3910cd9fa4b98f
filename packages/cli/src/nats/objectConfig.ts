import type { StorageType, StreamConfig } from "@nats-io/jetstream"
import type { ObjectStoreOptions } from "@nats-io/obj"
import { UsageError } from "./CliError.ts"
import type { FlagSpec, ParsedArguments } from "./CommandLine.ts"

const nanosPerMillisecond = 1_000_000

/** The flags of `nats object add`, named as natscli names them. */
export const objectConfigFlags: ReadonlyArray<FlagSpec> = [
  { long: "ttl", kind: "duration", description: "How long to keep objects for, e.g. 1d (default forever)" },
  { long: "replicas", kind: "integer", description: "How many replicas of the data to store (default 1)" },
  { long: "max-bucket-size", kind: "size", unlimited: true, placeholder: "BYTES", description: "Maximum size for the bucket, e.g. 1GiB (default unlimited)" },
  { long: "description", kind: "string", description: "A description for the bucket" },
  { long: "storage", kind: "string", choices: ["file", "memory"], choiceAliases: { f: "file", m: "memory" }, description: "Storage backend to use (default file)" }
]

export interface ObjectStoreRequest {
  /** What Objm.create is given. */
  readonly options: Partial<ObjectStoreOptions>
  /** The stream settings those options make, to compare with a bucket that already exists. */
  readonly expected: Partial<StreamConfig>
}

/** The bucket `nats object add` asks for: the flags given, natscli's defaults for the rest. */
export const objectStoreRequest = (parsed: ParsedArguments): ObjectStoreRequest => {
  const replicas = parsed.integer("replicas", 1)
  if (replicas < 1) throw new UsageError(`invalid value "${replicas}" for --replicas: expected at least 1`)
  const maxBytes = parsed.size("max-bucket-size", -1)
  const ttl = Math.round(parsed.duration("ttl", 0) * nanosPerMillisecond)
  const storage = (parsed.string("storage") ?? "file") as StorageType
  const description = parsed.string("description")
  const options: Partial<ObjectStoreOptions> = { replicas, ttl, storage, max_bytes: maxBytes <= 0 ? -1 : maxBytes }
  if (description !== undefined) options.description = description
  return {
    options,
    expected: { num_replicas: replicas, max_age: ttl, storage, max_bytes: options.max_bytes, description }
  }
}

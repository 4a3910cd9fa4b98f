import type { DiscardPolicy, RetentionPolicy, StorageType, StreamConfig } from "@nats-io/jetstream"
import type { FlagSpec, ParsedArguments } from "./CommandLine.ts"
import { assertSubject } from "./subject.ts"

const nanosPerMillisecond = 1_000_000
const twoMinutes = 120_000

/** The flags of `nats stream add` (and, without --storage and --defaults, of `stream edit`), named as natscli names them. */
export const streamConfigFlags = (command: "add" | "edit"): ReadonlyArray<FlagSpec> => [
  { long: "subjects", kind: "strings", placeholder: "SUBJECTS", description: "Subjects that are consumed by the stream; repeatable or comma separated" },
  { long: "description", kind: "string", description: "Sets a contextual description for the stream" },
  ...(command === "add"
    ? [{ long: "storage", kind: "string", choices: ["file", "memory"], choiceAliases: { f: "file", m: "memory" }, description: "Storage backend to use (default file)" } as const]
    : []),
  { long: "replicas", kind: "integer", description: "When clustered, how many replicas of the data to create (default 1)" },
  {
    long: "retention",
    kind: "string",
    choices: ["limits", "interest", "workqueue"],
    choiceAliases: { work: "workqueue", workq: "workqueue" },
    description: "Defines a retention policy (default limits)"
  },
  { long: "discard", kind: "string", choices: ["old", "new"], description: "Defines the discard policy (default old)" },
  { long: "discard-per-subject", kind: "boolean", description: "Applies the 'new' discard policy to every subject in the stream" },
  { long: "max-age", kind: "duration", unlimited: true, description: "Maximum age of messages to keep, e.g. 1h or 1d (default unlimited)" },
  { long: "max-bytes", kind: "size", unlimited: true, description: "Maximum bytes to keep, e.g. 10MiB (default unlimited)" },
  { long: "max-consumers", kind: "integer", unlimited: true, description: "Maximum number of consumers to allow (default unlimited)" },
  { long: "max-msg-size", kind: "size", unlimited: true, description: "Maximum size any one message may be (default unlimited)" },
  { long: "max-msgs", kind: "integer", unlimited: true, description: "Maximum amount of messages to keep (default unlimited)" },
  { long: "max-msgs-per-subject", kind: "integer", unlimited: true, description: "Maximum amount of messages to keep per subject (default unlimited)" },
  { long: "dupe-window", kind: "duration", description: "Duration of the duplicate message tracking window (default 2m, or --max-age when shorter)" },
  { long: "allow-rollup", kind: "boolean", description: "Allows roll-ups to be done by publishing messages with special headers" },
  { long: "deny-delete", kind: "boolean", description: "Deny messages from being deleted via the API" },
  { long: "deny-purge", kind: "boolean", description: "Deny entire stream or subject purges via the API" },
  { long: "allow-direct", kind: "boolean", description: "Allows fast, direct, access to stream data via the direct get API (default true)" },
  { long: "ack", kind: "boolean", description: "Acknowledge publishes (default true; --no-ack turns it off)" },
  { long: "json", short: "j", kind: "boolean", description: "Produce JSON output" }
]

/** `--subjects "a.>,b c"` and repeated flags alike, as natscli splits them. */
const subjectList = (parsed: ParsedArguments): Array<string> => {
  const subjects = parsed.strings("subjects").flatMap((value) => value.split(/[,\s]+/)).filter((subject) => subject !== "")
  for (const subject of subjects) assertSubject(subject, { wildcards: true, flag: "--subjects" })
  return subjects
}

// natscli reads 0 and any negative limit as unlimited.
const limit = (value: number): number => (value <= 0 ? -1 : value)

const nanos = (milliseconds: number): number => Math.round(milliseconds * nanosPerMillisecond)

/** The duplicate window natscli picks: 2 minutes, or the maximum age when that is shorter. */
const defaultDuplicateWindow = (maxAgeMilliseconds: number): number =>
  maxAgeMilliseconds > 0 && maxAgeMilliseconds < twoMinutes ? maxAgeMilliseconds : twoMinutes

/** A new stream's configuration: the flags given, natscli's `--defaults` answers for the rest. */
export const newStreamConfig = (name: string, parsed: ParsedArguments): Partial<StreamConfig> & { name: string } => {
  const subjects = subjectList(parsed)
  const maxAge = Math.max(0, parsed.duration("max-age", 0))
  const config: Partial<StreamConfig> & { name: string } = {
    name,
    subjects: subjects.length > 0 ? subjects : [name],
    retention: (parsed.string("retention") ?? "limits") as RetentionPolicy,
    max_consumers: limit(parsed.integer("max-consumers", -1)),
    max_msgs: limit(parsed.integer("max-msgs", -1)),
    max_bytes: limit(parsed.size("max-bytes", -1)),
    max_age: nanos(maxAge),
    max_msgs_per_subject: limit(parsed.integer("max-msgs-per-subject", -1)),
    max_msg_size: limit(parsed.size("max-msg-size", -1)),
    discard: (parsed.boolean("discard-per-subject") ? "new" : (parsed.string("discard") ?? "old")) as DiscardPolicy,
    storage: (parsed.string("storage") ?? "file") as StorageType,
    num_replicas: parsed.integer("replicas", 1),
    no_ack: !parsed.boolean("ack", true),
    duplicate_window: nanos(parsed.duration("dupe-window", defaultDuplicateWindow(maxAge))),
    allow_rollup_hdrs: parsed.boolean("allow-rollup"),
    deny_delete: parsed.boolean("deny-delete"),
    deny_purge: parsed.boolean("deny-purge"),
    allow_direct: parsed.boolean("allow-direct", true)
  }
  const description = parsed.string("description")
  if (description !== undefined) config.description = description
  if (parsed.boolean("discard-per-subject")) config.discard_new_per_subject = true
  return config
}

/** `current` with only the settings the flags name changed, as `nats stream edit` applies them. */
export const editedStreamConfig = (current: StreamConfig, parsed: ParsedArguments): StreamConfig => {
  const edited: StreamConfig = { ...current }
  const subjects = subjectList(parsed)
  if (subjects.length > 0) edited.subjects = subjects
  const description = parsed.string("description")
  if (description !== undefined) edited.description = description
  if (parsed.has("replicas")) edited.num_replicas = parsed.integer("replicas", 1)
  if (parsed.has("retention")) edited.retention = parsed.string("retention") as RetentionPolicy
  if (parsed.has("discard")) edited.discard = parsed.string("discard") as DiscardPolicy
  if (parsed.has("discard-per-subject")) {
    edited.discard_new_per_subject = parsed.boolean("discard-per-subject")
    if (edited.discard_new_per_subject) edited.discard = "new" as DiscardPolicy
  }
  if (parsed.has("max-age")) edited.max_age = nanos(Math.max(0, parsed.duration("max-age", 0)))
  if (parsed.has("max-bytes")) edited.max_bytes = limit(parsed.size("max-bytes", -1))
  if (parsed.has("max-consumers")) edited.max_consumers = limit(parsed.integer("max-consumers", -1))
  if (parsed.has("max-msg-size")) edited.max_msg_size = limit(parsed.size("max-msg-size", -1))
  if (parsed.has("max-msgs")) edited.max_msgs = limit(parsed.integer("max-msgs", -1))
  if (parsed.has("max-msgs-per-subject")) edited.max_msgs_per_subject = limit(parsed.integer("max-msgs-per-subject", -1))
  if (parsed.has("dupe-window")) edited.duplicate_window = nanos(parsed.duration("dupe-window", twoMinutes))
  if (parsed.has("allow-rollup")) edited.allow_rollup_hdrs = parsed.boolean("allow-rollup")
  if (parsed.has("deny-delete")) edited.deny_delete = parsed.boolean("deny-delete")
  if (parsed.has("deny-purge")) edited.deny_purge = parsed.boolean("deny-purge")
  if (parsed.has("allow-direct")) edited.allow_direct = parsed.boolean("allow-direct")
  if (parsed.has("ack")) edited.no_ack = !parsed.boolean("ack")
  return edited
}

/** "- key: old" / "+ key: new" lines for every setting that differs, in the order of `after`. */
export const configDifferences = (before: object, after: object): Array<string> => {
  const oldValues = before as Record<string, unknown>
  const newValues = after as Record<string, unknown>
  const lines: Array<string> = []
  for (const key of new Set([...Object.keys(newValues), ...Object.keys(oldValues)])) {
    const oldText = JSON.stringify(oldValues[key])
    const newText = JSON.stringify(newValues[key])
    if (oldText === newText) continue
    if (oldText !== undefined) lines.push(`- ${key}: ${oldText}`)
    if (newText !== undefined) lines.push(`+ ${key}: ${newText}`)
  }
  return lines
}

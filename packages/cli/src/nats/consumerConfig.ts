import type { AckPolicy, ConsumerConfig, DeliverPolicy, ReplayPolicy } from "@nats-io/jetstream"
import { UsageError } from "./CliError.ts"
import type { FlagSpec, ParsedArguments } from "./CommandLine.ts"
import { parseLongDuration } from "./longDuration.ts"
import { assertSubject } from "./subject.ts"

const nanos = (milliseconds: number): number => Math.round(milliseconds * 1_000_000)

/** The flags of `nats consumer add`, named as natscli names them. */
export const consumerConfigFlags: ReadonlyArray<FlagSpec> = [
  { long: "ack", kind: "string", choices: ["explicit", "all", "none"], description: "Acknowledgment policy (default explicit for pull, none for push)" },
  {
    long: "deliver",
    kind: "string",
    placeholder: "POLICY",
    description: "Start policy: all, last, new, last_per_subject (or subject), a start sequence, or a duration such as 1h (default all)"
  },
  { long: "deliver-group", kind: "string", placeholder: "GROUP", description: "Delivers push messages only to subscriptions matching this group" },
  { long: "description", kind: "string", description: "Sets a contextual description for the consumer" },
  { long: "filter", kind: "strings", placeholder: "SUBJECTS", description: "Filter the stream by subjects; repeatable" },
  { long: "flow-control", kind: "boolean", description: "Enable push consumer flow control" },
  { long: "heartbeat", kind: "duration", placeholder: "DURATION", description: "Enable idle push consumer heartbeats" },
  { long: "headers-only", kind: "boolean", description: "Deliver only headers and no bodies" },
  { long: "max-deliver", kind: "integer", unlimited: true, placeholder: "TRIES", description: "Maximum amount of times a message will be delivered (default unlimited)" },
  { long: "max-pending", kind: "integer", placeholder: "N", description: "Maximum pending acks before delivery pauses (default: the server's, 1000)" },
  { long: "max-waiting", kind: "integer", placeholder: "PULLS", description: "Maximum number of outstanding pulls allowed" },
  { long: "max-pull-batch", kind: "integer", placeholder: "BATCH_SIZE", description: "Maximum batch size a pull request may ask for" },
  { long: "max-pull-expire", kind: "duration", placeholder: "EXPIRES", description: "Maximum expiry a pull request may ask for" },
  { long: "max-pull-bytes", kind: "size", placeholder: "BYTES", description: "Maximum max bytes a pull request may ask for" },
  { long: "pull", kind: "boolean", description: "Deliver messages in 'pull' mode (the default without --target)" },
  { long: "target", kind: "string", placeholder: "SUBJECT", description: "Push based delivery target subject" },
  { long: "replay", kind: "string", choices: ["instant", "original"], description: "Replay policy (default instant)" },
  { long: "wait", kind: "duration", placeholder: "DURATION", description: "Acknowledgment waiting time (default 30s)" },
  { long: "inactive-threshold", kind: "duration", placeholder: "THRESHOLD", description: "How long an idle consumer may live before it is removed" },
  { long: "memory", kind: "boolean", description: "Store the consumer state in memory rather than inherit from the stream" },
  { long: "replicas", kind: "integer", description: "Sets a custom replica count rather than inherit from the stream" },
  { long: "defaults", kind: "boolean", description: "Accept default values for all prompts (missing values always take natscli's defaults here)" }
]

const startPolicy = (deliver: string): Pick<ConsumerConfig, "deliver_policy" | "opt_start_seq" | "opt_start_time"> => {
  switch (deliver) {
    case "all":
    case "last":
    case "new":
      return { deliver_policy: deliver as DeliverPolicy }
    case "next":
      return { deliver_policy: "new" as DeliverPolicy }
    case "subject":
    case "last_per_subject":
      return { deliver_policy: "last_per_subject" as DeliverPolicy }
  }
  if (/^\d+$/.test(deliver) && Number(deliver) > 0) return { deliver_policy: "by_start_sequence" as DeliverPolicy, opt_start_seq: Number(deliver) }
  const age = parseLongDuration(deliver)
  if (age !== undefined) return { deliver_policy: "by_start_time" as DeliverPolicy, opt_start_time: new Date(Date.now() - age).toISOString() }
  throw new UsageError(`invalid value "${deliver}" for --deliver: expected all, last, new, last_per_subject, a start sequence or a duration such as 1h`)
}

/** A new consumer's configuration: the flags given, natscli's `--defaults` answers for the rest. */
export const newConsumerConfig = (name: string, parsed: ParsedArguments): Partial<ConsumerConfig> => {
  const target = parsed.string("target")
  if (target !== undefined) assertSubject(target, { wildcards: false, flag: "--target" })
  if (target !== undefined && parsed.boolean("pull")) throw new UsageError("--pull and --target cannot be used together")
  const push = target !== undefined
  if (!push && parsed.has("heartbeat")) throw new UsageError("--heartbeat is only possible on push consumers (--target)")
  if (!push && parsed.boolean("flow-control")) throw new UsageError("--flow-control is only possible on push consumers (--target)")
  if (!push && parsed.has("deliver-group")) throw new UsageError("--deliver-group is only possible on push consumers (--target)")
  const filters = parsed.strings("filter").flatMap((value) => value.split(/[,\s]+/)).filter((subject) => subject !== "")
  for (const filter of filters) assertSubject(filter, { wildcards: true, flag: "--filter" })

  const ackPolicy = (parsed.string("ack") ?? (push ? "none" : "explicit")) as AckPolicy
  const config: Partial<ConsumerConfig> = {
    durable_name: name,
    ...startPolicy(parsed.string("deliver") ?? "all"),
    ack_policy: ackPolicy,
    replay_policy: (parsed.string("replay") ?? "instant") as ReplayPolicy,
    max_deliver: ackPolicy === "none" ? -1 : parsed.integer("max-deliver", -1) || -1
  }
  if (filters.length === 1) config.filter_subject = filters[0]
  else if (filters.length > 1) config.filter_subjects = filters
  else if (config.deliver_policy === "last_per_subject") config.filter_subject = ">"
  const description = parsed.string("description")
  if (description !== undefined) config.description = description
  const maxPending = parsed.integer("max-pending", 0)
  if (maxPending > 0) config.max_ack_pending = maxPending
  if (parsed.has("wait")) config.ack_wait = nanos(parsed.duration("wait", 30_000))
  if (parsed.has("inactive-threshold")) config.inactive_threshold = nanos(parsed.duration("inactive-threshold", 0))
  if (parsed.has("max-pull-batch")) config.max_batch = parsed.integer("max-pull-batch", 0)
  if (parsed.has("max-pull-expire")) config.max_expires = nanos(parsed.duration("max-pull-expire", 0))
  if (parsed.has("max-pull-bytes")) config.max_bytes = parsed.size("max-pull-bytes", 0)
  if (parsed.boolean("headers-only")) config.headers_only = true
  if (parsed.boolean("memory")) config.mem_storage = true
  if (parsed.has("replicas")) config.num_replicas = parsed.integer("replicas", 0)
  if (push) {
    config.deliver_subject = target
    const group = parsed.string("deliver-group")
    if (group !== undefined && group !== "") config.deliver_group = group
    if (parsed.has("heartbeat")) config.idle_heartbeat = nanos(parsed.duration("heartbeat", 0))
    if (parsed.boolean("flow-control")) config.flow_control = true
  } else if (parsed.has("max-waiting")) {
    config.max_waiting = parsed.integer("max-waiting", 512)
  }
  return config
}

import type { ConsumerInfo, StreamInfo } from "@nats-io/jetstream"

// The StreamConfig fields nats-server 2.9 reports and the official clients read; newer servers add
// more (compression, consumer_limits, metadata …) that a differential test must not trip over.
const streamConfigFields = [
  "name",
  "description",
  "subjects",
  "retention",
  "max_consumers",
  "max_msgs",
  "max_bytes",
  "max_age",
  "max_msgs_per_subject",
  "max_msg_size",
  "discard",
  "discard_new_per_subject",
  "storage",
  "num_replicas",
  "no_ack",
  "duplicate_window",
  "allow_direct",
  "mirror_direct",
  "sealed",
  "deny_delete",
  "deny_purge",
  "allow_rollup_hdrs"
] as const

const consumerConfigFields = [
  "durable_name",
  "name",
  "description",
  "deliver_policy",
  "opt_start_seq",
  "ack_policy",
  "ack_wait",
  "max_deliver",
  "filter_subject",
  "replay_policy",
  "max_waiting",
  "max_ack_pending",
  "deliver_subject",
  "deliver_group",
  "idle_heartbeat",
  "flow_control",
  "headers_only",
  "inactive_threshold",
  "mem_storage"
] as const

// Fields Go leaves out when they hold their zero value: absent and zero/false/"" mean the same to a client.
const omittedWhenZero = new Set(["description", "discard_new_per_subject", "no_ack", "opt_start_seq", "filter_subject", "deliver_subject", "deliver_group", "idle_heartbeat", "flow_control", "headers_only", "inactive_threshold", "mem_storage"])

const pick = (source: object, fields: ReadonlyArray<string>): Record<string, unknown> => {
  const values = source as Record<string, unknown>
  const picked: Record<string, unknown> = {}
  for (const field of fields) {
    const value = values[field]
    if (value === undefined || (omittedWhenZero.has(field) && (value === 0 || value === false || value === ""))) continue
    picked[field] = value
  }
  return picked
}

/** A StreamInfo reduced to what is the same on every run: config and state, without timestamps. */
export const streamInfoView = (info: StreamInfo) => ({
  config: pick(info.config, streamConfigFields),
  state: {
    messages: info.state.messages,
    bytes: info.state.bytes,
    first_seq: info.state.first_seq,
    last_seq: info.state.last_seq,
    num_subjects: info.state.num_subjects ?? 0,
    num_deleted: info.state.num_deleted ?? 0,
    consumer_count: info.state.consumer_count,
    ...(info.state.subjects === undefined ? {} : { subjects: info.state.subjects })
  }
})

/** A ConsumerInfo reduced to what is the same on every run: config and counters, without timestamps. */
export const consumerInfoView = (info: ConsumerInfo) => ({
  stream_name: info.stream_name,
  name: info.name,
  config: pick(info.config, consumerConfigFields),
  delivered: { consumer_seq: info.delivered.consumer_seq, stream_seq: info.delivered.stream_seq },
  ack_floor: { consumer_seq: info.ack_floor.consumer_seq, stream_seq: info.ack_floor.stream_seq },
  num_ack_pending: info.num_ack_pending,
  num_redelivered: info.num_redelivered,
  num_waiting: info.num_waiting,
  num_pending: info.num_pending,
  push_bound: info.push_bound === true
})

/** The counters of a ConsumerInfo that a scripted sequence of deliveries and acks determines exactly. */
export const consumerCounters = (info: ConsumerInfo) => {
  const { delivered, ack_floor, num_ack_pending, num_redelivered, num_pending } = consumerInfoView(info)
  return { delivered, ack_floor, num_ack_pending, num_redelivered, num_pending }
}

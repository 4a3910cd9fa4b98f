import { z } from "zod"
import { type ApiError, apiError } from "./ApiErrors.ts"

/**
 * The JetStream API's request bodies (zod: they are external input) and the shapes of its
 * responses. Field names are the wire names. Requests are parsed leniently, as nats-server ≤ 2.11
 * does: unknown fields are dropped, `null` reads as "not set".
 */

const int = z.number().int()
const nanos = z.number().int()
const optional = <T extends z.ZodType>(schema: T) => schema.nullish()

const caseInsensitive = <const Values extends readonly [string, ...string[]]>(values: Values) =>
  z
    .string()
    .transform((value) => value.toLowerCase())
    .pipe(z.enum(values))

export const StreamConfigInput = z.object({
  name: optional(z.string()),
  description: optional(z.string()),
  subjects: optional(z.array(z.string())),
  retention: optional(z.enum(["limits", "interest", "workqueue"])),
  max_consumers: optional(int),
  max_msgs: optional(int),
  max_bytes: optional(int),
  max_age: optional(nanos),
  max_msgs_per_subject: optional(int),
  max_msg_size: optional(int),
  discard: optional(caseInsensitive(["old", "new"])),
  storage: optional(z.enum(["file", "memory"])),
  num_replicas: optional(int),
  no_ack: optional(z.boolean()),
  template_owner: optional(z.string()),
  duplicate_window: optional(nanos),
  placement: optional(z.object({ cluster: optional(z.string()), tags: optional(z.array(z.string())) })),
  mirror: optional(z.unknown()),
  sources: optional(z.array(z.unknown())),
  compression: optional(z.enum(["none", "s2", ""])),
  first_seq: optional(int.nonnegative()),
  subject_transform: optional(z.unknown()),
  republish: optional(z.unknown()),
  allow_direct: optional(z.boolean()),
  mirror_direct: optional(z.boolean()),
  discard_new_per_subject: optional(z.boolean()),
  sealed: optional(z.boolean()),
  deny_delete: optional(z.boolean()),
  deny_purge: optional(z.boolean()),
  allow_rollup_hdrs: optional(z.boolean()),
  consumer_limits: optional(z.object({ inactive_threshold: optional(nanos), max_ack_pending: optional(int) })),
  metadata: optional(z.record(z.string(), z.string())),
  allow_msg_ttl: optional(z.boolean()),
  subject_delete_marker_ttl: optional(nanos)
})
export type StreamConfigInput = z.infer<typeof StreamConfigInput>

export const StreamInfoRequest = z.object({
  deleted_details: optional(z.boolean()),
  subjects_filter: optional(z.string()),
  offset: optional(int.nonnegative())
})

export const NamesRequest = z.object({
  offset: optional(int.nonnegative()),
  subject: optional(z.string())
})

export const PurgeRequest = z.object({
  filter: optional(z.string()),
  seq: optional(int.nonnegative()),
  keep: optional(int.nonnegative())
})

export const MessageGetRequest = z.object({
  seq: optional(int.nonnegative()),
  last_by_subj: optional(z.string()),
  next_by_subj: optional(z.string()),
  start_time: optional(z.string()),
  batch: optional(int),
  max_bytes: optional(int),
  multi_last: optional(z.array(z.string())),
  up_to_seq: optional(int.nonnegative()),
  up_to_time: optional(z.string()),
  no_hdr: optional(z.boolean())
})
export type MessageGetRequest = z.infer<typeof MessageGetRequest>

export const MessageDeleteRequest = z.object({
  seq: optional(int.nonnegative()),
  no_erase: optional(z.boolean())
})

export const ConsumerConfigInput = z.object({
  durable_name: optional(z.string()),
  name: optional(z.string()),
  description: optional(z.string()),
  deliver_policy: optional(z.enum(["all", "undefined", "last", "new", "by_start_sequence", "by_start_time", "last_per_subject"])),
  opt_start_seq: optional(int.nonnegative()),
  opt_start_time: optional(z.string()),
  ack_policy: optional(z.enum(["none", "all", "explicit"])),
  ack_wait: optional(nanos),
  max_deliver: optional(int),
  backoff: optional(z.array(nanos)),
  filter_subject: optional(z.string()),
  filter_subjects: optional(z.array(z.string())),
  replay_policy: optional(z.enum(["instant", "original"])),
  rate_limit_bps: optional(int.nonnegative()),
  sample_freq: optional(z.string()),
  max_waiting: optional(int),
  max_ack_pending: optional(int),
  idle_heartbeat: optional(nanos),
  flow_control: optional(z.boolean()),
  headers_only: optional(z.boolean()),
  max_batch: optional(int),
  max_expires: optional(nanos),
  max_bytes: optional(int),
  deliver_subject: optional(z.string()),
  deliver_group: optional(z.string()),
  inactive_threshold: optional(nanos),
  num_replicas: optional(int),
  mem_storage: optional(z.boolean()),
  direct: optional(z.boolean()),
  metadata: optional(z.record(z.string(), z.string()))
})
export type ConsumerConfigInput = z.infer<typeof ConsumerConfigInput>

export const ConsumerCreateRequest = z.object({
  stream_name: optional(z.string()),
  config: optional(ConsumerConfigInput),
  action: optional(z.enum(["", "create", "update"])),
  pedantic: optional(z.boolean())
})

export const ConsumerListRequest = z.object({
  offset: optional(int.nonnegative())
})

/** Turns the first zod issue into the text nats-server puts after "invalid JSON: ". */
export const describeJsonIssue = (error: z.ZodError): string => {
  const issue = error.issues[0]
  const path = issue.path.map(String).join(".")
  return path === "" ? `json: ${issue.message}` : `json: cannot unmarshal field "${path}": ${issue.message}`
}

/** Every response type string, as nats.js and the jsm.go schemas name them. */
export const responseType = {
  accountInfo: "io.nats.jetstream.api.v1.account_info_response",
  streamCreate: "io.nats.jetstream.api.v1.stream_create_response",
  streamUpdate: "io.nats.jetstream.api.v1.stream_update_response",
  streamDelete: "io.nats.jetstream.api.v1.stream_delete_response",
  streamInfo: "io.nats.jetstream.api.v1.stream_info_response",
  streamNames: "io.nats.jetstream.api.v1.stream_names_response",
  streamList: "io.nats.jetstream.api.v1.stream_list_response",
  streamPurge: "io.nats.jetstream.api.v1.stream_purge_response",
  streamMessageGet: "io.nats.jetstream.api.v1.stream_msg_get_response",
  streamMessageDelete: "io.nats.jetstream.api.v1.stream_msg_delete_response",
  consumerCreate: "io.nats.jetstream.api.v1.consumer_create_response",
  consumerInfo: "io.nats.jetstream.api.v1.consumer_info_response",
  consumerDelete: "io.nats.jetstream.api.v1.consumer_delete_response",
  consumerNames: "io.nats.jetstream.api.v1.consumer_names_response",
  consumerList: "io.nats.jetstream.api.v1.consumer_list_response",
  system: "io.nats.jetstream.api.v1.system_response"
} as const

export type ResponseType = (typeof responseType)[keyof typeof responseType]

/** A JSON API response: its type plus either success fields or `error`. */
export type ApiResponse = { readonly type: ResponseType; readonly error?: ApiError } & Record<string, unknown>

export interface SequenceInfo {
  readonly consumer_seq: number
  readonly stream_seq: number
  readonly last_active?: string
}

export interface StreamState {
  readonly messages: number
  readonly bytes: number
  readonly first_seq: number
  readonly first_ts: string
  readonly last_seq: number
  readonly last_ts: string
  readonly num_subjects?: number
  readonly subjects?: Record<string, number>
  readonly num_deleted?: number
  readonly deleted?: number[]
  readonly consumer_count: number
}

export interface PubAck {
  readonly stream: string
  readonly seq: number
  readonly duplicate?: boolean
  readonly domain?: string
  readonly error?: ApiError
}

const bodyDecoder = new TextDecoder()

/**
 * Parses a request body against its schema. An empty body reads as `{}` where the request is
 * optional; otherwise it fails as Go's decoder does ("unexpected end of JSON input").
 */
export const readBody = <T extends z.ZodType>(schema: T, payload: Uint8Array, emptyAllowed: boolean): { ok: true; value: z.infer<T> } | { ok: false; error: ApiError } => {
  const text = bodyDecoder.decode(payload).trim()
  if (text.length === 0) {
    if (emptyAllowed) return { ok: true, value: schema.parse({}) as z.infer<T> }
    return { ok: false, error: invalidJson("unexpected end of JSON input") }
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    return { ok: false, error: invalidJson((error as Error).message) }
  }
  const parsed = schema.safeParse(json)
  return parsed.success ? { ok: true, value: parsed.data as z.infer<T> } : { ok: false, error: invalidJson(describeJsonIssue(parsed.error)) }
}

const invalidJson = (text: string): ApiError => apiError("JSInvalidJSONErr", { err: text })

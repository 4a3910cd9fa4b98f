import { isValidLiteralSubject, isValidSubject, subjectsOverlap, isSubsetOf } from "@nex/protocol"
import { type ApiError, apiError } from "./ApiErrors.ts"
import type { ConsumerConfigInput } from "./api.ts"
import { maxDescriptionLength, maxMetadataLength, type StreamConfig } from "./StreamConfig.ts"
import { formatGoDuration, parseTimestamp } from "./Time.ts"

export type DeliverPolicy = "all" | "last" | "new" | "by_start_sequence" | "by_start_time" | "last_per_subject"
export type AckPolicy = "none" | "all" | "explicit"

/** A consumer's configuration with nats-server's defaults applied. Wire names. */
export interface ConsumerConfig {
  readonly durable_name?: string
  readonly name?: string
  readonly description?: string
  readonly deliver_policy: DeliverPolicy
  readonly opt_start_seq?: number
  readonly opt_start_time?: string
  readonly ack_policy: AckPolicy
  readonly ack_wait?: number
  readonly max_deliver: number
  readonly backoff?: ReadonlyArray<number>
  readonly filter_subject?: string
  readonly filter_subjects?: ReadonlyArray<string>
  readonly replay_policy: "instant" | "original"
  readonly rate_limit_bps?: number
  readonly sample_freq?: string
  readonly max_waiting?: number
  readonly max_ack_pending?: number
  readonly idle_heartbeat?: number
  readonly flow_control?: boolean
  readonly headers_only?: boolean
  readonly max_batch?: number
  readonly max_expires?: number
  readonly max_bytes?: number
  readonly deliver_subject?: string
  readonly deliver_group?: string
  readonly inactive_threshold?: number
  readonly num_replicas: number
  readonly mem_storage?: boolean
  readonly direct?: boolean
  readonly metadata?: Readonly<Record<string, string>>
}

const defaultMaxWaiting = 512
const defaultAckWait = 30_000_000_000
const defaultMaxAckPending = 1000
/** Ephemeral consumers are deleted after this long without interest (nats-server JsDeleteWaitTimeDefault). */
export const defaultInactiveThreshold = 5_000_000_000

/** The consumer's filters as one list (filter_subject or filter_subjects; empty = everything). */
export const filtersOf = (config: ConsumerConfig): ReadonlyArray<string> =>
  config.filter_subjects !== undefined && config.filter_subjects.length > 0
    ? config.filter_subjects
    : config.filter_subject
      ? [config.filter_subject]
      : []

export const isDurable = (config: ConsumerConfig): boolean => config.durable_name !== undefined && config.durable_name !== ""
export const isPush = (config: ConsumerConfig): boolean => config.deliver_subject !== undefined && config.deliver_subject !== ""

const present = <T>(value: T | null | undefined): value is T => value !== null && value !== undefined

/**
 * Applies nats-server's defaults (setConsumerConfigDefaults, updateInactiveThreshold) to a
 * requested configuration. `name` is the consumer's final name.
 */
export const applyConsumerDefaults = (input: ConsumerConfigInput, stream: StreamConfig, name: string): ConsumerConfig => {
  const ackPolicy = input.ack_policy ?? "none"
  const acking = ackPolicy !== "none"
  const push = present(input.deliver_subject) && input.deliver_subject !== ""
  const durable = present(input.durable_name) && input.durable_name !== ""
  const backoff = input.backoff ?? []
  let ackWait = input.ack_wait ?? 0
  if (ackWait === 0 && acking) ackWait = defaultAckWait
  if (backoff.length > 0) ackWait = backoff[0]
  let maxAckPending = input.max_ack_pending ?? 0
  if (maxAckPending === 0) maxAckPending = stream.consumer_limits.max_ack_pending ?? 0
  if (maxAckPending === 0 && acking) maxAckPending = defaultMaxAckPending
  let inactiveThreshold = input.inactive_threshold ?? 0
  if (inactiveThreshold === 0) inactiveThreshold = stream.consumer_limits.inactive_threshold ?? 0
  if (!durable && inactiveThreshold <= 0) inactiveThreshold = defaultInactiveThreshold
  let maxWaiting = input.max_waiting ?? 0
  if (!push && maxWaiting === 0) maxWaiting = defaultMaxWaiting
  const maxDeliver = input.max_deliver === null || input.max_deliver === undefined || input.max_deliver === 0 || input.max_deliver < -1 ? -1 : input.max_deliver
  const deliverPolicy = input.deliver_policy === undefined || input.deliver_policy === null || input.deliver_policy === "undefined" ? "all" : input.deliver_policy
  const text = (value: string | null | undefined) => (present(value) && value !== "" ? value : undefined)
  const number = (value: number | null | undefined) => (present(value) && value !== 0 ? value : undefined)
  const flag = (value: boolean | null | undefined) => (value === true ? true : undefined)
  const config: ConsumerConfig = {
    durable_name: text(input.durable_name),
    name,
    description: text(input.description),
    deliver_policy: deliverPolicy,
    opt_start_seq: number(input.opt_start_seq),
    opt_start_time: text(input.opt_start_time),
    ack_policy: ackPolicy,
    ack_wait: number(ackWait),
    max_deliver: maxDeliver,
    backoff: backoff.length > 0 ? backoff : undefined,
    filter_subject: text(input.filter_subject),
    filter_subjects: present(input.filter_subjects) && input.filter_subjects.length > 0 ? input.filter_subjects : undefined,
    replay_policy: input.replay_policy ?? "instant",
    rate_limit_bps: number(input.rate_limit_bps),
    sample_freq: text(input.sample_freq),
    max_waiting: number(maxWaiting),
    max_ack_pending: number(maxAckPending),
    idle_heartbeat: number(input.idle_heartbeat),
    flow_control: flag(input.flow_control),
    headers_only: flag(input.headers_only),
    max_batch: number(input.max_batch),
    max_expires: number(input.max_expires),
    max_bytes: number(input.max_bytes),
    deliver_subject: text(input.deliver_subject),
    deliver_group: text(input.deliver_group),
    inactive_threshold: number(inactiveThreshold),
    num_replicas: input.num_replicas ?? 0,
    mem_storage: flag(input.mem_storage),
    direct: flag(input.direct),
    metadata: present(input.metadata) && Object.keys(input.metadata).length > 0 ? input.metadata : undefined
  }
  return Object.fromEntries(Object.entries(config).filter(([, value]) => value !== undefined)) as unknown as ConsumerConfig
}

const policyError = (text: string): ApiError => apiError("JSConsumerInvalidPolicyErrF", { err: text })
const badStart = (policy: string, start: string) => policyError(`consumer delivery policy is deliver ${policy}, but optional start ${start} is also set`)
const notSet = (policy: string, missing: string) => policyError(`consumer delivery policy is deliver ${policy}, but optional ${missing} is not set`)

/** nats-server's checkConsumerCfg on a defaulted configuration. */
export const checkConsumerConfig = (config: ConsumerConfig, stream: StreamConfig): ApiError | undefined => {
  if (config.num_replicas > 0 && config.num_replicas > stream.num_replicas) return apiError("JSConsumerReplicasExceedsStream")
  if (config.num_replicas < 0) return apiError("JSReplicasCountCannotBeNegative")
  const backoffLength = config.backoff?.length ?? 0
  if (backoffLength > 0 && config.max_deliver !== -1 && backoffLength > config.max_deliver) return apiError("JSConsumerMaxDeliverBackoffErr")
  if (Buffer.byteLength(config.description ?? "") > maxDescriptionLength) {
    return apiError("JSConsumerDescriptionTooLongErrF", { max: maxDescriptionLength })
  }
  const deliverSubject = config.deliver_subject
  if (deliverSubject !== undefined) {
    if (!isValidSubject(deliverSubject)) return apiError("JSConsumerInvalidDeliverSubject")
    if (!isValidLiteralSubject(deliverSubject)) return apiError("JSConsumerDeliverToWildcardsErr")
    if (stream.subjects.some((subject) => isSubsetOf(deliverSubject, subject))) return apiError("JSConsumerDeliverCycleErr")
    if ((config.max_waiting ?? 0) !== 0) return apiError("JSConsumerPushMaxWaitingErr")
    if ((config.max_ack_pending ?? 0) > 0 && config.ack_policy === "none") return apiError("JSConsumerMaxPendingAckPolicyRequiredErr")
    if ((config.idle_heartbeat ?? 0) > 0 && (config.idle_heartbeat ?? 0) < 100_000_000) return apiError("JSConsumerSmallHeartbeatErr")
  } else {
    if (config.ack_policy === "none" && stream.retention === "workqueue") return apiError("JSConsumerPullRequiresAckErr")
    if ((config.rate_limit_bps ?? 0) > 0) return apiError("JSConsumerPullWithRateLimitErr")
    if ((config.max_waiting ?? 0) < 0) return apiError("JSConsumerMaxWaitingNegativeErr")
    if ((config.idle_heartbeat ?? 0) > 0) return apiError("JSConsumerHBRequiresPushErr")
    if (config.flow_control) return apiError("JSConsumerFCRequiresPushErr")
    if ((config.max_batch ?? 0) < 0) return apiError("JSConsumerMaxRequestBatchNegativeErr")
    if ((config.max_expires ?? 0) !== 0 && (config.max_expires ?? 0) < 1_000_000) return apiError("JSConsumerMaxRequestExpiresTooSmall")
  }
  const streamMaxAckPending = stream.consumer_limits.max_ack_pending ?? 0
  if (streamMaxAckPending > 0 && (config.max_ack_pending ?? 0) > streamMaxAckPending) {
    return apiError("JSConsumerMaxPendingAckExcessErrF", { limit: streamMaxAckPending })
  }
  const streamInactive = stream.consumer_limits.inactive_threshold ?? 0
  if (streamInactive > 0 && (config.inactive_threshold ?? 0) > streamInactive) {
    return apiError("JSConsumerInactiveThresholdExcess", { limit: formatGoDuration(streamInactive) })
  }
  if (config.direct) {
    if (deliverSubject === undefined) return apiError("JSConsumerDirectRequiresPushErr")
    if (isDurable(config)) return apiError("JSConsumerDirectRequiresEphemeralErr")
  }
  if (config.filter_subject !== undefined && config.filter_subjects !== undefined) return apiError("JSConsumerDuplicateFilterSubjects")
  if (config.filter_subject !== undefined && !isValidSubject(config.filter_subject)) {
    return apiError("JSStreamInvalidConfigF", { err: "invalid subject" })
  }
  for (const filter of config.filter_subjects ?? []) if (filter === "") return apiError("JSConsumerEmptyFilter")
  const filters = filtersOf(config)
  for (const filter of filters) {
    if (!isValidSubject(filter)) return apiError("JSStreamInvalidConfigF", { err: "invalid subject" })
    for (const other of filters) {
      if (other !== filter && subjectsOverlap(filter, other)) return apiError("JSConsumerOverlappingSubjectFilters")
    }
  }
  const hasStartSeq = (config.opt_start_seq ?? 0) > 0
  const hasStartTime = config.opt_start_time !== undefined
  switch (config.deliver_policy) {
    case "all":
    case "last":
    case "new":
      if (hasStartSeq) return badStart(config.deliver_policy, "sequence")
      if (hasStartTime) return badStart(config.deliver_policy, "time")
      break
    case "last_per_subject":
      if (hasStartSeq) return badStart("last per subject", "sequence")
      if (hasStartTime) return badStart("last per subject", "time")
      if (filters.length === 0) return notSet("last per subject", "filter subject")
      break
    case "by_start_sequence":
      if (!hasStartSeq) return notSet("by start sequence", "start sequence")
      if (hasStartTime) return badStart("by start sequence", "time")
      break
    case "by_start_time":
      if (!hasStartTime) return notSet("by start time", "start time")
      if (hasStartSeq) return badStart("by start time", "start sequence")
      if (parseTimestamp(config.opt_start_time ?? "") === undefined) return apiError("JSInvalidJSONErr", { err: `parsing time "${config.opt_start_time}" as RFC 3339` })
      break
  }
  if (config.sample_freq !== undefined) {
    const frequency = Number(config.sample_freq.replace(/%$/, ""))
    if (!Number.isInteger(frequency) || frequency < 0) return apiError("JSConsumerInvalidSamplingErrF", { err: `invalid sample frequency ${config.sample_freq}` })
  }
  if (config.flow_control && (config.idle_heartbeat ?? 0) === 0) return apiError("JSConsumerWithFlowControlNeedsHeartbeats")
  if (config.durable_name !== undefined && config.name !== undefined && config.name !== config.durable_name) {
    return apiError("JSConsumerCreateDurableAndNameMismatch")
  }
  let metadataLength = 0
  for (const [key, value] of Object.entries(config.metadata ?? {})) metadataLength += key.length + value.length
  if (metadataLength > maxMetadataLength) return apiError("JSConsumerMetadataLengthErrF", { limit: `${maxMetadataLength / 1024}KB` })
  return undefined
}

/** nats-server's checkNewConsumerConfig: what an update may not change. Returns the reason. */
export const checkConsumerUpdate = (old: ConsumerConfig, next: ConsumerConfig, deliverSubjectBound: boolean): string | ApiError | undefined => {
  if (old.deliver_policy !== next.deliver_policy) return "deliver policy can not be updated"
  if ((old.opt_start_seq ?? 0) !== (next.opt_start_seq ?? 0)) return "start sequence can not be updated"
  const oldTime = old.opt_start_time === undefined ? undefined : parseTimestamp(old.opt_start_time)
  const nextTime = next.opt_start_time === undefined ? undefined : parseTimestamp(next.opt_start_time)
  if (oldTime !== nextTime) return "start time can not be updated"
  if (old.ack_policy !== next.ack_policy) return "ack policy can not be updated"
  if (old.replay_policy !== next.replay_policy) return "replay policy can not be updated"
  if ((old.idle_heartbeat ?? 0) !== (next.idle_heartbeat ?? 0)) return "heart beats can not be updated"
  if ((old.flow_control ?? false) !== (next.flow_control ?? false)) return "flow control can not be updated"
  if ((old.max_waiting ?? 0) !== (next.max_waiting ?? 0)) return "max waiting can not be updated"
  if (old.deliver_subject !== next.deliver_subject) {
    if (old.deliver_subject === undefined) return "can not update pull consumer to push based"
    if (next.deliver_subject === undefined) return "can not update push consumer to pull based"
    if (deliverSubjectBound) return apiError("JSConsumerNameExistErr")
  }
  const backoffLength = next.backoff?.length ?? 0
  if (backoffLength > 0 && next.max_deliver !== -1 && backoffLength > next.max_deliver) return apiError("JSConsumerMaxDeliverBackoffErr")
  return undefined
}

/** The configuration as nats-server 2.10 serializes it (field order and omitempty rules). */
export const serializeConsumerConfig = (config: ConsumerConfig): Record<string, unknown> => {
  const order: ReadonlyArray<keyof ConsumerConfig> = [
    "durable_name", "name", "description", "deliver_policy", "opt_start_seq", "opt_start_time", "ack_policy", "ack_wait",
    "max_deliver", "backoff", "filter_subject", "filter_subjects", "replay_policy", "rate_limit_bps", "sample_freq",
    "max_waiting", "max_ack_pending", "idle_heartbeat", "flow_control", "headers_only", "max_batch", "max_expires",
    "max_bytes", "deliver_subject", "deliver_group", "inactive_threshold", "num_replicas", "mem_storage", "direct", "metadata"
  ]
  const wire: Record<string, unknown> = {}
  for (const key of order) if (config[key] !== undefined) wire[key] = config[key]
  return wire
}

export const sameConsumerConfig = (left: ConsumerConfig, right: ConsumerConfig): boolean =>
  JSON.stringify(serializeConsumerConfig(left)) === JSON.stringify(serializeConsumerConfig(right))

import { isSubsetOf, isValidSubject, subjectsOverlap } from "@nex/protocol"
import { type ApiError, apiError } from "./ApiErrors.ts"
import type { StreamConfigInput } from "./api.ts"
import type { StoreLimits } from "./store/index.ts"

/** A stream's configuration with every default applied (nats-server checkStreamCfg). Wire names. */
export interface StreamConfig {
  readonly name: string
  readonly description?: string
  readonly subjects: ReadonlyArray<string>
  readonly retention: "limits" | "interest" | "workqueue"
  readonly max_consumers: number
  readonly max_msgs: number
  readonly max_bytes: number
  readonly max_age: number
  readonly max_msgs_per_subject: number
  readonly max_msg_size: number
  readonly discard: "old" | "new"
  readonly storage: "file" | "memory"
  readonly num_replicas: number
  readonly no_ack?: boolean
  readonly duplicate_window: number
  readonly placement?: { readonly cluster?: string; readonly tags?: ReadonlyArray<string> }
  readonly compression: "none" | "s2"
  readonly first_seq?: number
  readonly allow_direct: boolean
  readonly mirror_direct: boolean
  readonly discard_new_per_subject?: boolean
  readonly sealed: boolean
  readonly deny_delete: boolean
  readonly deny_purge: boolean
  readonly allow_rollup_hdrs: boolean
  readonly consumer_limits: { readonly inactive_threshold?: number; readonly max_ack_pending?: number }
  readonly metadata?: Readonly<Record<string, string>>
}

export const maxNameLength = 255
export const maxDescriptionLength = 4096
export const maxMetadataLength = 128 * 1024
const defaultDuplicateWindow = 120_000_000_000
const minimumWindow = 100_000_000
const maxReplicas = 5

/** nats-server's isValidName: non-empty, no whitespace, '.', '*' or '>'. */
export const isValidName = (name: string): boolean => name.length > 0 && !/[\s.*>]/.test(name)

export const hasPathSeparator = (name: string): boolean => name.includes("/") || name.includes("\\")

const invalid = (text: string): ApiError => apiError("JSStreamInvalidConfigF", { err: text })

const metadataLength = (metadata: Readonly<Record<string, string>> | null | undefined): number => {
  let length = 0
  for (const [key, value] of Object.entries(metadata ?? {})) length += key.length + value.length
  return length
}

/** Server-added metadata keys (`_nats.*`) are not part of the user's configuration. */
const userMetadata = (metadata: Readonly<Record<string, string>> | null | undefined): Record<string, string> | undefined => {
  if (metadata === null || metadata === undefined) return undefined
  const kept = Object.entries(metadata).filter(([key]) => !key.startsWith("_nats."))
  return kept.length === 0 ? undefined : Object.fromEntries(kept.sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0)))
}

/**
 * Applies defaults and validates a requested configuration the way nats-server's checkStreamCfg
 * does (without the checks that need the other streams), returning the error it would send.
 */
export const normalizeStreamConfig = (input: StreamConfigInput): StreamConfig | ApiError => {
  const name = input.name ?? ""
  if (!isValidName(name)) return invalid("stream name is required and can not contain '.', '*', '>'")
  if (Buffer.byteLength(name) > maxNameLength) return invalid(`stream name is too long, maximum allowed is ${maxNameLength}`)
  if (Buffer.byteLength(input.description ?? "") > maxDescriptionLength) {
    return invalid(`stream description is too long, maximum allowed is ${maxDescriptionLength}`)
  }
  if (metadataLength(input.metadata) > maxMetadataLength) return invalid(`stream metadata exceeds maximum size of ${maxMetadataLength} bytes`)
  if (input.mirror !== null && input.mirror !== undefined) return invalid("stream mirrors are not supported by this server")
  if (input.sources !== null && input.sources !== undefined && input.sources.length > 0) return invalid("stream sources are not supported by this server")
  if (input.subject_transform !== null && input.subject_transform !== undefined) return invalid("stream subject transforms are not supported by this server")
  if (input.republish !== null && input.republish !== undefined) return invalid("stream republish is not supported by this server")
  if (input.mirror_direct === true) return invalid("stream has no mirror but does have mirror direct")
  if (input.allow_msg_ttl === true || (input.subject_delete_marker_ttl ?? 0) > 0) return invalid("per-message TTL is not supported by this server")

  const replicas = input.num_replicas === null || input.num_replicas === undefined || input.num_replicas === 0 ? 1 : input.num_replicas
  if (replicas > maxReplicas) return invalid(`maximum replicas is ${maxReplicas}`)
  if (replicas < 0) return apiError("JSReplicasCountCannotBeNegative")
  const orUnlimited = (value: number | null | undefined): number => (value === null || value === undefined || value === 0 ? -1 : value)
  const maxAge = input.max_age ?? 0
  let duplicateWindow = input.duplicate_window ?? 0
  if (duplicateWindow === 0) duplicateWindow = maxAge !== 0 && maxAge < defaultDuplicateWindow ? maxAge : defaultDuplicateWindow
  if (maxAge > 0 && maxAge < minimumWindow) return invalid("max age needs to be >= 100ms")
  if (duplicateWindow < 0) return invalid("duplicates window can not be negative")
  if (maxAge !== 0 && duplicateWindow > maxAge) return invalid("duplicates window can not be larger then max age")
  if (duplicateWindow > 0 && duplicateWindow < minimumWindow) return invalid("duplicates window needs to be >= 100ms")
  const denyPurge = input.deny_purge ?? false
  const allowRollup = input.allow_rollup_hdrs ?? false
  if (denyPurge && allowRollup) return invalid("roll-ups require the purge permission")
  const discard = input.discard ?? "old"
  const maxPerSubject = orUnlimited(input.max_msgs_per_subject)
  const discardNewPerSubject = input.discard_new_per_subject ?? false
  if (discardNewPerSubject) {
    if (discard !== "new") return invalid("discard new per subject requires discard new policy to be set")
    if (maxPerSubject <= 0) return invalid("discard new per subject requires max msgs per subject > 0")
  }

  const noAck = input.no_ack ?? false
  const subjects = input.subjects !== null && input.subjects !== undefined && input.subjects.length > 0 ? [...input.subjects] : [name]
  const seen = new Set<string>()
  for (const subject of subjects) {
    if (!isValidSubject(subject)) return invalid("invalid subject")
    if (seen.has(subject)) return invalid("duplicate subjects detected")
    if (subject === ">") {
      if (!noAck) return invalid("capturing all subjects requires no-ack to be true")
      if (replicas !== 1) return invalid("capturing all subjects requires replicas of 1")
    }
    if (!noAck && (isSubsetOf(subject, "$JS.>") || isSubsetOf(subject, "$JSC.>")) && !isSubsetOf(subject, "$JS.EVENT.>")) {
      return invalid("subjects that overlap with jetstream api require no-ack to be true")
    }
    if (!noAck && isSubsetOf(subject, "$SYS.>") && !isSubsetOf(subject, "$SYS.ACCOUNT.>")) {
      return invalid("subjects that overlap with system api require no-ack to be true")
    }
    seen.add(subject)
  }
  for (const subject of subjects) {
    for (const other of subjects) {
      if (other !== subject && subjectsOverlap(other, subject)) return invalid(`subject "${subject}" overlaps with "${other}"`)
    }
  }

  const limits = input.consumer_limits ?? {}
  const metadata = userMetadata(input.metadata)
  const config: StreamConfig = {
    name,
    ...(input.description ? { description: input.description } : {}),
    subjects,
    retention: input.retention ?? "limits",
    max_consumers: input.max_consumers === null || input.max_consumers === undefined || input.max_consumers === 0 || input.max_consumers < -1 ? -1 : input.max_consumers,
    max_msgs: orUnlimited(input.max_msgs),
    max_bytes: orUnlimited(input.max_bytes),
    max_age: maxAge,
    max_msgs_per_subject: maxPerSubject,
    max_msg_size: orUnlimited(input.max_msg_size),
    discard,
    storage: input.storage ?? "file",
    num_replicas: replicas,
    ...(noAck ? { no_ack: true } : {}),
    duplicate_window: duplicateWindow,
    ...(input.placement ? { placement: stripNullish(input.placement) } : {}),
    compression: input.compression === "s2" ? "s2" : "none",
    ...(input.first_seq ? { first_seq: input.first_seq } : {}),
    allow_direct: input.allow_direct ?? false,
    mirror_direct: false,
    ...(discardNewPerSubject ? { discard_new_per_subject: true } : {}),
    sealed: input.sealed ?? false,
    deny_delete: input.deny_delete ?? false,
    deny_purge: denyPurge,
    allow_rollup_hdrs: allowRollup,
    consumer_limits: {
      ...(limits.inactive_threshold ? { inactive_threshold: limits.inactive_threshold } : {}),
      ...(limits.max_ack_pending ? { max_ack_pending: limits.max_ack_pending } : {})
    },
    ...(metadata ? { metadata } : {})
  }
  return config
}

const stripNullish = <T extends object>(value: T): { [K in keyof T]: Exclude<T[K], null> } =>
  Object.fromEntries(Object.entries(value).filter(([, field]) => field !== null && field !== undefined)) as { [K in keyof T]: Exclude<T[K], null> }

/**
 * The checks nats-server's configUpdateCheck adds for STREAM.UPDATE; returns the config to apply
 * (sealing forces a few fields) or the error.
 */
export const checkStreamUpdate = (old: StreamConfig, next: StreamConfig): StreamConfig | ApiError => {
  if (next.name !== old.name) return invalid("stream configuration name must match original")
  if (next.max_consumers !== old.max_consumers) return invalid("stream configuration update can not change MaxConsumers")
  if (next.storage !== old.storage) return invalid("stream configuration update can not change storage type")
  if (next.retention !== old.retention && (old.retention === "workqueue" || next.retention === "workqueue")) {
    return invalid("stream configuration update can not change retention policy to/from workqueue")
  }
  if (!next.sealed && old.sealed) return invalid("stream configuration update can not unseal a sealed stream")
  if (!next.deny_delete && old.deny_delete) return invalid("stream configuration update can not cancel deny message deletes")
  if (!next.deny_purge && old.deny_purge) return invalid("stream configuration update can not cancel deny purge")
  if (next.num_replicas !== old.num_replicas && next.num_replicas > 1) return apiError("JSStreamReplicasNotSupportedErr")
  if (next.sealed) {
    return { ...next, max_age: 0, discard: "new", deny_delete: true, deny_purge: true, allow_rollup_hdrs: false }
  }
  return next
}

/** The configuration as nats-server 2.10 serializes it: fixed field order, its omitempty rules. */
export const serializeStreamConfig = (config: StreamConfig): Record<string, unknown> => {
  const wire: Record<string, unknown> = { name: config.name }
  if (config.description) wire.description = config.description
  wire.subjects = config.subjects
  wire.retention = config.retention
  wire.max_consumers = config.max_consumers
  wire.max_msgs = config.max_msgs
  wire.max_bytes = config.max_bytes
  wire.max_age = config.max_age
  wire.max_msgs_per_subject = config.max_msgs_per_subject
  wire.max_msg_size = config.max_msg_size
  wire.discard = config.discard
  wire.storage = config.storage
  wire.num_replicas = config.num_replicas
  if (config.no_ack) wire.no_ack = true
  wire.duplicate_window = config.duplicate_window
  if (config.placement) wire.placement = config.placement
  wire.compression = config.compression
  if (config.first_seq) wire.first_seq = config.first_seq
  wire.allow_direct = config.allow_direct
  wire.mirror_direct = config.mirror_direct
  if (config.discard_new_per_subject) wire.discard_new_per_subject = true
  wire.sealed = config.sealed
  wire.deny_delete = config.deny_delete
  wire.deny_purge = config.deny_purge
  wire.allow_rollup_hdrs = config.allow_rollup_hdrs
  wire.consumer_limits = config.consumer_limits
  if (config.metadata) wire.metadata = config.metadata
  return wire
}

/** Two configurations are the same when they serialize the same (create is idempotent on this). */
export const sameStreamConfig = (left: StreamConfig, right: StreamConfig): boolean =>
  JSON.stringify(serializeStreamConfig(left)) === JSON.stringify(serializeStreamConfig(right))

/** The limits the store enforces for this configuration. */
export const storeLimitsOf = (config: StreamConfig): StoreLimits => ({
  maxMsgs: config.max_msgs,
  maxBytes: config.max_bytes,
  maxAgeMs: config.max_age / 1e6,
  maxMsgsPerSubject: config.max_msgs_per_subject,
  maxMsgSize: config.max_msg_size,
  discard: config.discard,
  discardNewPerSubject: config.discard_new_per_subject === true
})

import type { FilterInput } from "./SubjectFilter.ts"

/** A message as stored in a stream. */
export interface StoredMessage {
  readonly seq: number
  readonly subject: string
  readonly headers: Uint8Array | undefined
  readonly data: Uint8Array
  /**
   * Nanoseconds since the Unix epoch, as a float64: exact integers, to within 256 ns at today's
   * dates. Format with BigInt(timestamp) for RFC 3339 nanosecond times and ack subjects.
   */
  readonly timestamp: number
}

/**
 * How a read hands out message bytes. "copy" (the default): bytes later store calls leave alone
 * (a memory store hands out the ones it keeps). "lend": possibly views into a read buffer shared
 * by every store, valid only until the next call into any store; use them at once, copy what you
 * keep. Delivery lends, so reading a large object allocates nothing per message.
 */
export type ReadMode = "copy" | "lend"

/** Stream limits as the store enforces them; a value ≤ 0 means unlimited. */
export interface StoreLimits {
  readonly maxMsgs: number
  readonly maxBytes: number
  readonly maxAgeMs: number
  readonly maxMsgsPerSubject: number
  /** Largest headers + payload accepted, in bytes. */
  readonly maxMsgSize: number
  readonly discard: "old" | "new"
  /** With discard "new": refuse a message on a subject already at maxMsgsPerSubject. */
  readonly discardNewPerSubject: boolean
}

export const noLimits: StoreLimits = {
  maxMsgs: 0,
  maxBytes: 0,
  maxAgeMs: 0,
  maxMsgsPerSubject: 0,
  maxMsgSize: 0,
  discard: "old",
  discardNewPerSubject: false
}

/** The `state` block of STREAM.INFO (without consumer_count, which the stream layer owns). */
export interface StoreState {
  readonly messages: number
  /** Accounting size, as nats-server computes it for the store kind. */
  readonly bytes: number
  /** 0 on a never-written store; last + 1 when empty after a purge. */
  readonly firstSeq: number
  /** Nanoseconds since the epoch of the first message; 0 when empty. */
  readonly firstTs: number
  /** The last sequence handed out; never decreases. */
  readonly lastSeq: number
  readonly lastTs: number
  readonly numSubjects: number
  /** Gaps between first and last. */
  readonly numDeleted: number
}

/** Why an append was refused; the JetStream layer maps these to API errors. */
export type AppendRejection = "maxMsgs" | "maxBytes" | "maxMsgsPerSubject" | "maxMsgSize" | "storeFailed" | "storeClosed"

/** nats-server's texts for the rejections (JetStream error 10077 / 10054 descriptions). */
export const appendRejectionText: Readonly<Record<AppendRejection, string>> = {
  maxMsgs: "maximum messages exceeded",
  maxBytes: "maximum bytes exceeded",
  maxMsgsPerSubject: "maximum messages per subject exceeded",
  maxMsgSize: "message size exceeds maximum allowed",
  storeFailed: "store failed",
  storeClosed: "store closed"
}

/** An append the store took. It is durable once durableSeq() reaches `seq` (the listener is told). */
export interface Appended {
  readonly ok: true
  readonly seq: number
  readonly timestamp: number
}

export interface Rejected {
  readonly ok: false
  readonly reason: AppendRejection
  readonly description: string
}

export type AppendResult = Appended | Rejected

/** Told, synchronously, as a store's appends become durable, so acks wait for no promise. */
export interface DurabilityListener {
  /** Every append up to and including `seq` is now as durable as the store's policy promises. */
  durableThrough(seq: number): void
  /** The store failed: appends not durable by now never will be. */
  failed(error: Error): void
}

export interface PurgeRequest {
  /** Only messages on subjects matching this (wildcards allowed). */
  readonly subject?: string | undefined
  /** Only messages with a sequence below this. */
  readonly upToSeq?: number | undefined
  /** Keep this many of the newest (matching) messages. */
  readonly keep?: number | undefined
}

/**
 * The storage under one stream. Every method is synchronous except the ones that wait for the
 * disk; the data plane calls it directly.
 */
export interface MessageStore {
  readonly kind: "memory" | "file"
  /** Assigns the next sequence (synchronously) and stores the message, or refuses it. */
  append(subject: string, headers: Uint8Array | undefined, data: Uint8Array, timestamp?: number): AppendResult
  /** The message at `seq`, if it is there and reads back intact. */
  get(seq: number, mode?: ReadMode): StoredMessage | undefined
  /** The first sequence ≥ fromSeq whose subject matches, without loading any payload. */
  nextMatchingSeq(fromSeq: number, filter?: FilterInput): number | undefined
  /** The first sequence ≥ fromSeq of a message with headers, without loading any (e.g. to find Nats-Msg-Ids). */
  nextSeqWithHeaders(fromSeq: number): number | undefined
  /** The first readable message ≥ fromSeq whose subject matches. */
  nextMatching(fromSeq: number, filter?: FilterInput, mode?: ReadMode): StoredMessage | undefined
  /** The sequence of the newest message matching `filter` (wildcards allowed), or 0. */
  lastSeqBySubject(filter: FilterInput): number
  lastBySubject(filter: FilterInput, mode?: ReadMode): StoredMessage | undefined
  /** The last sequence of every subject matching `filter`, ascending (last_per_subject, multi_last). */
  lastSeqsBySubject(filter?: FilterInput): number[]
  /** The first sequence whose timestamp is ≥ `timestamp` (ns), or undefined. */
  firstSeqAtOrAfter(timestamp: number): number | undefined
  /** Removes one message; `erase` also overwrites its bytes. False if it was not there. */
  delete(seq: number, options?: { readonly erase?: boolean }): boolean
  /** Removes messages as STREAM.PURGE does; returns how many. */
  purge(request?: PurgeRequest): number
  /** Removes every message below `seq`; past the end, the next append gets `seq`. */
  compact(seq: number): number
  /** Message count per subject, for subjects matching `filter`. */
  subjectsState(filter?: FilterInput): Map<string, number>
  /** How many messages ≥ fromSeq match; with lastPerSubject, how many subjects have their last there. */
  numPending(fromSeq: number, filter?: FilterInput, lastPerSubject?: boolean): number
  state(): StoreState
  /** Sequences between first and last with no message (deleted_details). */
  deletedSequences(): number[]
  readonly limits: StoreLimits
  /** Applies new limits at once (messages beyond them are dropped). */
  updateLimits(limits: StoreLimits): void
  /**
   * The last sequence that is durable. A memory store's appends are durable when `append`
   * returns; a file store's once written ("interval", "never") or once an fdatasync covers them
   * ("always").
   */
  durableSeq(): number
  /** The one listener told each time durableSeq advances (possibly inside an append), or the store fails. */
  setDurabilityListener(listener: DurabilityListener | undefined): void
  /** Resolves when everything appended or removed so far is on disk. */
  flush(): Promise<void>
  close(): Promise<void>
}

/**
 * What a durable consumer must remember across a restart: where delivery stands, the ack floor,
 * the unacknowledged deliveries and the redelivery counts. Stored as JSON next to its config.
 */
export interface ConsumerState {
  readonly delivered: { readonly consumer_seq: number; readonly stream_seq: number }
  readonly ack_floor: { readonly consumer_seq: number; readonly stream_seq: number }
  /** [stream seq, consumer seq of first delivery, delivered at (ms since epoch)] in stream order. */
  readonly pending: ReadonlyArray<readonly [number, number, number]>
  /** [stream seq, times delivered] for messages delivered more than once. */
  readonly redelivered: ReadonlyArray<readonly [number, number]>
  /** Remaining last-per-subject start list, when a restart interrupts it. */
  readonly last_per_subject?: { readonly seqs: ReadonlyArray<number>; readonly resume: number }
}

const isPair = (value: unknown): value is { consumer_seq: number; stream_seq: number } =>
  typeof value === "object" && value !== null &&
  Number.isInteger((value as { consumer_seq: unknown }).consumer_seq) &&
  Number.isInteger((value as { stream_seq: unknown }).stream_seq)

const isTupleList = (value: unknown, length: number): boolean =>
  Array.isArray(value) && value.every((entry) => Array.isArray(entry) && entry.length === length && entry.every(Number.isFinite))

/** Reads a stored state; undefined when the bytes are not a state this server wrote. */
export const decodeConsumerState = (text: string): ConsumerState | undefined => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof value !== "object" || value === null) return undefined
  const state = value as Record<string, unknown>
  if (!isPair(state.delivered) || !isPair(state.ack_floor)) return undefined
  if (!isTupleList(state.pending, 3) || !isTupleList(state.redelivered, 2)) return undefined
  return state as unknown as ConsumerState
}

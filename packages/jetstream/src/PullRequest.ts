/** One queued `CONSUMER.MSG.NEXT` request. Times are milliseconds since the epoch. */
export interface PullRequest {
  /** Wire subject the messages and statuses go to. */
  readonly reply: string
  /** Messages still wanted. */
  batch: number
  /** Bytes still allowed; 0 when the request set no limit. */
  maxBytes: number
  readonly expiresAt: number
  readonly noWait: boolean
  readonly heartbeatMs: number
  nextHeartbeatAt: number
  delivered: number
}

export interface PullRequestBody {
  readonly batch: number
  readonly expiresNs: number
  readonly maxBytes: number
  readonly noWait: boolean
  readonly heartbeatNs: number
}

const decoder = new TextDecoder()

const isWhitespace = (byte: number): boolean => byte === 32 || byte === 9 || byte === 10 || byte === 13

const integerField = (value: unknown, field: string): number => {
  if (value === undefined || value === null) return 0
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new Error(`json: cannot unmarshal ${typeof value} into Go struct field JSApiConsumerGetNextRequest.${field} of type int`)
  }
  return value
}

/**
 * Reads a pull request body as nats-server's nextReqFromMsg does: empty = one message, a bare
 * integer = a batch size, else JSON. Returns the text after `400 Bad Request - ` on failure.
 */
export const parsePullRequest = (payload: Uint8Array): PullRequestBody | { readonly error: string } => {
  let start = 0
  let end = payload.length
  while (start < end && isWhitespace(payload[start])) start++
  while (end > start && isWhitespace(payload[end - 1])) end--
  if (start === end) return { batch: 1, expiresNs: 0, maxBytes: 0, noWait: false, heartbeatNs: 0 }
  const text = decoder.decode(payload.subarray(start, end))
  if (payload[start] !== 0x7b) {
    const batch = /^[+-]?\d+$/.test(text) ? Number(text) : 1
    return { batch, expiresNs: 0, maxBytes: 0, noWait: false, heartbeatNs: 0 }
  }
  let body: Record<string, unknown>
  try {
    const parsed: unknown = JSON.parse(text)
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return { error: "json: cannot unmarshal into Go value of type JSApiConsumerGetNextRequest" }
    body = parsed as Record<string, unknown>
  } catch (error) {
    return { error: (error as Error).message }
  }
  try {
    const batch = integerField(body.batch, "batch")
    const expiresNs = integerField(body.expires, "expires")
    const maxBytes = integerField(body.max_bytes, "max_bytes")
    const heartbeatNs = integerField(body.idle_heartbeat, "idle_heartbeat")
    const noWait = body.no_wait === true
    if (heartbeatNs > 0 && heartbeatNs * 2 > expiresNs) return { error: "heartbeat value too large" }
    return { batch, expiresNs, maxBytes, noWait, heartbeatNs }
  } catch (error) {
    return { error: (error as Error).message }
  }
}

import { headers as createHeaders, type MsgHdrs } from "@nats-io/transport-node"
import type { HeaderPairs } from "./Sandbox.ts"

const encoder = new TextEncoder()

/**
 * The bytes of `data` in a buffer of their own. Copying a view into an isolate copies its whole
 * backing buffer, and a NATS client reads many messages into one buffer: without this a guest
 * could read other workloads' messages through `msg.data.buffer`.
 */
export const exactBytes = (data: Uint8Array): Uint8Array =>
  // Not data.slice(): on a Node Buffer (what the NATS client hands out) slice returns a view.
  data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : new Uint8Array(data)

/** A guest body (text is UTF-8 encoded). */
export const bytesOf = (body: string | Uint8Array | undefined): Uint8Array =>
  body === undefined ? new Uint8Array(0) : typeof body === "string" ? encoder.encode(body) : body

/** Header pairs of a NATS message (undefined when it has none). */
export const headerPairsOf = (headers: MsgHdrs | undefined): HeaderPairs | undefined => {
  if (headers === undefined) return undefined
  const pairs: Array<readonly [string, string]> = []
  for (const [name, values] of headers) for (const value of values) pairs.push([name, value])
  return pairs
}

/** NATS headers from pairs (undefined when there are none). */
export const natsHeadersOf = (pairs: HeaderPairs | undefined): MsgHdrs | undefined => {
  if (pairs === undefined || pairs.length === 0) return undefined
  const headers = createHeaders()
  for (const [name, value] of pairs) headers.append(name, value)
  return headers
}

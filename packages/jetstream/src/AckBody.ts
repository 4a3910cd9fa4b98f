import { parseGoDuration } from "./Time.ts"

/** What an ack body asks for (nats-server processAck). */
export type AckKind = "ack" | "nak" | "progress" | "next" | "term" | "unknown"

const startsWith = (body: Uint8Array, text: string): boolean => {
  if (body.length < text.length) return false
  for (let index = 0; index < text.length; index++) if (body[index] !== text.charCodeAt(index)) return false
  return true
}

/** nats-server's processAck: exact `+ACK`/`+OK`/`+WPI`, prefixes for the others. */
export const ackKind = (body: Uint8Array): AckKind => {
  if (body.length === 0) return "ack"
  if ((body.length === 4 && startsWith(body, "+ACK")) || (body.length === 3 && startsWith(body, "+OK"))) return "ack"
  if (startsWith(body, "+NXT")) return "next"
  if (startsWith(body, "-NAK")) return "nak"
  if (body.length === 4 && startsWith(body, "+WPI")) return "progress"
  if (startsWith(body, "+TERM")) return "term"
  return "unknown"
}

/** `-NAK {"delay":ns}` (nats.js) or `-NAK 5s` (Go duration); undefined for a plain NAK. */
export const nakDelay = (argument: Uint8Array): number | undefined => {
  const text = Buffer.from(argument).toString("utf8").trim()
  if (text.length === 0) return undefined
  if (text.startsWith("{")) {
    try {
      const parsed = JSON.parse(text) as { delay?: unknown }
      return typeof parsed.delay === "number" ? parsed.delay : undefined
    } catch {
      return undefined
    }
  }
  return parseGoDuration(text)
}

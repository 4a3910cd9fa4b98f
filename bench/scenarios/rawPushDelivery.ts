import { connect as connectSocket, type Socket } from "node:net"
import type { NatsConnection } from "@nats-io/transport-node"

const crlf = 0x0a
// A header block with a status line ("NATS/1.0 100 ...") rather than plain "NATS/1.0\r\n".
const statusMarker = Buffer.from("NATS/1.0 ")

/**
 * A subscriber that only frames MSG/HMSG, counts messages and answers flow-control requests: how
 * fast the server delivers, without the per-message parsing of a JetStream client.
 */
class RawReader {
  readonly socket: Socket
  private pending: Buffer = Buffer.alloc(0)
  messages = 0
  onMessage: () => void = () => {}

  constructor(socket: Socket) {
    this.socket = socket
    socket.on("data", (chunk: Buffer) => this.read(chunk))
  }

  private read(chunk: Buffer): void {
    let buffer = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
    let position = 0
    while (position < buffer.length) {
      const lineEnd = buffer.indexOf(crlf, position)
      if (lineEnd < 0) break
      const first = buffer[position]
      if (first !== 0x4d && first !== 0x48) {
        if (buffer[position + 1] === 0x49) this.socket.write("PONG\r\n")
        position = lineEnd + 1
        continue
      }
      const fields = buffer.toString("latin1", position, lineEnd - 1).split(" ")
      const total = Number(fields[fields.length - 1])
      const bodyStart = lineEnd + 1
      if (bodyStart + total + 2 > buffer.length) break
      const status = first === 0x48 && buffer.compare(statusMarker, 0, statusMarker.length, bodyStart, bodyStart + statusMarker.length) === 0
      if (!status) this.messages++
      else if (fields.length === 6 && buffer.toString("latin1", bodyStart, bodyStart + Number(fields[4])).includes("FlowControl Request")) {
        // HMSG subject sid reply headerSize totalSize: the request's reply is where the answer goes.
        this.socket.write(`PUB ${fields[3]} 0\r\n\r\n`)
      }
      position = bodyStart + total + 2
      if (!status) this.onMessage()
    }
    this.pending = position >= buffer.length ? Buffer.alloc(0) : Buffer.from(buffer.subarray(position))
  }
}

const openReader = (port: number, deliverSubject: string): Promise<RawReader> =>
  new Promise((resolve, reject) => {
    const socket = connectSocket(port, "127.0.0.1")
    socket.once("error", reject)
    socket.once("connect", () => {
      const reader = new RawReader(socket)
      socket.write(`CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true,"protocol":1}\r\nSUB ${deliverSubject} 1\r\nPING\r\n`)
      // The first PONG after our PING shows the subscription is in place.
      const ready = (chunk: Buffer) => {
        if (!chunk.includes("PONG")) return
        socket.off("data", ready)
        resolve(reader)
      }
      socket.on("data", ready)
    })
  })

/**
 * Creates on `stream` the push consumer `config` describes (delivering to a fresh subject) and
 * reads `expected` messages from it with a raw reader on `port`; seconds run from the create
 * request to the last message, as a client's keys() or watch() would count them.
 */
export const measureRawPushDelivery = async (
  connection: NatsConnection,
  port: number,
  stream: string,
  config: Record<string, unknown>,
  expected: number,
  timeoutMs: number
): Promise<number> => {
  const suffix = Math.random().toString(36).slice(2, 10)
  const name = `raw_${suffix}`
  const deliverSubject = `_RAW.${suffix}`
  const reader = await openReader(port, deliverSubject)
  let timer: NodeJS.Timeout | undefined
  try {
    const done = new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`a raw reader got ${reader.messages} of ${expected} messages in ${timeoutMs / 1000} s`)), timeoutMs)
      reader.onMessage = () => {
        if (reader.messages < expected) return
        clearTimeout(timer)
        resolve()
      }
    })
    const started = performance.now()
    const body = JSON.stringify({ stream_name: stream, config: { ...config, name, deliver_subject: deliverSubject } })
    const reply = await connection.request(`$JS.API.CONSUMER.CREATE.${stream}.${name}`, body, { timeout: timeoutMs })
    const created = reply.json<{ error?: { description?: string } }>()
    if (created.error !== undefined) throw new Error(`consumer create failed: ${created.error.description}`)
    await done
    const seconds = (performance.now() - started) / 1000
    await connection.request(`$JS.API.CONSUMER.DELETE.${stream}.${name}`, "", { timeout: timeoutMs }).catch(() => undefined)
    return seconds
  } finally {
    clearTimeout(timer)
    reader.socket.destroy()
  }
}

/** The consumer @nats-io/kv creates for keys() and watch(): ordered push, last value of each key. */
export const kvListingConsumer = (bucket: string, headersOnly: boolean): Record<string, unknown> => ({
  deliver_policy: "last_per_subject",
  ack_policy: "none",
  filter_subject: `$KV.${bucket}.>`,
  flow_control: true,
  idle_heartbeat: 30_000_000_000,
  inactive_threshold: 300_000_000_000,
  num_replicas: 1,
  max_deliver: 1,
  ...(headersOnly ? { headers_only: true } : {})
})

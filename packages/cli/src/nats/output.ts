import type { Msg, MsgHdrs } from "@nats-io/transport-node"

const clock = (now: Date): string =>
  [now.getHours(), now.getMinutes(), now.getSeconds()].map((part) => String(part).padStart(2, "0")).join(":")

/** A progress line on stderr, prefixed with the time as natscli's log lines are. */
export const logLine = (text: string): void => {
  process.stderr.write(`${clock(new Date())} ${text}\n`)
}

/** A quoted subject or name the way natscli prints it (Go's %q). */
export const quoted = (text: string): string => JSON.stringify(text)

export const headerLines = (headers: MsgHdrs | undefined): Array<string> => {
  if (headers === undefined) return []
  const lines: Array<string> = []
  for (const key of headers.keys()) {
    for (const value of headers.values(key)) lines.push(`${key}: ${value}`)
  }
  return lines
}

/** Prints a received message on stdout: natscli's `[#n] Received on ...` block, or only the body with `raw`. */
export const printMessage = (message: Msg, counter: number, raw: boolean): void => {
  const body = Buffer.from(message.data)
  if (raw) {
    process.stdout.write(Buffer.concat([body, Buffer.from("\n")]))
    return
  }
  const title = message.reply
    ? `[#${counter}] Received on ${quoted(message.subject)} with reply ${quoted(message.reply)}`
    : `[#${counter}] Received on ${quoted(message.subject)}`
  const headers = headerLines(message.headers)
  const parts = [Buffer.from(`${title}\n`)]
  if (headers.length > 0) parts.push(Buffer.from(`${headers.join("\n")}\n\n`))
  parts.push(body, Buffer.from(body.at(-1) === 0x0a ? "\n" : "\n\n"))
  process.stdout.write(Buffer.concat(parts))
}

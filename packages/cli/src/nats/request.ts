import { type Msg, type MsgHdrs, type NatsConnection, RequestError, TimeoutError } from "@nats-io/transport-node"
import { CliError, UsageError } from "./CliError.ts"
import type { CommandSpec, ParsedArguments } from "./CommandLine.ts"
import { type ConnectionSettings, openConnection } from "./connection.ts"
import { formatDuration } from "./duration.ts"
import { makeBody, makeHeaders, parseHeaderFlags, readBody } from "./message.ts"
import { headerLines, logLine, quoted } from "./output.ts"
import { assertSubject } from "./subject.ts"

export const requestSpec: CommandSpec = {
  name: "request",
  aliases: ["req"],
  summary: "Generic request-reply request utility",
  arguments: [
    { name: "subject", required: true, description: "Subject to send the request to" },
    { name: "body", required: false, description: "Request body (read from stdin when left out and stdin is not a terminal)" }
  ],
  flags: [
    { long: "header", short: "H", kind: "strings", placeholder: "KEY:VALUE", description: "Adds a header; repeatable" },
    { long: "count", kind: "integer", placeholder: "N", description: "Send this many requests one after another; {{Count}} in the body is the 1-based number" },
    { long: "raw", short: "r", kind: "boolean", description: "Show only the reply body" }
  ],
  examples: ['nats req greet "world"', 'nats request greet "world" --timeout 500ms -H "Trace:on"', "nats req time '' --raw"]
}

const sendRequest = async (
  connection: NatsConnection,
  subject: string,
  payload: Uint8Array | string,
  options: { readonly timeout: number; readonly headers: MsgHdrs | undefined }
): Promise<Msg> => {
  try {
    return await connection.request(subject, payload, options)
  } catch (error) {
    if (error instanceof RequestError && error.isNoResponders()) {
      throw new CliError(`no responders are available for subject ${quoted(subject)}`)
    }
    if (error instanceof TimeoutError) {
      throw new CliError(`timed out after ${formatDuration(options.timeout)} waiting for a reply on ${quoted(subject)}`)
    }
    throw error
  }
}

export const request = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const subject = parsed.argument("subject")!
  assertSubject(subject, { wildcards: false })
  const count = parsed.integer("count", 1)
  if (count < 1) throw new UsageError(`invalid value "${count}" for --count: expected at least 1`)
  const raw = parsed.boolean("raw")
  const headerTemplates = parseHeaderFlags(parsed.strings("header"))
  const body = await readBody(parsed.argument("body"))

  const connection = await openConnection(settings)
  try {
    for (let number = 1; number <= count; number++) {
      const values = { count: number }
      if (!raw) logLine(`Sending request on ${quoted(subject)}`)
      const started = performance.now()
      const reply = await sendRequest(connection, subject, makeBody(body, values), {
        timeout: settings.timeout,
        headers: makeHeaders(headerTemplates, values)
      })
      if (!raw) {
        logLine(`Received with rtt ${formatDuration(performance.now() - started)}`)
        const headers = headerLines(reply.headers)
        for (const line of headers) logLine(line)
        if (headers.length > 0) process.stderr.write("\n")
      }
      process.stdout.write(Buffer.concat([Buffer.from(reply.data), Buffer.from("\n")]))
    }
  } finally {
    await connection.close()
  }
}

import { headers as makeEmptyHeaders, type Msg, type MsgHdrs } from "@nats-io/transport-node"
import { CliError } from "./CliError.ts"
import type { CommandSpec, ParsedArguments } from "./CommandLine.ts"
import { type ConnectionSettings, openConnection, watchServerErrors } from "./connection.ts"
import { type HeaderTemplate, makeBody, makeHeaders, parseHeaderFlags } from "./message.ts"
import { headerLines, logLine, quoted } from "./output.ts"
import type { TemplateValues } from "./template.ts"
import { closeOnSignal } from "./signals.ts"
import { assertQueueGroup, assertSubject } from "./subject.ts"

// natscli's default group, so several `nats reply` processes share the requests.
const defaultQueue = "NATS-RPLY-22"

export const replySpec: CommandSpec = {
  name: "reply",
  aliases: [],
  summary: "Generic service reply utility",
  arguments: [
    { name: "subject", required: true, description: "Subject to answer requests on (wildcards * and > allowed)" },
    { name: "body", required: false, description: "Reply body; {{.Request}}, {{.Subject}} and {{Count}} are filled in. Left out: echo each request" }
  ],
  flags: [
    { long: "queue", short: "q", kind: "string", placeholder: "GROUP", description: `Queue group name (default ${defaultQueue})` },
    { long: "count", kind: "integer", placeholder: "N", description: "Quit after answering this many requests" },
    { long: "echo", kind: "boolean", description: "Echo back what is received" },
    { long: "header", short: "H", kind: "strings", placeholder: "KEY:VALUE", description: "Adds a header to each reply; repeatable" }
  ],
  examples: ['nats reply greet "hello {{.Request}}"', "nats reply 'weather.*' 'sunny in {{.Subject}}' --count 1", "nats reply echo --echo"]
}

const replyHeaders = (request: Msg, templates: ReadonlyArray<HeaderTemplate>, values: TemplateValues, echo: boolean): MsgHdrs | undefined => {
  const templated = makeHeaders(templates, values)
  if (!echo || request.headers === undefined) return templated
  const result = templated ?? makeEmptyHeaders()
  for (const key of request.headers.keys()) {
    for (const value of request.headers.values(key)) result.append(key, value)
  }
  return result
}

export const reply = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const subject = parsed.argument("subject")!
  assertSubject(subject, { wildcards: true })
  const queue = parsed.string("queue") ?? defaultQueue
  assertQueueGroup(queue)
  const count = parsed.integer("count", 0)
  const headerTemplates = parseHeaderFlags(parsed.strings("header"))
  const bodyArgument = parsed.argument("body")
  const echo = parsed.boolean("echo") || bodyArgument === undefined
  if (echo && !parsed.boolean("echo")) logLine("No body supplied, enabling echo mode")
  const body = Buffer.from(bodyArgument ?? "")

  const connection = await openConnection(settings)
  const serverError = watchServerErrors(connection)
  const subscription = connection.subscribe(subject, { queue, max: count > 0 ? count : undefined })
  const signals = closeOnSignal(connection)
  try {
    await connection.flush()
    // A refused subscription (permissions) is reported before claiming to listen.
    const refused = await serverError()
    if (refused !== undefined) throw new CliError(refused.message)
    logLine(`Listening on ${quoted(subject)} in group ${quoted(queue)}`)
    let received = 0
    for await (const request of subscription) {
      const number = ++received
      logLine(`[#${number}] Received on subject ${quoted(request.subject)}:`)
      for (const line of headerLines(request.headers)) logLine(line)
      process.stdout.write(Buffer.concat([Buffer.from("\n"), Buffer.from(request.data), Buffer.from("\n")]))
      if (!request.reply) {
        logLine("Could not publish reply: the message has no reply subject")
        continue
      }
      const values = { count: number, request: request.string(), subject: request.subject }
      request.respond(echo ? request.data : makeBody(body, values), { headers: replyHeaders(request, headerTemplates, values, echo) })
    }
    if (!signals.signalled() && (count === 0 || received < count)) {
      throw new CliError(`the connection to the server closed${count === 0 ? "" : ` after ${received} of ${count} requests`}`)
    }
    // Sends the last replies before closing (after a signal the connection is already closing).
    if (!signals.signalled()) await connection.flush()
  } finally {
    signals.dispose()
    await connection.close()
  }
}

import { CliError, UsageError } from "./CliError.ts"
import type { CommandSpec, ParsedArguments } from "./CommandLine.ts"
import { type ConnectionSettings, openConnection, watchServerErrors } from "./connection.ts"
import { acknowledgementLine, publishToStream } from "./jetstreamPublish.ts"
import { type HeaderTemplate, makeBody, makeHeaders, parseHeaderFlags, readBody } from "./message.ts"
import { logLine, quoted } from "./output.ts"
import { assertSubject } from "./subject.ts"

export const publishSpec: CommandSpec = {
  name: "publish",
  aliases: ["pub"],
  summary: "Generic data publish utility",
  arguments: [
    { name: "subject", required: true, description: "Subject to publish to" },
    { name: "body", required: false, description: "Message body (read from stdin when left out and stdin is not a terminal)" }
  ],
  flags: [
    { long: "reply", kind: "string", placeholder: "SUBJECT", description: "Sets a custom reply-to subject" },
    { long: "header", short: "H", kind: "strings", placeholder: "KEY:VALUE", description: "Adds a header; repeatable" },
    { long: "count", kind: "integer", placeholder: "N", description: "Publish this many messages; {{Count}} in the body is the 1-based number" },
    { long: "sleep", kind: "duration", description: "Sleep this long between messages when publishing several" },
    { long: "quiet", short: "q", kind: "boolean", description: "Print nothing on success" },
    { long: "jetstream", short: "J", kind: "boolean", description: "Publish to JetStream and wait for the stream to acknowledge each message" }
  ],
  examples: [
    'nats pub greetings "hello world"',
    'nats pub orders.new --count 10 "order {{Count}}" -H "Source:cli"',
    "echo '{\"id\":1}' | nats pub orders.new",
    'nats pub --jetstream orders.new "order-123"'
  ]
}

// Above this many messages natscli draws a progress bar; we print one summary line instead.
const perMessageLines = 20

export const publish = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const subject = parsed.argument("subject")!
  assertSubject(subject, { wildcards: false })
  const reply = parsed.string("reply")
  if (reply !== undefined) assertSubject(reply, { wildcards: false, flag: "--reply" })
  const count = parsed.integer("count", 1)
  if (count < 1) throw new UsageError(`invalid value "${count}" for --count: expected at least 1`)
  const sleep = parsed.duration("sleep", 0)
  const quiet = parsed.boolean("quiet")
  const headerTemplates = parseHeaderFlags(parsed.strings("header"))
  const body = await readBody(parsed.argument("body"))

  if (parsed.boolean("jetstream")) {
    if (reply !== undefined) throw new UsageError("--reply cannot be used with --jetstream: the stream's acknowledgement comes back on it")
    return publishJetStream({ subject, count, sleep, quiet, headerTemplates, body }, settings)
  }

  const connection = await openConnection(settings)
  const serverError = watchServerErrors(connection)
  // Like natscli, a few messages are flushed and reported one by one; many are flushed once.
  const confirm = async (): Promise<void> => {
    await connection.flush()
    const error = await serverError()
    if (error !== undefined) throw new CliError(error.message)
  }
  try {
    let bytes = 0
    for (let number = 1; number <= count; number++) {
      const values = { count: number }
      const payload = makeBody(body, values)
      const size = typeof payload === "string" ? Buffer.byteLength(payload) : payload.length
      connection.publish(subject, payload, { reply, headers: makeHeaders(headerTemplates, values) })
      bytes += size
      if (count <= perMessageLines) {
        await confirm()
        if (!quiet) logLine(`Published ${size} bytes to ${quoted(subject)}`)
      } else if (number % 1000 === 0) {
        // Bounds what the client buffers when publishing a great many messages.
        await connection.flush()
      }
      if (sleep > 0 && number < count) await new Promise((resolve) => setTimeout(resolve, sleep))
    }
    if (count > perMessageLines) {
      await confirm()
      if (!quiet) logLine(`Published ${count} messages (${bytes} bytes) to ${quoted(subject)}`)
    }
  } finally {
    await connection.close()
  }
}

interface JetStreamPublishPlan {
  readonly subject: string
  readonly count: number
  readonly sleep: number
  readonly quiet: boolean
  readonly headerTemplates: ReadonlyArray<HeaderTemplate>
  readonly body: Buffer
}

/** `nats pub --jetstream`: each message waits for its acknowledgement, reported like natscli reports it. */
const publishJetStream = async (plan: JetStreamPublishPlan, settings: ConnectionSettings): Promise<void> => {
  const connection = await openConnection(settings)
  try {
    let lastLine = ""
    for (let number = 1; number <= plan.count; number++) {
      const values = { count: number }
      const payload = makeBody(plan.body, values)
      const size = typeof payload === "string" ? Buffer.byteLength(payload) : payload.length
      const perMessage = !plan.quiet && plan.count <= perMessageLines
      if (perMessage) logLine(`Published ${size} bytes to ${quoted(plan.subject)}`)
      const acknowledgement = await publishToStream(connection, plan.subject, payload, {
        timeout: settings.timeout,
        headers: makeHeaders(plan.headerTemplates, values)
      })
      lastLine = acknowledgementLine(acknowledgement)
      if (perMessage) logLine(lastLine)
      if (plan.sleep > 0 && number < plan.count) await new Promise((resolve) => setTimeout(resolve, plan.sleep))
    }
    if (!plan.quiet && plan.count > perMessageLines) {
      logLine(`Published ${plan.count} messages to ${quoted(plan.subject)}`)
      logLine(lastLine)
    }
  } finally {
    await connection.close()
  }
}

import type { JsMsg, OrderedConsumerOptions } from "@nats-io/jetstream"
import { UsageError } from "./CliError.ts"
import type { CommandSpec, ParsedArguments } from "./CommandLine.ts"
import type { ConnectionSettings } from "./connection.ts"
import { localTime } from "./humanize.ts"
import { withJetStream } from "./jetstreamSession.ts"
import { assertJetStreamName } from "./names.ts"
import { headerLines, logLine } from "./output.ts"
import { writeBody } from "./streamBody.ts"
import { assertSubject } from "./subject.ts"

export const viewStreamSpec: CommandSpec = {
  name: "view",
  aliases: [],
  summary: "View messages in a stream, from the start, through an ephemeral ordered consumer",
  arguments: [{ name: "stream", required: true, description: "Stream name" }],
  flags: [
    { long: "count", kind: "integer", placeholder: "N", description: "Show at most this many messages (default: all of them)" },
    { long: "id", kind: "integer", placeholder: "SEQUENCE", description: "Start at a specific message sequence" },
    { long: "subject", kind: "string", placeholder: "SUBJECT", description: "Filter the stream using a subject" },
    { long: "raw", kind: "boolean", description: "Show only the message bodies" }
  ],
  examples: ["nats stream view ORDERS", "nats stream view ORDERS --count 5 --subject orders.new"]
}

// Headers the server adds to direct and replayed messages; natscli leaves them out of the view.
const serverHeaders = new Set(["Nats-Subject", "Nats-Stream", "Nats-Sequence", "Nats-Time-Stamp", "Nats-Num-Pending", "Nats-Last-Sequence"])

const printMessage = (message: JsMsg, raw: boolean): void => {
  if (raw) {
    process.stdout.write(Buffer.concat([Buffer.from(message.data), Buffer.from("\n")]))
    return
  }
  const headers = headerLines(message.headers).filter((line) => !serverHeaders.has(line.slice(0, line.indexOf(":"))))
  const title = `[${message.seq}] Subject: ${message.subject} Received: ${localTime(message.time)}\n`
  process.stdout.write(headers.length === 0 ? title : `${title}\n${headers.map((line) => `  ${line}\n`).join("")}`)
  writeBody(message.data)
}

export const viewStream = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const name = parsed.argument("stream")!
  assertJetStreamName("stream", name)
  const count = parsed.integer("count", 0)
  const start = parsed.integer("id", 0)
  const subject = parsed.string("subject")
  if (subject !== undefined) assertSubject(subject, { wildcards: true, flag: "--subject" })
  if (parsed.has("count") && count < 1) throw new UsageError(`invalid value "${count}" for --count: expected at least 1`)
  const raw = parsed.boolean("raw")

  await withJetStream(settings, async ({ client }) => {
    const options: Partial<OrderedConsumerOptions> = {}
    if (start > 0) options.opt_start_seq = start
    if (subject !== undefined) options.filter_subjects = subject
    const consumer = await client.consumers.get(name, options)
    try {
      // The create response says how many messages the view will hold; an empty view ends at once.
      const { num_pending: pending } = await consumer.info(true)
      if (pending > 0) {
        const messages = await consumer.consume({ max_messages: Math.min(count > 0 ? count : pending, 256), expires: Math.max(1000, settings.timeout) })
        let shown = 0
        for await (const message of messages) {
          printMessage(message, raw)
          shown++
          if (message.info.pending === 0 || shown === count) break
        }
        await messages.close()
      }
    } finally {
      // Ordered consumers are ephemeral; deleting it now keeps `consumer ls` clean.
      await consumer.delete().catch(() => false)
    }
    if (!raw) logLine("Reached apparent end of data")
  })
}

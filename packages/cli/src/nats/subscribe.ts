import { CliError } from "./CliError.ts"
import type { CommandSpec, ParsedArguments } from "./CommandLine.ts"
import { type ConnectionSettings, openConnection, watchServerErrors } from "./connection.ts"
import { logLine, printMessage, quoted } from "./output.ts"
import { closeOnSignal } from "./signals.ts"
import { assertQueueGroup, assertSubject } from "./subject.ts"

export const subscribeSpec: CommandSpec = {
  name: "subscribe",
  aliases: ["sub"],
  summary: "Generic subscription client",
  arguments: [{ name: "subject", required: true, description: "Subject to subscribe to (wildcards * and > allowed)" }],
  flags: [
    { long: "queue", kind: "string", placeholder: "GROUP", description: "Subscribe to a named queue group" },
    { long: "count", kind: "integer", placeholder: "N", description: "Quit after receiving this many messages" },
    { long: "raw", short: "r", kind: "boolean", description: "Show only the message bodies" }
  ],
  examples: ["nats sub greetings", "nats sub 'orders.>' --queue workers --count 10", "nats sub events --raw"]
}

export const subscribe = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const subject = parsed.argument("subject")!
  assertSubject(subject, { wildcards: true })
  const queue = parsed.string("queue")
  if (queue !== undefined) assertQueueGroup(queue)
  const count = parsed.integer("count", 0)
  const raw = parsed.boolean("raw")

  const connection = await openConnection(settings)
  const serverError = watchServerErrors(connection)
  const subscription = connection.subscribe(subject, { queue, max: count > 0 ? count : undefined })
  const signals = closeOnSignal(connection)
  try {
    await connection.flush()
    // A refused subscription (permissions) is reported before claiming to listen.
    const refused = await serverError()
    if (refused !== undefined) throw new CliError(refused.message)
    logLine(`Subscribing on ${subject}${queue === undefined ? "" : ` in group ${quoted(queue)}`}`)
    let received = 0
    for await (const message of subscription) printMessage(message, ++received, raw)
    // The loop also ends when the connection is lost for good; only a signal or --count is a clean end.
    if (!signals.signalled() && (count === 0 || received < count)) {
      throw new CliError(`the connection to the server closed${count === 0 ? "" : ` after ${received} of ${count} messages`}`)
    }
  } finally {
    signals.dispose()
    await connection.close()
  }
}

import type { ConsumerInfo, JsMsg } from "@nats-io/jetstream"
import { CliError, UsageError } from "./CliError.ts"
import type { Command } from "./Command.ts"
import type { CommandGroupSpec, CommandSpec, ParsedArguments } from "./CommandLine.ts"
import { confirmed } from "./confirm.ts"
import type { ConnectionSettings } from "./connection.ts"
import { consumerConfigFlags, newConsumerConfig } from "./consumerConfig.ts"
import { renderConsumerInfo, renderConsumerTable } from "./consumerOutput.ts"
import { formatDuration } from "./duration.ts"
import { comma } from "./humanize.ts"
import { withJetStream } from "./jetstreamSession.ts"
import { printJson } from "./jsonOutput.ts"
import { assertJetStreamName } from "./names.ts"
import { headerLines } from "./output.ts"

const streamArgument = { name: "stream", required: true, description: "Stream name" }
const consumerArgument = { name: "consumer", required: true, description: "Consumer name" }
const jsonFlag = { long: "json", short: "j", kind: "boolean", description: "Produce JSON output" } as const

const names = (parsed: ParsedArguments): { readonly stream: string; readonly consumer: string } => {
  const stream = parsed.argument("stream")!
  assertJetStreamName("stream", stream)
  const consumer = parsed.argument("consumer")
  if (consumer !== undefined) assertJetStreamName("consumer", consumer)
  return { stream, consumer: consumer ?? "" }
}

const write = (text: string): void => void process.stdout.write(text)

const addSpec: CommandSpec = {
  name: "add",
  aliases: ["create", "new"],
  summary: "Creates a new consumer (a pull consumer unless --target is given)",
  arguments: [streamArgument, consumerArgument],
  flags: consumerConfigFlags,
  examples: ["nats consumer add ORDERS processor --deliver all --ack explicit", "nats consumer add ORDERS audit --target audit.orders --deliver new"]
}

const add = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const { stream, consumer } = names(parsed)
  const config = newConsumerConfig(consumer, parsed)
  await withJetStream(settings, async ({ manager }) => {
    write(renderConsumerInfo(await manager.consumers.add(stream, config)))
  })
}

const listSpec: CommandSpec = {
  name: "ls",
  aliases: ["list"],
  summary: "List known consumers",
  arguments: [streamArgument],
  flags: [{ long: "names", short: "n", kind: "boolean", description: "Show just the consumer names" }, jsonFlag],
  examples: ["nats consumer ls ORDERS"]
}

const list = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const { stream } = names(parsed)
  await withJetStream(settings, async ({ manager }) => {
    // Looking the stream up first turns a missing stream into "stream not found".
    await manager.streams.info(stream)
    const consumers: Array<ConsumerInfo> = []
    for await (const info of manager.consumers.list(stream)) consumers.push(info)
    const consumerNames = consumers.map((info) => info.name).sort()
    if (parsed.boolean("json")) printJson(consumerNames)
    else if (parsed.boolean("names")) write(consumerNames.map((name) => `${name}\n`).join(""))
    else if (consumers.length === 0) write("No Consumers defined\n")
    else write(`${renderConsumerTable(consumers)}\n`)
  })
}

const infoSpec: CommandSpec = {
  name: "info",
  aliases: ["nfo"],
  summary: "Consumer information",
  arguments: [streamArgument, consumerArgument],
  flags: [jsonFlag],
  examples: ["nats consumer info ORDERS processor", "nats consumer info ORDERS processor --json"]
}

const info = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const { stream, consumer } = names(parsed)
  await withJetStream(settings, async ({ manager }) => {
    const result = await manager.consumers.info(stream, consumer)
    if (parsed.boolean("json")) printJson(result)
    else write(renderConsumerInfo(result))
  })
}

const removeSpec: CommandSpec = {
  name: "rm",
  aliases: ["delete", "del"],
  summary: "Removes a consumer",
  arguments: [streamArgument, consumerArgument],
  flags: [{ long: "force", short: "f", kind: "boolean", description: "Force removal without prompting" }],
  examples: ["nats consumer rm ORDERS processor -f"]
}

const remove = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const { stream, consumer } = names(parsed)
  await withJetStream(settings, async ({ manager }) => {
    await manager.consumers.info(stream, consumer)
    if (!(await confirmed("delete", `consumer ${stream} > ${consumer}`, parsed.boolean("force")))) return
    await manager.consumers.delete(stream, consumer)
  })
}

const nextSpec: CommandSpec = {
  name: "next",
  aliases: [],
  summary: "Retrieves messages from pull consumers without interactive prompts",
  arguments: [streamArgument, consumerArgument],
  flags: [
    { long: "ack", kind: "boolean", description: "Acknowledge received messages (default true; --no-ack leaves them pending)" },
    { long: "nak", kind: "boolean", description: "Perform a negative acknowledgement on the messages" },
    { long: "term", kind: "boolean", description: "Terminate the messages: they will not be redelivered" },
    { long: "raw", short: "r", kind: "boolean", description: "Show only the message bodies" },
    { long: "count", kind: "integer", placeholder: "N", description: "Number of messages to fetch, one after another (default 1)" }
  ],
  examples: ["nats consumer next ORDERS processor", "nats consumer next ORDERS processor --count 10 --no-ack"]
}

type Acknowledgement = "ack" | "nak" | "term" | "none"

const acknowledgement = (parsed: ParsedArguments): Acknowledgement => {
  const nak = parsed.boolean("nak")
  const term = parsed.boolean("term")
  const ack = parsed.boolean("ack", !nak && !term)
  if ([ack, nak, term].filter(Boolean).length > 1) throw new UsageError("choose one of --ack, --nak and --term")
  return ack ? "ack" : nak ? "nak" : term ? "term" : "none"
}

const clock = (now: Date): string => [now.getHours(), now.getMinutes(), now.getSeconds()].map((part) => String(part).padStart(2, "0")).join(":")

const printNext = (message: JsMsg, raw: boolean): void => {
  if (raw) {
    write(`${message.string()}\n`)
    return
  }
  const { info } = message
  const parts = [
    `[${clock(new Date())}] subj: ${message.subject} / tries: ${info.deliveryCount} / cons seq: ${info.deliverySequence} / str seq: ${info.streamSequence} / pending: ${comma(info.pending)}\n`
  ]
  const headers = headerLines(message.headers)
  if (headers.length > 0) parts.push(`\nHeaders:\n\n${headers.map((line) => `  ${line}\n`).join("")}\nData:\n\n`)
  parts.push(`\n${message.string()}\n`)
  write(parts.join(""))
}

const acknowledgedLines: Record<Acknowledgement, string> = {
  ack: "\nAcknowledged message\n\n",
  nak: "\nNegative Acknowledged message\n\n",
  term: "\nTerminated message\n",
  none: ""
}

const next = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const { stream, consumer } = names(parsed)
  const count = parsed.integer("count", 1)
  if (count < 1) throw new UsageError(`invalid value "${count}" for --count: expected at least 1`)
  const reply = acknowledgement(parsed)
  const raw = parsed.boolean("raw")
  await withJetStream(settings, async ({ client, connection }) => {
    const pullConsumer = await client.consumers.get(stream, consumer).catch((error: unknown) => {
      if (error instanceof Error && error.message === "not a pull consumer") throw new CliError(`consumer "${consumer}" is not a Pull consumer`)
      throw error
    })
    for (let number = 0; number < count; number++) {
      // The client's pull requests must live at least a second.
      const message = await pullConsumer.next({ expires: Math.max(1000, settings.timeout) })
      if (message === null) throw new CliError(`no message received within ${formatDuration(Math.max(1000, settings.timeout))}`)
      printNext(message, raw)
      if (reply === "ack") message.ack()
      else if (reply === "nak") message.nak()
      else if (reply === "term") message.term()
      await connection.flush()
      if (!raw) write(acknowledgedLines[reply])
    }
  })
}

export const consumerCommands: ReadonlyArray<Command> = [
  { spec: addSpec, run: add },
  { spec: listSpec, run: list },
  { spec: infoSpec, run: info },
  { spec: removeSpec, run: remove },
  { spec: nextSpec, run: next }
]

export const consumerGroup: CommandGroupSpec = {
  name: "consumer",
  aliases: ["con", "obs", "c"],
  summary: "JetStream consumer management",
  commands: consumerCommands.map((command) => command.spec)
}

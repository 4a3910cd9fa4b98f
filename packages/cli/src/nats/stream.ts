import type { PurgeOpts, StoredMsg, StreamInfo } from "@nats-io/jetstream"
import { CliError, UsageError } from "./CliError.ts"
import type { Command } from "./Command.ts"
import type { CommandGroupSpec, CommandSpec, ParsedArguments } from "./CommandLine.ts"
import { confirmed } from "./confirm.ts"
import type { ConnectionSettings } from "./connection.ts"
import { goTimeString, parseTimestamp } from "./humanize.ts"
import { withJetStream } from "./jetstreamSession.ts"
import { printJson } from "./jsonOutput.ts"
import { formatHumanDuration } from "./longDuration.ts"
import { assertJetStreamName } from "./names.ts"
import { headerLines } from "./output.ts"
import { writeBody } from "./streamBody.ts"
import { configDifferences, editedStreamConfig, newStreamConfig, streamConfigFlags } from "./streamConfig.ts"
import { renderStreamInfo, renderStreamTable } from "./streamOutput.ts"
import { viewStream, viewStreamSpec } from "./streamView.ts"
import { assertSubject } from "./subject.ts"

const streamArgument = { name: "stream", required: true, description: "Stream name" }
const forceFlag = { long: "force", short: "f", kind: "boolean", description: "Act without asking for confirmation" } as const
const jsonFlag = { long: "json", short: "j", kind: "boolean", description: "Produce JSON output" } as const

const streamName = (parsed: ParsedArguments): string => {
  const name = parsed.argument("stream")!
  assertJetStreamName("stream", name)
  return name
}

const write = (text: string): void => void process.stdout.write(text)

const addSpec: CommandSpec = {
  name: "add",
  aliases: ["create", "new"],
  summary: "Create a new stream",
  arguments: [streamArgument],
  flags: [
    ...streamConfigFlags("add"),
    { long: "defaults", kind: "boolean", description: "Accept default values for all prompts (missing values always take natscli's defaults here)" }
  ],
  examples: [
    'nats stream add ORDERS --subjects "orders.>" --storage file --retention limits',
    'nats stream add EVENTS --subjects "events.*" --storage memory --max-msgs 1000 --max-age 1h --discard new'
  ]
}

const add = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const config = newStreamConfig(streamName(parsed), parsed)
  await withJetStream(settings, async ({ manager }) => {
    const info = await manager.streams.add(config)
    if (parsed.boolean("json")) {
      printJson(info)
      return
    }
    write(`Stream ${config.name} was created\n\n`)
    write(renderStreamInfo(info))
  })
}

const editSpec: CommandSpec = {
  name: "edit",
  aliases: ["update"],
  summary: "Edits an existing stream",
  arguments: [streamArgument],
  flags: [...streamConfigFlags("edit"), { ...forceFlag, description: "Accepted for natscli compatibility; edits never ask here" }],
  examples: ["nats stream edit ORDERS --max-msgs 10000", 'nats stream edit ORDERS --subjects "orders.>,returns.>"']
}

const edit = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const name = streamName(parsed)
  await withJetStream(settings, async ({ manager }) => {
    const current = await manager.streams.info(name)
    const edited = editedStreamConfig(current.config, parsed)
    const differences = configDifferences(current.config, edited)
    if (differences.length === 0) {
      write("No difference in configuration\n")
      return
    }
    const info = await manager.streams.update(name, edited)
    if (parsed.boolean("json")) {
      printJson(info)
      return
    }
    write(`Differences (-old +new):\n${differences.map((line) => `${line}\n`).join("")}`)
    write(`Stream ${name} was updated\n\n`)
    write(renderStreamInfo(info))
  })
}

const listSpec: CommandSpec = {
  name: "ls",
  aliases: ["list", "l"],
  summary: "List all known streams",
  arguments: [],
  flags: [
    { long: "subject", kind: "string", placeholder: "SUBJECT", description: "Limit the list to streams with matching subjects" },
    { long: "names", short: "n", kind: "boolean", description: "Show just the stream names" },
    jsonFlag
  ],
  examples: ["nats stream ls", "nats stream ls --subject 'orders.*' --names"]
}

const list = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const subject = parsed.string("subject")
  if (subject !== undefined) assertSubject(subject, { wildcards: true, flag: "--subject" })
  await withJetStream(settings, async ({ manager }) => {
    const streams: Array<StreamInfo> = []
    for await (const info of manager.streams.list(subject)) streams.push(info)
    const names = streams.map((info) => info.config.name).sort()
    if (parsed.boolean("json")) printJson(names)
    else if (parsed.boolean("names")) write(names.map((name) => `${name}\n`).join(""))
    else if (streams.length === 0) write("No Streams defined\n")
    else write(`${renderStreamTable(streams, subject)}\n`)
  })
}

const infoSpec: CommandSpec = {
  name: "info",
  aliases: ["nfo", "i"],
  summary: "Stream information",
  arguments: [streamArgument],
  flags: [jsonFlag, { long: "state", kind: "boolean", description: "Shows only the stream state" }],
  examples: ["nats stream info ORDERS", "nats stream info ORDERS --json"]
}

const info = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const name = streamName(parsed)
  await withJetStream(settings, async ({ manager }) => {
    const result = await manager.streams.info(name)
    if (parsed.boolean("json")) printJson(result)
    else write(`${renderStreamInfo(result, { stateOnly: parsed.boolean("state") })}\n`)
  })
}

const removeSpec: CommandSpec = {
  name: "rm",
  aliases: ["delete", "del"],
  summary: "Removes a stream",
  arguments: [streamArgument],
  flags: [forceFlag],
  examples: ["nats stream rm ORDERS -f"]
}

const remove = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const name = streamName(parsed)
  await withJetStream(settings, async ({ manager }) => {
    // Looking the stream up first reports a missing stream before asking about it.
    await manager.streams.info(name)
    if (!(await confirmed("delete", `stream ${name}`, parsed.boolean("force")))) return
    await manager.streams.delete(name)
  })
}

const purgeSpec: CommandSpec = {
  name: "purge",
  aliases: [],
  summary: "Bulk removes messages from a stream",
  arguments: [streamArgument],
  flags: [
    { long: "subject", kind: "string", placeholder: "SUBJECT", description: "Limits the purge to a specific subject" },
    { long: "seq", kind: "integer", placeholder: "SEQUENCE", description: "Purge up to but not including a specific message sequence" },
    { long: "keep", kind: "integer", placeholder: "MESSAGES", description: "Keeps a certain number of messages after the purge" },
    jsonFlag,
    forceFlag
  ],
  examples: ["nats stream purge ORDERS -f", "nats stream purge ORDERS --subject orders.new --keep 10 -f"]
}

const purgeOptions = (parsed: ParsedArguments): PurgeOpts | undefined => {
  const subject = parsed.string("subject")
  if (subject !== undefined) assertSubject(subject, { wildcards: true, flag: "--subject" })
  const sequence = parsed.integer("seq", 0)
  const keep = parsed.integer("keep", 0)
  if (sequence > 0 && keep > 0) throw new UsageError("--seq and --keep cannot be combined when purging")
  if (subject === undefined && sequence === 0 && keep === 0) return undefined
  const options: Record<string, unknown> = {}
  if (subject !== undefined) options.filter = subject
  if (sequence > 0) options.seq = sequence
  if (keep > 0) options.keep = keep
  return options as PurgeOpts
}

const purge = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const name = streamName(parsed)
  const options = purgeOptions(parsed)
  await withJetStream(settings, async ({ manager }) => {
    await manager.streams.info(name)
    if (!(await confirmed("purge", `stream ${name}`, parsed.boolean("force")))) return
    const response = await manager.streams.purge(name, options)
    const after = await manager.streams.info(name)
    if (parsed.boolean("json")) {
      printJson(after)
      return
    }
    write(`Purged ${response.purged} messages from ${name}\n\n`)
    write(renderStreamInfo(after, { stateOnly: true }))
  })
}

const getSpec: CommandSpec = {
  name: "get",
  aliases: [],
  summary: "Retrieves a specific message from a stream",
  arguments: [streamArgument, { name: "id", required: false, description: "Message sequence to retrieve" }],
  flags: [
    { long: "last-for", short: "S", kind: "string", placeholder: "SUBJECT", description: "Retrieves the last message for a specific subject" },
    jsonFlag
  ],
  examples: ["nats stream get ORDERS 1", "nats stream get ORDERS --last-for orders.new"]
}

const printStoredMessage = (stream: string, message: StoredMsg): void => {
  const age = formatHumanDuration(Math.max(0, Date.now() - parseTimestamp(message.timestamp)))
  const parts = [`Item: ${stream}#${message.seq} received ${goTimeString(message.timestamp)} (${age}) on Subject ${message.subject}\n\n`]
  const headers = headerLines(message.header)
  if (headers.length > 0) parts.push(`Headers:\n${headers.map((line) => `  ${line}\n`).join("")}\n`)
  write(parts.join(""))
  writeBody(message.data)
}

const get = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const name = streamName(parsed)
  const id = parsed.argument("id")
  const lastFor = parsed.string("last-for")
  if (id !== undefined && !/^\d+$/.test(id)) throw new UsageError(`invalid message sequence "${id}": expected a whole number`)
  if (lastFor !== undefined) assertSubject(lastFor, { wildcards: true, flag: "--last-for" })
  if ((id === undefined) === (lastFor === undefined)) throw new UsageError("give either a message sequence or --last-for SUBJECT")
  await withJetStream(settings, async ({ manager }) => {
    const message = await manager.streams.getMessage(name, id !== undefined ? { seq: Number(id) } : { last_by_subj: lastFor! })
    if (message === null) throw new CliError("no message found")
    if (parsed.boolean("json")) {
      printJson({
        subject: message.subject,
        seq: message.seq,
        hdrs: headerLines(message.header).length > 0 ? Buffer.from(message.header.toString()).toString("base64") : undefined,
        data: Buffer.from(message.data).toString("base64"),
        time: message.timestamp
      })
      return
    }
    printStoredMessage(name, message)
  })
}

export const streamCommands: ReadonlyArray<Command> = [
  { spec: addSpec, run: add },
  { spec: listSpec, run: list },
  { spec: infoSpec, run: info },
  { spec: editSpec, run: edit },
  { spec: removeSpec, run: remove },
  { spec: purgeSpec, run: purge },
  { spec: getSpec, run: get },
  { spec: viewStreamSpec, run: viewStream }
]

export const streamGroup: CommandGroupSpec = {
  name: "stream",
  aliases: ["str", "st", "s"],
  summary: "JetStream stream management",
  commands: streamCommands.map((command) => command.spec)
}

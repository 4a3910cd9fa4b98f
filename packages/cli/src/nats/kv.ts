import { JetStreamApiError, type StreamInfo } from "@nats-io/jetstream"
import { type KvEntry, Kvm } from "@nats-io/kv"
import { CliError, UsageError } from "./CliError.ts"
import type { Command } from "./Command.ts"
import type { CommandGroupSpec, CommandSpec, ParsedArguments } from "./CommandLine.ts"
import { assertBucketName } from "./bucketName.ts"
import { assertSameBucketConfig, findBucketStream, requireBucketStream } from "./bucketStream.ts"
import { confirmed } from "./confirm.ts"
import type { ConnectionSettings } from "./connection.ts"
import { withJetStream } from "./jetstreamSession.ts"
import { kvConfigFlags, kvRequest } from "./kvConfig.ts"
import { assertKey, assertKeyPattern } from "./kvKey.ts"
import { kvWatchLine, renderKvBucketTable, renderKvEntry, renderKvHistory, renderKvStatus } from "./kvOutput.ts"
import { kvStreamName, withKeyValue } from "./kvSession.ts"
import { readBody } from "./message.ts"
import { closeOnSignal } from "./signals.ts"

const bucketArgument = { name: "bucket", required: true, description: "The bucket to act on" }
const keyArgument = { name: "key", required: true, description: "The key to act on" }
const valueArgument = { name: "value", required: false, description: "The value to store, when empty reads STDIN" }
const forceFlag = { long: "force", short: "f", kind: "boolean", description: "Act without confirmation" } as const

// err_code the server answers an expected-last-subject-sequence mismatch with.
const wrongLastSequence = 10071

const write = (text: string): void => void process.stdout.write(text)

const bucketOf = (parsed: ParsedArguments): string => {
  const bucket = parsed.argument("bucket")!
  assertBucketName(bucket)
  return bucket
}

const keyOf = (parsed: ParsedArguments): string => {
  const key = parsed.argument("key")!
  assertKey(key)
  return key
}

/** The value argument, or all of stdin when it is empty and stdin is not a terminal (natscli's valOrReadVal). */
const valueOf = (parsed: ParsedArguments): Promise<Buffer> => {
  const value = parsed.argument("value")
  return readBody(value === "" ? undefined : value)
}

// A delete or purge marker is the end of a key's life: natscli (nats.go) reports it as missing.
const isLive = (entry: KvEntry | null): entry is KvEntry => entry !== null && entry.operation === "PUT"

const addSpec: CommandSpec = {
  name: "add",
  aliases: ["new"],
  summary: "Adds a new KV Store Bucket",
  arguments: [bucketArgument],
  flags: kvConfigFlags,
  examples: ["nats kv add config", "nats kv add sessions --history 5 --ttl 1h --max-value-size 1KiB --storage memory"]
}

const add = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const bucket = bucketOf(parsed)
  const request = kvRequest(parsed)
  await withJetStream(settings, async ({ client, manager }) => {
    const existing = await findBucketStream(manager, kvStreamName(bucket))
    if (existing !== null) assertSameBucketConfig(existing.config, request.expected)
    await new Kvm(client).create(bucket, request.options)
    write(renderKvStatus(bucket, await manager.streams.info(kvStreamName(bucket))))
  })
}

const putSpec: CommandSpec = {
  name: "put",
  aliases: [],
  summary: "Puts a value into a key",
  arguments: [bucketArgument, keyArgument, valueArgument],
  flags: [],
  examples: ['nats kv put config db_host "localhost"', "echo localhost | nats kv put config db_host"]
}

const put = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const bucket = bucketOf(parsed)
  const key = keyOf(parsed)
  const value = await valueOf(parsed)
  await withKeyValue(settings, bucket, async ({ kv }) => {
    await kv.put(key, value)
    // natscli echoes the value argument, an empty line when the value came from stdin.
    write(`${parsed.argument("value") ?? ""}\n`)
  })
}

const createSpec: CommandSpec = {
  name: "create",
  aliases: [],
  summary: "Puts a value into a key only if the key is new or its last operation was a delete",
  arguments: [bucketArgument, keyArgument, valueArgument],
  flags: [],
  examples: ['nats kv create config db_host "localhost"']
}

const create = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const bucket = bucketOf(parsed)
  const key = keyOf(parsed)
  const value = await valueOf(parsed)
  await withKeyValue(settings, bucket, async ({ kv }) => {
    await kv.create(key, value).catch((error: unknown) => {
      if (error instanceof JetStreamApiError && error.code === wrongLastSequence) throw new CliError("key exists")
      throw error
    })
    write(`${parsed.argument("value") ?? ""}\n`)
  })
}

const updateSpec: CommandSpec = {
  name: "update",
  aliases: [],
  summary: "Updates a key with a new value if the previous value matches the given revision",
  arguments: [bucketArgument, keyArgument, { ...valueArgument, required: true, description: "The value to store" }, { name: "revision", required: true, description: "The revision of the previous value in the bucket" }],
  flags: [],
  examples: ['nats kv update config db_host "db.internal" 1']
}

const revisionOf = (text: string, what: string): number => {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`invalid ${what} "${text}": expected a whole number of at least 1`)
  return Number(text)
}

const update = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const bucket = bucketOf(parsed)
  const key = keyOf(parsed)
  const revision = revisionOf(parsed.argument("revision")!, "revision")
  const value = await valueOf(parsed)
  await withKeyValue(settings, bucket, async ({ kv }) => {
    await kv.update(key, value, revision)
    write(`${parsed.argument("value")}\n`)
  })
}

const getSpec: CommandSpec = {
  name: "get",
  aliases: [],
  summary: "Gets a value for a key",
  arguments: [bucketArgument, keyArgument],
  flags: [
    { long: "revision", kind: "integer", placeholder: "REVISION", description: "Gets a specific revision" },
    { long: "raw", kind: "boolean", description: "Show only the value string" }
  ],
  examples: ["nats kv get config db_host", "nats kv get config db_host --raw", "nats kv get config db_host --revision 3"]
}

const get = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const bucket = bucketOf(parsed)
  const key = keyOf(parsed)
  const revision = parsed.integer("revision", 0)
  if (parsed.has("revision") && revision < 1) throw new UsageError(`invalid value "${revision}" for --revision: expected at least 1`)
  await withKeyValue(settings, bucket, async ({ kv }) => {
    const entry = await kv.get(key, revision > 0 ? { revision } : undefined)
    if (!isLive(entry)) throw new CliError("key not found")
    if (parsed.boolean("raw")) process.stdout.write(entry.value)
    else write(renderKvEntry(entry))
  })
}

const deleteSpec: CommandSpec = {
  name: "del",
  aliases: ["rm"],
  summary: "Deletes a key or, without one, the entire bucket",
  arguments: [bucketArgument, { ...keyArgument, required: false }],
  flags: [{ ...forceFlag, description: "Act without confirmation; without a terminal a key is deleted unasked, a bucket only with --force" }],
  examples: ["nats kv del config db_host", "nats kv rm config -f"]
}

const remove = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const bucket = bucketOf(parsed)
  const force = parsed.boolean("force")
  if (parsed.argument("key") === undefined) {
    await withJetStream(settings, async ({ manager }) => {
      await requireBucketStream(manager, kvStreamName(bucket))
      if (!(await confirmed("delete", `bucket ${bucket}`, force))) return
      await manager.streams.delete(kvStreamName(bucket))
    })
    return
  }
  const key = keyOf(parsed)
  await withKeyValue(settings, bucket, async ({ kv }) => {
    // A delete only writes a marker the history keeps, so without a terminal it goes ahead unasked
    // (`nats kv del config db_host` works in scripts); a terminal still gets natscli's question.
    if (process.stdin.isTTY && !(await confirmed("delete", `key ${bucket} > ${key}`, force))) return
    await kv.delete(key)
  })
}

const purgeSpec: CommandSpec = {
  name: "purge",
  aliases: [],
  summary: "Deletes a key from the bucket, clearing history before creating a delete marker",
  arguments: [bucketArgument, keyArgument],
  flags: [forceFlag],
  examples: ["nats kv purge config db_host -f"]
}

const purge = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const bucket = bucketOf(parsed)
  const key = keyOf(parsed)
  await withKeyValue(settings, bucket, async ({ kv }) => {
    if (!(await confirmed("purge", `key ${bucket} > ${key}`, parsed.boolean("force")))) return
    await kv.purge(key)
  })
}

const historySpec: CommandSpec = {
  name: "history",
  aliases: [],
  summary: "Shows the full history for a key",
  arguments: [bucketArgument, keyArgument],
  flags: [],
  examples: ["nats kv history config db_host"]
}

const history = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const bucket = bucketOf(parsed)
  const key = keyOf(parsed)
  await withKeyValue(settings, bucket, async ({ kv }) => {
    const entries: Array<KvEntry> = []
    for await (const entry of await kv.history({ key })) entries.push(entry)
    if (entries.length === 0) throw new CliError("key not found")
    write(`${renderKvHistory(bucket, key, entries)}\n`)
  })
}

const infoSpec: CommandSpec = {
  name: "info",
  aliases: ["status", "view"],
  summary: "View the status of a KV store",
  arguments: [bucketArgument],
  flags: [],
  examples: ["nats kv status config"]
}

const info = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const bucket = bucketOf(parsed)
  await withKeyValue(settings, bucket, async ({ stream }) => write(renderKvStatus(bucket, stream)))
}

const listSpec: CommandSpec = {
  name: "ls",
  aliases: ["list"],
  summary: "List available buckets or the keys in a bucket",
  arguments: [{ name: "bucket", required: false, description: "The bucket to list the keys of" }],
  flags: [{ long: "names", short: "n", kind: "boolean", description: "Show just the bucket names" }],
  examples: ["nats kv ls", "nats kv ls config"]
}

const listBuckets = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  await withJetStream(settings, async ({ manager }) => {
    const buckets: Array<StreamInfo> = []
    for await (const stream of manager.streams.list()) if (stream.config.name.startsWith("KV_")) buckets.push(stream)
    if (buckets.length === 0) write("No Key-Value buckets found\n")
    else if (parsed.boolean("names")) write(buckets.map((stream) => `${stream.config.name.slice("KV_".length)}\n`).join(""))
    else write(`${renderKvBucketTable(buckets)}\n`)
  })
}

const list = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  if (parsed.argument("bucket") === undefined) return listBuckets(parsed, settings)
  await withKeyValue(settings, bucketOf(parsed), async ({ kv }) => {
    let found = false
    for await (const key of await kv.keys()) {
      found = true
      write(`${key}\n`)
    }
    if (!found) write("No keys found in bucket\n")
  })
}

const watchSpec: CommandSpec = {
  name: "watch",
  aliases: [],
  summary: "Watch the bucket or a specific key for updates: current values first, then changes until interrupted",
  arguments: [bucketArgument, { name: "key", required: false, description: "The key or key pattern (* and > allowed) to watch (default >)" }],
  flags: [{ long: "count", kind: "integer", placeholder: "N", description: "Quit after showing this many entries" }],
  examples: ["nats kv watch config", "nats kv watch config 'db_*' --count 10"]
}

const watch = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const bucket = bucketOf(parsed)
  const pattern = parsed.argument("key") ?? ">"
  assertKeyPattern(pattern)
  const count = parsed.integer("count", 0)
  if (parsed.has("count") && count < 1) throw new UsageError(`invalid value "${count}" for --count: expected at least 1`)
  await withKeyValue(settings, bucket, async ({ kv, connection }) => {
    const signals = closeOnSignal(connection)
    try {
      const entries = await kv.watch({ key: pattern })
      let shown = 0
      for await (const entry of entries) {
        write(kvWatchLine(entry))
        if (++shown === count) break
      }
      if (!signals.signalled() && shown !== count) throw new CliError("the connection to the server closed")
    } finally {
      signals.dispose()
    }
  })
}

export const kvCommands: ReadonlyArray<Command> = [
  { spec: addSpec, run: add },
  { spec: putSpec, run: put },
  { spec: getSpec, run: get },
  { spec: createSpec, run: create },
  { spec: updateSpec, run: update },
  { spec: deleteSpec, run: remove },
  { spec: purgeSpec, run: purge },
  { spec: historySpec, run: history },
  { spec: infoSpec, run: info },
  { spec: watchSpec, run: watch },
  { spec: listSpec, run: list }
]

export const kvGroup: CommandGroupSpec = {
  name: "kv",
  aliases: [],
  summary: "Interacts with a JetStream based Key-Value store",
  commands: kvCommands.map((command) => command.spec)
}

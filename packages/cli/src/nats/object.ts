import { createReadStream, existsSync, statSync } from "node:fs"
import { basename, posix, resolve } from "node:path"
import { Readable } from "node:stream"
import type { JetStreamManager, StreamInfo } from "@nats-io/jetstream"
import { type ObjectInfo, type ObjectStore, Objm } from "@nats-io/obj"
import { CliError, UsageError } from "./CliError.ts"
import type { Command } from "./Command.ts"
import type { CommandGroupSpec, CommandSpec, ParsedArguments } from "./CommandLine.ts"
import { assertBucketName } from "./bucketName.ts"
import { assertSameBucketConfig, findBucketStream } from "./bucketStream.ts"
import { confirmed } from "./confirm.ts"
import type { ConnectionSettings } from "./connection.ts"
import { withJetStream } from "./jetstreamSession.ts"
import { formatHumanDuration } from "./longDuration.ts"
import { objectConfigFlags, objectStoreRequest } from "./objectConfig.ts"
import { objectWatchLine, renderObjectBucketTable, renderObjectInfo, renderObjectStoreStatus, renderObjectTable } from "./objectOutput.ts"
import { objectStreamName, withObjectStore } from "./objectSession.ts"
import { downloadObject, uploadObject } from "./objectTransfer.ts"
import { transferProgress } from "./progress.ts"
import { closeOnSignal } from "./signals.ts"
import { formatBytes } from "./size.ts"

const bucketArgument = { name: "bucket", required: true, description: "The bucket to act on" }
const forceFlag = { long: "force", short: "f", kind: "boolean", description: "Act without confirmation" } as const
const progressFlag = { long: "progress", kind: "boolean", description: "Show progress for large objects (default true; --no-progress turns it off)" } as const

const write = (text: string): void => void process.stdout.write(text)

const bucketOf = (parsed: ParsedArguments): string => {
  const bucket = parsed.argument("bucket")!
  assertBucketName(bucket)
  return bucket
}

const progressFor = (parsed: ParsedArguments, label: string, size: number | undefined) =>
  transferProgress(label, size, { enabled: parsed.boolean("progress", true), terminal: process.stderr.isTTY, write: (text) => void process.stderr.write(text) })

/** A live object's info; a missing or deleted one is natscli's "object not found". */
const liveInfo = async (store: ObjectStore, name: string): Promise<ObjectInfo> => {
  const info = await store.info(name)
  if (info === null || info.deleted) throw new CliError("object not found")
  return info
}

/** The bucket report natscli prints after changing a bucket, read afresh. */
const printBucketStatus = async (manager: JetStreamManager, bucket: string): Promise<void> => {
  write(renderObjectStoreStatus(bucket, await manager.streams.info(objectStreamName(bucket))))
}

const addSpec: CommandSpec = {
  name: "add",
  aliases: [],
  summary: "Adds a new Object Store Bucket",
  arguments: [bucketArgument],
  flags: objectConfigFlags,
  examples: ["nats object add assets", "nats object add backups --max-bucket-size 10GiB --ttl 30d --description 'nightly backups'"]
}

const add = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const bucket = bucketOf(parsed)
  const request = objectStoreRequest(parsed)
  await withJetStream(settings, async ({ client, manager }) => {
    const existing = await findBucketStream(manager, objectStreamName(bucket))
    if (existing !== null) assertSameBucketConfig(existing.config, request.expected)
    await new Objm(client).create(bucket, request.options)
    await printBucketStatus(manager, bucket)
  })
}

const putSpec: CommandSpec = {
  name: "put",
  aliases: [],
  summary: "Puts a file into the store",
  arguments: [bucketArgument, { name: "file", required: false, description: "The file to put; without one, stdin is stored under --name" }],
  flags: [
    { long: "name", kind: "string", placeholder: "NAME", description: "Override the name supplied to the object store" },
    { long: "description", kind: "string", description: "Sets an optional description for the object" },
    progressFlag,
    forceFlag
  ],
  examples: ["nats object put assets ./logo.png", "tar c docs | nats object put assets --name docs.tar"]
}

// The object is named after the file's path as Go's filepath.Clean writes it: "./logo.png" is "logo.png".
const cleanName = (path: string): string => {
  const normalised = posix.normalize(path)
  return normalised.length > 1 && normalised.endsWith("/") ? normalised.slice(0, -1) : normalised
}

const fileSize = (file: string): number => {
  let stats
  try {
    stats = statSync(file)
  } catch {
    throw new UsageError(`file ${JSON.stringify(file)} does not exist`)
  }
  if (!stats.isFile()) throw new UsageError(`${JSON.stringify(file)} is not a file`)
  return stats.size
}

const put = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const bucket = bucketOf(parsed)
  const file = parsed.argument("file")
  const nameFlag = parsed.string("name")
  if (file === undefined && nameFlag === undefined) throw new UsageError("--name is required when reading from stdin")
  const size = file === undefined ? undefined : fileSize(file)
  const name = cleanName(nameFlag ?? file!)
  await withObjectStore(settings, bucket, async ({ store }) => {
    const existing = await store.info(name)
    if (existing !== null && !existing.deleted && !(await confirmed("replace", `existing object ${bucket} > ${name}`, parsed.boolean("force")))) return
    const source = (file === undefined ? Readable.toWeb(process.stdin) : Readable.toWeb(createReadStream(file))) as ReadableStream<Uint8Array>
    const meta = { name, description: parsed.string("description") }
    const info = await uploadObject(store, meta, source, progressFor(parsed, name, size))
    write(`\n${renderObjectInfo(info)}`)
  })
}

const getSpec: CommandSpec = {
  name: "get",
  aliases: [],
  summary: "Retrieves a file from the store, verifying its digest",
  arguments: [bucketArgument, { name: "name", required: true, description: "The object to retrieve" }],
  flags: [
    { long: "output", short: "O", kind: "string", placeholder: "PATH", description: "Write to this file instead of the object's name in the current directory" },
    progressFlag,
    { ...forceFlag, description: "Overwrite an existing file without confirmation" }
  ],
  examples: ["nats object get assets logo.png", "nats object get assets logo.png --output /tmp/logo.png -f"]
}

/** The object a name stands for, following a link (once, as the clients only link to plain objects). */
const resolveObject = async (store: ObjectStore, open: (bucket: string) => Promise<ObjectStore>, bucket: string, name: string): Promise<ObjectInfo> => {
  const info = await liveInfo(store, name)
  const link = info.options?.link
  if (link === undefined) return info
  if (link.name === undefined || link.name === "") throw new CliError(`${bucket} > ${name} is a link to the bucket ${link.bucket}, not to an object`)
  const target = await liveInfo(link.bucket === bucket ? store : await open(link.bucket), link.name)
  if (target.options?.link !== undefined) throw new CliError(`${bucket} > ${name} links to another link, which is not followed`)
  return target
}

const get = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const bucket = bucketOf(parsed)
  const name = parsed.argument("name")!
  await withObjectStore(settings, bucket, async ({ store, open, client }) => {
    const info = await resolveObject(store, open, bucket, name)
    const destination = resolve(parsed.string("output") ?? basename(info.name))
    if (existsSync(destination) && !(await confirmed("overwrite", destination, parsed.boolean("force")))) return
    const started = performance.now()
    const written = await downloadObject(info, destination, { client, timeout: settings.timeout, progress: progressFor(parsed, basename(destination), info.size) })
    const elapsed = performance.now() - started
    const average = elapsed > 2000 ? ` average ${formatBytes(Math.round(written / (elapsed / 1000)))}/s` : ""
    write(`Wrote: ${formatBytes(written)} to ${destination} in ${formatHumanDuration(elapsed)}${average}\n`)
  })
}

const infoSpec: CommandSpec = {
  name: "info",
  aliases: ["show", "i"],
  summary: "Get information about a bucket or object",
  arguments: [bucketArgument, { name: "name", required: false, description: "The object to describe" }],
  flags: [],
  examples: ["nats object info assets", "nats object info assets logo.png"]
}

const info = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const bucket = bucketOf(parsed)
  const name = parsed.argument("name")
  await withObjectStore(settings, bucket, async ({ store, stream }) => {
    write(name === undefined ? renderObjectStoreStatus(bucket, stream) : renderObjectInfo(await liveInfo(store, name)))
  })
}

const listSpec: CommandSpec = {
  name: "ls",
  aliases: ["list"],
  summary: "List buckets or contents of a specific bucket",
  arguments: [{ name: "bucket", required: false, description: "The bucket to list the contents of" }],
  flags: [{ long: "names", short: "n", kind: "boolean", description: "Show just the names" }],
  examples: ["nats object ls", "nats object ls assets"]
}

const listBuckets = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  await withJetStream(settings, async ({ manager }) => {
    const buckets: Array<StreamInfo> = []
    for await (const stream of manager.streams.list()) if (stream.config.name.startsWith("OBJ_")) buckets.push(stream)
    if (buckets.length === 0) write("No Object Store buckets found\n")
    else if (parsed.boolean("names")) write(buckets.map((stream) => `${stream.config.name.slice("OBJ_".length)}\n`).join(""))
    else write(`${renderObjectBucketTable(buckets)}\n`)
  })
}

const list = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  if (parsed.argument("bucket") === undefined) return listBuckets(parsed, settings)
  await withObjectStore(settings, bucketOf(parsed), async ({ store }) => {
    const objects = await store.list()
    if (objects.length === 0) write("No entries found\n")
    else if (parsed.boolean("names")) write(objects.map((meta) => `${meta.name}\n`).join(""))
    else write(`${renderObjectTable(objects)}\n`)
  })
}

const deleteSpec: CommandSpec = {
  name: "del",
  aliases: ["rm"],
  summary: "Deletes an object or, without one, the entire bucket",
  arguments: [bucketArgument, { name: "name", required: false, description: "The object to delete" }],
  flags: [{ ...forceFlag, description: "Act without confirmation; without a terminal a object is deleted unasked, a bucket only with --force" }],
  examples: ["nats object del assets logo.png", "nats object rm assets -f"]
}

const remove = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const bucket = bucketOf(parsed)
  const name = parsed.argument("name")
  const force = parsed.boolean("force")
  await withObjectStore(settings, bucket, async ({ store, manager }) => {
    if (name === undefined) {
      if (await confirmed("delete", `bucket ${bucket} and all its files`, force)) await store.destroy()
      return
    }
    const info = await liveInfo(store, name)
    // As with `nats kv del`, deleting one object goes ahead unasked without a terminal, so that
    // `nats object del assets logo.png` works in scripts; a terminal still gets natscli's question.
    if (process.stdin.isTTY && !(await confirmed("delete", `${formatBytes(info.size)} file ${bucket} > ${name}`, force))) return
    await store.delete(name)
    write(`Removed ${bucket} > ${name}\n`)
    await printBucketStatus(manager, bucket)
  })
}

const sealSpec: CommandSpec = {
  name: "seal",
  aliases: [],
  summary: "Seals a bucket preventing further updates (a sealed bucket cannot be unsealed)",
  arguments: [bucketArgument],
  flags: [forceFlag],
  examples: ["nats object seal assets -f"]
}

const seal = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const bucket = bucketOf(parsed)
  await withObjectStore(settings, bucket, async ({ store }) => {
    if (!(await confirmed("seal", `bucket ${bucket}`, parsed.boolean("force")))) return
    const status = await store.seal()
    write(`${bucket} has been sealed\n`)
    write(renderObjectStoreStatus(bucket, status.streamInfo))
  })
}

const watchSpec: CommandSpec = {
  name: "watch",
  aliases: [],
  summary: "Watch a bucket for changes: its current objects first, then changes until interrupted",
  arguments: [bucketArgument],
  flags: [{ long: "count", kind: "integer", placeholder: "N", description: "Quit after showing this many entries" }],
  examples: ["nats object watch assets"]
}

const watch = async (parsed: ParsedArguments, settings: ConnectionSettings): Promise<void> => {
  const bucket = bucketOf(parsed)
  const count = parsed.integer("count", 0)
  if (parsed.has("count") && count < 1) throw new UsageError(`invalid value "${count}" for --count: expected at least 1`)
  await withObjectStore(settings, bucket, async ({ store, connection }) => {
    const signals = closeOnSignal(connection)
    try {
      const entries = await store.watch({ includeHistory: true })
      let shown = 0
      for await (const entry of entries) {
        write(objectWatchLine(entry))
        if (++shown === count) break
      }
      if (!signals.signalled() && shown !== count) throw new CliError("the connection to the server closed")
    } finally {
      signals.dispose()
    }
  })
}

export const objectCommands: ReadonlyArray<Command> = [
  { spec: addSpec, run: add },
  { spec: putSpec, run: put },
  { spec: getSpec, run: get },
  { spec: deleteSpec, run: remove },
  { spec: infoSpec, run: info },
  { spec: listSpec, run: list },
  { spec: sealSpec, run: seal },
  { spec: watchSpec, run: watch }
]

export const objectGroup: CommandGroupSpec = {
  name: "object",
  aliases: ["obj"],
  summary: "Interacts with a JetStream based Object store",
  commands: objectCommands.map((command) => command.spec)
}

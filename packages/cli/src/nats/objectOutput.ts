import type { StreamInfo } from "@nats-io/jetstream"
import type { ObjectInfo } from "@nats-io/obj"
import { Columns } from "./columns.ts"
import { comma, localTime, parseTimestamp, sinceReference } from "./humanize.ts"
import { formatHumanDuration } from "./longDuration.ts"
import { formatBytes } from "./size.ts"
import { renderTable } from "./table.ts"
import { rfc3339Local, rfc3339Utc } from "./timeFormat.ts"

const nanosPerMillisecond = 1_000_000

/** What an object's meta says about it; watch entries are the raw meta, without the ObjectInfo methods. */
export type ObjectMeta = Pick<ObjectInfo, "bucket" | "name" | "description" | "size" | "chunks" | "digest" | "deleted" | "mtime" | "options">

// A link's meta carries no size, chunks or time (nats.js writes only its name, bucket and link).
const sizeOf = (meta: ObjectMeta): number => meta.size ?? 0
const chunksOf = (meta: ObjectMeta): number => meta.chunks ?? 0
const modified = (meta: ObjectMeta, format: (date: Date) => string): string => (meta.mtime === undefined ? "unknown" : format(new Date(meta.mtime)))

const titleCase = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1)

/** "SHA-256=<base64url>" as natscli shows it: "SHA-256 <hex>". */
export const digestText = (digest: string): string => {
  const separator = digest.indexOf("=")
  if (separator === -1) return digest
  return `${digest.slice(0, separator)} ${Buffer.from(digest.slice(separator + 1), "base64url").toString("hex")}`
}

/** `nats object info BUCKET`: natscli's report on a bucket, from the StreamInfo behind it. */
export const renderObjectStoreStatus = (bucket: string, info: StreamInfo): string => {
  const { config, state } = info
  return new Columns(`Information for Object Store Bucket ${bucket} created ${rfc3339Local(new Date(parseTimestamp(info.created)))}`)
    .section("Configuration")
    .row("Bucket Name", bucket)
    .rowIf("Description", config.description ?? "", (config.description ?? "") !== "")
    .row("Replicas", config.num_replicas)
    .row("TTL", config.max_age > 0 ? formatHumanDuration(config.max_age / nanosPerMillisecond) : "unlimited")
    .row("Sealed", config.sealed === true)
    .row("Size", formatBytes(state.bytes))
    .row("Maximum Bucket Size", config.max_bytes <= 0 ? "unlimited" : formatBytes(config.max_bytes))
    .row("Storage", titleCase(config.storage))
    .row("Backing Store Kind", "JetStream")
    .row("JetStream Stream", config.name)
    .render()
}

const linkText = (meta: ObjectMeta): string | undefined => {
  const link = meta.options?.link
  if (link === undefined) return undefined
  return link.name === undefined || link.name === "" ? `bucket ${link.bucket}` : `${link.bucket} > ${link.name}`
}

/** `nats object info BUCKET NAME`: natscli's report on one object (a link names its target instead of a digest). */
export const renderObjectInfo = (meta: ObjectMeta): string => {
  const link = linkText(meta)
  return new Columns(`Object information for ${meta.bucket} > ${meta.name}`)
    .rowIf("Description", meta.description ?? "", (meta.description ?? "") !== "")
    .row("Size", formatBytes(sizeOf(meta)))
    .row("Modification Time", modified(meta, localTime))
    .row("Chunks", chunksOf(meta))
    .rowIf("Digest", digestText(meta.digest ?? ""), (meta.digest ?? "") !== "")
    .rowIf("Link", link ?? "", link !== undefined)
    .rowIf("Deleted", true, meta.deleted)
    .render()
}

/** `nats object ls`: natscli's table of object store buckets, smallest first. */
export const renderObjectBucketTable = (streams: ReadonlyArray<StreamInfo>): string =>
  renderTable(
    "Object Store Buckets",
    [{ header: "Bucket" }, { header: "Description" }, { header: "Created" }, { header: "Size" }, { header: "Last Update" }],
    [...streams]
      .sort((left, right) => left.state.bytes - right.state.bytes)
      .map((info) => [
        info.config.name.slice("OBJ_".length),
        info.config.description ?? "",
        localTime(new Date(parseTimestamp(info.created))),
        formatBytes(info.state.bytes),
        sinceReference(info.state.last_ts, info.ts)
      ])
  )

/** `nats object ls BUCKET`: natscli's table of the objects in a bucket. */
export const renderObjectTable = (objects: ReadonlyArray<ObjectMeta>): string =>
  renderTable(
    "Bucket Contents",
    [{ header: "Name" }, { header: "Size" }, { header: "Time" }],
    objects.map((meta) => [meta.name, formatBytes(sizeOf(meta)), modified(meta, rfc3339Utc)])
  )

/** One `nats object watch` line, natscli's words included: "[time] PUT bucket > name: 1.0 KiB bytes in 1 chunks". */
export const objectWatchLine = (meta: ObjectMeta): string => {
  const time = modified(meta, localTime)
  return meta.deleted
    ? `[${time}] DEL ${meta.bucket} > ${meta.name}\n`
    : `[${time}] PUT ${meta.bucket} > ${meta.name}: ${formatBytes(sizeOf(meta))} bytes in ${comma(chunksOf(meta))} chunks\n`
}

import type { StreamInfo } from "@nats-io/jetstream"
import type { KvEntry } from "@nats-io/kv"
import { Columns } from "./columns.ts"
import { comma, localTime, parseTimestamp, sinceReference } from "./humanize.ts"
import { formatHumanDuration } from "./longDuration.ts"
import { formatBytes } from "./size.ts"
import { renderTable } from "./table.ts"
import { rfc3339Local, rfc822 } from "./timeFormat.ts"

const nanosPerMillisecond = 1_000_000
const shownValueLength = 120
const historyValueLength = 40

/** natscli's names for the operations: "PUT", "DELETE", "PURGE". */
export const operationName = (operation: KvEntry["operation"]): string => (operation === "DEL" ? "DELETE" : operation)

const titleCase = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1)

const limitText = (value: number, format: (value: number) => string): string => (value <= 0 ? "unlimited" : format(value))

const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]*$/u
const strictUtf8 = new TextDecoder("utf-8", { fatal: true })

/** The value as text when every character is printable (Go's unicode.IsPrint), else base64, as natscli shows values. */
export const displayValue = (value: Uint8Array): string => {
  try {
    const text = strictUtf8.decode(value)
    if (printable.test(text)) return text
  } catch {
    // Not UTF-8: shown as base64 below.
  }
  return Buffer.from(value).toString("base64")
}

/** `nats kv info`: natscli's report on a bucket, from the StreamInfo behind it. */
export const renderKvStatus = (bucket: string, info: StreamInfo): string => {
  const { config, state } = info
  return new Columns(`Information for Key-Value Store Bucket ${bucket} created ${rfc3339Local(new Date(parseTimestamp(info.created)))}`)
    .section("Configuration")
    .row("Bucket Name", bucket)
    .row("History Kept", config.max_msgs_per_subject)
    .row("Values Stored", state.messages)
    .row("Compressed", config.compression === "s2")
    .row("Backing Store Kind", "JetStream")
    .rowIf("Description", config.description ?? "", (config.description ?? "") !== "")
    .row("Bucket Size", formatBytes(state.bytes))
    .row("Maximum Bucket Size", limitText(config.max_bytes, formatBytes))
    .row("Maximum Value Size", limitText(config.max_msg_size, formatBytes))
    .row("Maximum Age", limitText(config.max_age, (age) => formatHumanDuration(age / nanosPerMillisecond)))
    .row("JetStream Stream", config.name)
    .row("Storage", titleCase(config.storage))
    .render()
}

/** `nats kv ls`: natscli's table of buckets, smallest first. */
export const renderKvBucketTable = (streams: ReadonlyArray<StreamInfo>): string =>
  renderTable(
    "Key-Value Buckets",
    [{ header: "Bucket" }, { header: "Description" }, { header: "Created" }, { header: "Size" }, { header: "Values" }, { header: "Last Update" }],
    [...streams]
      .sort((left, right) => left.state.bytes - right.state.bytes)
      .map((info) => [
        info.config.name.slice("KV_".length),
        info.config.description ?? "",
        localTime(new Date(parseTimestamp(info.created))),
        formatBytes(info.state.bytes),
        comma(info.state.messages),
        sinceReference(info.state.last_ts, info.ts)
      ])
  )

/** `nats kv get`: the entry's heading line, then its value (the first 120 characters of a long one). */
export const renderKvEntry = (entry: KvEntry): string => {
  const heading = `${entry.bucket} > ${entry.key} revision: ${entry.revision} created @ ${rfc822(entry.created)}\n\n`
  const value = displayValue(entry.value)
  if (value.length <= shownValueLength) return `${heading}${value}\n\n`
  return `${heading}Showing first ${shownValueLength} bytes of ${comma(value.length)}, use --raw for full data\n\n${value.slice(0, shownValueLength)}\n\n`
}

const shortened = (value: string): string =>
  value.length > historyValueLength ? `${value.slice(0, 15)}...${value.slice(-15)}` : value

/** `nats kv history`: natscli's table of every revision kept for a key. */
export const renderKvHistory = (bucket: string, key: string, entries: ReadonlyArray<KvEntry>): string =>
  renderTable(
    `History for ${bucket} > ${key}`,
    [{ header: "Key" }, { header: "Revision", align: "right" }, { header: "Op" }, { header: "Created" }, { header: "Length" }, { header: "Value" }],
    entries.map((entry) => [
      entry.key,
      String(entry.revision),
      operationName(entry.operation),
      localTime(entry.created),
      comma(entry.value.length),
      shortened(displayValue(entry.value))
    ])
  )

/** One `nats kv watch` line: "[time] PUT bucket > key: value", or "[time] DELETE bucket > key". */
export const kvWatchLine = (entry: KvEntry): string => {
  const prefix = `[${localTime(entry.created)}] ${operationName(entry.operation)} ${entry.bucket} > ${entry.key}`
  return entry.operation === "PUT" ? `${prefix}: ${Buffer.from(entry.value).toString("utf8")}\n` : `${prefix}\n`
}

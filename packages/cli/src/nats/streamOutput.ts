import type { StreamConfig, StreamInfo } from "@nats-io/jetstream"
import { Columns } from "./columns.ts"
import { comma, isZeroTime, localTime, parseTimestamp, sinceReference } from "./humanize.ts"
import { formatHumanDuration } from "./longDuration.ts"
import { formatBytes } from "./size.ts"
import { renderTable } from "./table.ts"

const nanosPerMillisecond = 1_000_000

const titleCase = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1)

// natscli prints Go's enum names: "Limits", "Interest", "WorkQueue"; "File", "Memory"; "Old", "New".
const retentionNames: Record<string, string> = { limits: "Limits", interest: "Interest", workqueue: "WorkQueue" }

const unlimitedOr = (value: number, format: (value: number) => string): string => (value <= 0 ? "unlimited" : format(value))

const sequenceAt = (sequence: number, timestamp: string): string =>
  isZeroTime(timestamp) ? comma(sequence) : `${comma(sequence)} @ ${localTime(new Date(parseTimestamp(timestamp)))}`

const addConfig = (columns: Columns, config: StreamConfig): void => {
  columns
    .rowIf("Description", config.description ?? "", (config.description ?? "") !== "")
    .rowIf("Subjects", config.subjects ?? [], (config.subjects ?? []).length > 0)
    .row("Replicas", config.num_replicas)
    .rowIf("Sealed", true, config.sealed === true)
    .row("Storage", titleCase(config.storage))
    .section("Options")
    .row("Retention", retentionNames[config.retention] ?? config.retention)
    .row("Acknowledgments", config.no_ack !== true)
    .row("Discard Policy", config.discard_new_per_subject ? "New Per Subject" : titleCase(config.discard))
    .row("Duplicate Window", formatHumanDuration(config.duplicate_window / nanosPerMillisecond))
    .rowIf("Direct Get", true, config.allow_direct === true)
    .row("Allows Msg Delete", config.deny_delete !== true)
    .row("Allows Purge", config.deny_purge !== true)
    .row("Allows Rollups", config.allow_rollup_hdrs === true)
    .section("Limits")
    .row("Maximum Messages", unlimitedOr(config.max_msgs, comma))
    .row("Maximum Per Subject", unlimitedOr(config.max_msgs_per_subject, comma))
    .row("Maximum Bytes", unlimitedOr(config.max_bytes, formatBytes))
    .row("Maximum Age", unlimitedOr(config.max_age, (age) => formatHumanDuration(age / nanosPerMillisecond)))
    .row("Maximum Message Size", unlimitedOr(config.max_msg_size, formatBytes))
    .row("Maximum Consumers", unlimitedOr(config.max_consumers, comma))
    .line()
}

/** `nats stream info` as natscli lays it out; with `stateOnly` just the state, as after a purge. */
export const renderStreamInfo = (info: StreamInfo, options: { readonly stateOnly?: boolean } = {}): string => {
  const created = localTime(new Date(parseTimestamp(info.created)))
  const name = info.config.name
  const columns = new Columns(options.stateOnly ? `State for Stream ${name} created ${created}` : `Information for Stream ${name} created ${created}`)
  if (!options.stateOnly) addConfig(columns, info.config)
  const state = info.state
  columns
    .section("State")
    .row("Messages", state.messages)
    .row("Bytes", formatBytes(state.bytes))
    .row("First Sequence", sequenceAt(state.first_seq, state.first_ts))
    .row("Last Sequence", sequenceAt(state.last_seq, state.last_ts))
    .rowIf("Deleted Messages", state.num_deleted ?? 0, (state.num_deleted ?? 0) > 0)
    .row("Active Consumers", state.consumer_count)
    .rowIf("Number of Subjects", state.num_subjects ?? 0, (state.num_subjects ?? 0) > 0)
  return columns.render()
}

/** `nats stream ls`: natscli's table, smallest stream first. */
export const renderStreamTable = (streams: ReadonlyArray<StreamInfo>, subjectFilter: string | undefined): string => {
  const sorted = [...streams].sort((left, right) => left.state.bytes - right.state.bytes)
  return renderTable(
    subjectFilter === undefined ? "Streams" : `Streams matching ${subjectFilter}`,
    [{ header: "Name" }, { header: "Description" }, { header: "Created" }, { header: "Messages" }, { header: "Size" }, { header: "Last Message" }],
    sorted.map((info) => [
      info.config.name,
      info.config.description ?? "",
      localTime(new Date(parseTimestamp(info.created))),
      comma(info.state.messages),
      formatBytes(info.state.bytes),
      sinceReference(info.state.last_ts, info.ts)
    ])
  )
}

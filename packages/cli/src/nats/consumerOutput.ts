import type { ConsumerConfig, ConsumerInfo, SequenceInfo } from "@nats-io/jetstream"
import { Columns } from "./columns.ts"
import { comma, localTime, parseTimestamp, sinceReference } from "./humanize.ts"
import { formatHumanDuration } from "./longDuration.ts"
import { formatBytes } from "./size.ts"
import { renderTable } from "./table.ts"

const nanosPerMillisecond = 1_000_000

const duration = (nanos: number): string => formatHumanDuration(nanos / nanosPerMillisecond)

const titleCase = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1)

const deliverPolicy = (config: ConsumerConfig): string => {
  switch (config.deliver_policy) {
    case "last_per_subject":
      return "Last Per Subject"
    case "by_start_time":
      return `Since ${config.opt_start_time ?? ""}`
    case "by_start_sequence":
      return `From Sequence ${config.opt_start_seq ?? 0}`
    default:
      return titleCase(config.deliver_policy)
  }
}

// The server reports last_active as a timestamp although the client types it as nanoseconds.
const lastActive = (sequence: SequenceInfo): string | undefined => {
  const value = (sequence as { last_active?: unknown }).last_active
  return typeof value === "string" ? value : undefined
}

const sequences = (sequence: SequenceInfo, reference: string | undefined, lastLabel: string): string => {
  const text = `Consumer sequence: ${comma(sequence.consumer_seq)} Stream sequence: ${comma(sequence.stream_seq)}`
  const active = lastActive(sequence)
  return active === undefined ? text : `${text} ${lastLabel}: ${sinceReference(active, reference)} ago`
}

/** `nats consumer info` (and the report after `consumer add`) as natscli lays it out. */
export const renderConsumerInfo = (info: ConsumerInfo): string => {
  const config = info.config
  const push = typeof config.deliver_subject === "string" && config.deliver_subject !== ""
  const columns = new Columns(`Information for Consumer ${info.stream_name} > ${info.name} created ${localTime(new Date(parseTimestamp(info.created)))}`)
  columns
    .section("Configuration")
    .rowIf("Name", info.name, info.name !== "")
    .rowIf("Durable Name", config.durable_name ?? "", config.durable_name !== undefined && config.durable_name !== "" && config.durable_name !== info.name)
    .rowIf("Description", config.description ?? "", (config.description ?? "") !== "")
  if (push) columns.row("Delivery Subject", config.deliver_subject!)
  else columns.row("Pull Mode", true)
  if (config.filter_subject !== undefined && config.filter_subject !== "") columns.row("Filter Subject", config.filter_subject)
  else if ((config.filter_subjects ?? []).length > 0) columns.row("Filter Subjects", config.filter_subjects!)
  columns
    .row("Deliver Policy", deliverPolicy(config))
    .rowIf("Deliver Queue Group", config.deliver_group ?? "", push && (config.deliver_group ?? "") !== "")
    .row("Ack Policy", titleCase(config.ack_policy))
    .rowIf("Ack Wait", duration(config.ack_wait ?? 0), config.ack_policy !== "none")
    .row("Replay Policy", titleCase(config.replay_policy))
    .rowIf("Maximum Deliveries", config.max_deliver ?? -1, (config.max_deliver ?? -1) !== -1)
    .rowIf("Max Ack Pending", config.max_ack_pending ?? 0, (config.max_ack_pending ?? 0) > 0)
    .rowIf("Max Waiting Pulls", config.max_waiting ?? 0, (config.max_waiting ?? 0) > 0)
    .rowIf("Idle Heartbeat", duration(config.idle_heartbeat ?? 0), (config.idle_heartbeat ?? 0) > 0)
    .rowIf("Flow Control", config.flow_control === true, push)
    .rowIf("Headers Only", true, config.headers_only === true)
    .rowIf("Inactive Threshold", duration(config.inactive_threshold ?? 0), (config.inactive_threshold ?? 0) > 0 && !push)
    .rowIf("Max Pull Expire", duration(config.max_expires ?? 0), (config.max_expires ?? 0) > 0)
    .rowIf("Max Pull Batch", config.max_batch ?? 0, (config.max_batch ?? 0) > 0)
    .rowIf("Max Pull MaxBytes", formatBytes(config.max_bytes ?? 0), (config.max_bytes ?? 0) > 0)
    .rowIf("Replicas", config.num_replicas ?? 0, (config.num_replicas ?? 0) > 0)
    .rowIf("Memory Storage", true, config.mem_storage === true)

  columns.section("State").row("Last Delivered Message", sequences(info.delivered, info.ts, "Last delivery"))
  if (config.ack_policy !== "none") {
    const maximum = config.max_ack_pending ?? 0
    columns
      .row("Acknowledgment Floor", sequences(info.ack_floor, info.ts, "Last Ack"))
      .row("Outstanding Acks", maximum > 0 ? `${comma(info.num_ack_pending)} out of maximum ${comma(maximum)}` : comma(info.num_ack_pending))
      .row("Redelivered Messages", info.num_redelivered)
  }
  columns.row("Unprocessed Messages", info.num_pending)
  if (!push) {
    const maximum = config.max_waiting ?? 0
    columns.row("Waiting Pulls", maximum > 0 ? `${comma(info.num_waiting)} of maximum ${comma(maximum)}` : `${comma(info.num_waiting)} of unlimited`)
  } else if (info.push_bound) {
    columns.row("Active Interest", (config.deliver_group ?? "") === "" ? "Active" : `Active using Queue Group ${config.deliver_group}`)
  } else {
    columns.row("Active Interest", "No interest")
  }
  return columns.render()
}

/** `nats consumer ls`: natscli's table of a stream's consumers, by name. */
export const renderConsumerTable = (consumers: ReadonlyArray<ConsumerInfo>): string =>
  renderTable(
    "Consumers",
    [
      { header: "Name" },
      { header: "Description" },
      { header: "Created" },
      { header: "Ack Pending", align: "right" },
      { header: "Unprocessed", align: "right" },
      { header: "Last Delivery" }
    ],
    [...consumers]
      .sort((left, right) => left.name.localeCompare(right.name))
      .map((info) => [
        info.name,
        info.config.description ?? "",
        localTime(new Date(parseTimestamp(info.created))),
        comma(info.num_ack_pending),
        comma(info.num_pending),
        sinceReference(lastActive(info.delivered), info.ts)
      ])
  )

import { Args, Command } from "@effect/cli"
import { Api, names, subjects } from "@nex/runtime"
import { Console, Effect } from "effect"
import { reportFailure } from "./CommandFailure.ts"
import { connectionFlags, openConnection } from "./connectionFlags.ts"
import { requestApi } from "./controlApi.ts"
import { formatBytes, formatMilliseconds } from "./formatting.ts"
import { describeTriggers } from "./listCommand.ts"

const orDash = (values: ReadonlyArray<string>): string => (values.length === 0 ? "-" : values.join(", "))

/** The lines `nex info` prints. */
export const describeInfo = (info: Api.InfoResponse, events: ReadonlyArray<Api.WorkloadEvent>): string => {
  const { spec, status } = info
  const lines = [`${status.name} revision ${status.revision} on node ${info.node}: ${status.state}${status.reason === undefined ? "" : ` (${status.reason})`}`]
  const field = (label: string, value: string) => lines.push(`  ${`${label}:`.padEnd(14)} ${value}`)
  if (status.servingRevision !== undefined) field("serving", `revision ${status.servingRevision}`)
  if (spec !== undefined) {
    field("source", spec.source ?? "-")
    field("bundle", `sha256 ${spec.bundle.sha256} (${formatBytes(spec.bundle.size)})`)
    field("triggers", `${describeTriggers(status)}${spec.triggers.length === 0 ? "" : ` (queue ${spec.queue ?? names.defaultQueue(spec.name)})`}`)
    field("config", `KV ${names.configBucket} key ${spec.configKey ?? spec.name}`)
    field("limits", `memory ${spec.memoryMiB} MiB, timeout ${formatMilliseconds(spec.timeoutMs)}, concurrency ${spec.concurrency}, mailbox ${spec.mailbox}`)
    field("may publish", orDash(spec.allowPublish))
    field("may subscribe", orDash(spec.allowSubscribe))
    field("deployed at", `${spec.deployedAt}${spec.origin === "config" ? " (from nex.config.ts)" : ""}`)
  }
  field("replicas", `${status.replicas.running} running of ${status.replicas.desired}`)
  for (const replica of status.placements ?? []) {
    lines.push(`    replica ${replica.index}: ${replica.state} on ${replica.node ?? "no node"}${replica.reason === undefined ? "" : ` (${replica.reason})`}`)
  }
  field("invocations", `${status.invocations} (${status.errors} errors), p50 ${formatMilliseconds(status.p50Ms)}, p99 ${formatMilliseconds(status.p99Ms)}`)
  field("resources", `CPU ${formatMilliseconds(status.cpuTimeMs)}, heap ${formatBytes(status.heapBytes)}`)
  field("restarts", String(status.restarts))
  field("last error", status.lastError ?? "-")
  if (events.length > 0) {
    lines.push("  recent events:")
    for (const event of events) lines.push(`    ${event.time}  ${event.kind}${event.revision === undefined ? "" : ` r${event.revision}`}${event.reason === undefined ? "" : `: ${event.reason}`}`)
  }
  return lines.join("\n")
}

/** `nex info NAME`: a workload's spec, status, figures and recent events. */
export const infoCommand = Command.make("info", { name: Args.text({ name: "name" }), ...connectionFlags }, (flags) =>
  Effect.gen(function* () {
    const connection = yield* openConnection(flags)
    const info = yield* requestApi(connection, subjects.api.info, { name: flags.name }, Api.InfoResponse)
    const recent = yield* requestApi(connection, subjects.api.events, { name: flags.name, limit: 5 }, Api.EventsResponse).pipe(
      Effect.map((response) => response.events),
      Effect.orElseSucceed(() => [])
    )
    yield* Console.log(describeInfo(info, recent))
  }).pipe(Effect.scoped, reportFailure("info"))
).pipe(Command.withDescription("Show a workload's spec, status and recent events"))

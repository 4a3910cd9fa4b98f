import { Command } from "@effect/cli"
import { Api, subjects } from "@nex/runtime"
import { Console, Effect } from "effect"
import { reportFailure } from "./CommandFailure.ts"
import { connectionFlags, openConnection } from "./connectionFlags.ts"
import { requestApi } from "./controlApi.ts"
import { formatMilliseconds, table } from "./formatting.ts"

/** What starts a workload, in a few words. */
export const describeTriggers = (status: Api.WorkloadStatus): string =>
  [...status.triggers, ...(status.job === undefined ? [] : [`job ${status.job}`]), ...(status.schedule === undefined ? [] : [status.schedule])].join(", ") || "-"

/** `nex ls`: every workload of the node, with its state and figures. */
export const listCommand = Command.make("ls", connectionFlags, (flags) =>
  Effect.gen(function* () {
    const connection = yield* openConnection(flags)
    const { node, workloads } = yield* requestApi(connection, subjects.api.list, {}, Api.ListResponse)
    if (workloads.length === 0) return yield* Console.log(`no workloads on node ${node}`)
    const rows = workloads.map((status) => [
      status.name,
      String(status.revision),
      status.state,
      `${status.replicas.running}/${status.replicas.desired}`,
      describeTriggers(status),
      String(status.invocations),
      String(status.errors),
      formatMilliseconds(status.p50Ms),
      formatMilliseconds(status.p99Ms),
      String(status.restarts),
      status.reason ?? ""
    ])
    yield* Console.log(table(["NAME", "REV", "STATE", "REPLICAS", "TRIGGERS", "CALLS", "ERRORS", "P50", "P99", "RESTARTS", "REASON"], rows))
  }).pipe(Effect.scoped, reportFailure("ls"))
).pipe(Command.withDescription("List the workloads of the node"))

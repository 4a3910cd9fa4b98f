import { Args, Command, Options } from "@effect/cli"
import type { NatsConnection } from "@nats-io/transport-node"
import { Api, eventOf, logLineOf, names, parseDurationText, readStream, type StoredEntry, subjects } from "@nex/runtime"
import { Effect, Option } from "effect"
import { CommandFailure, reportFailure } from "./CommandFailure.ts"
import { connectionFlags, openConnection } from "./connectionFlags.ts"

const historyFlags = {
  follow: Options.boolean("follow").pipe(Options.withAlias("f"), Options.withDescription("Keep printing new entries until interrupted")),
  since: Options.text("since").pipe(Options.withDescription("How far back to start, e.g. 10m, 1h, 2d (default 1h)"), Options.optional),
  ...connectionFlags
}

const sinceOf = (text: Option.Option<string>): Effect.Effect<Date, CommandFailure> => {
  const milliseconds = Option.isNone(text) ? 3_600_000 : parseDurationText(text.value)
  return milliseconds === undefined
    ? Effect.fail(new CommandFailure({ message: `--since: expected a duration like 10m, 1h or 2d, got ${JSON.stringify(Option.getOrUndefined(text))}` }))
    : Effect.succeed(new Date(Date.now() - milliseconds))
}

const isStreamNotFound = (error: unknown): boolean => error instanceof Error && /stream not found/i.test(error.message)

/** Prints each entry of a stream window (and, following, each new one) until it ends or is interrupted. */
const printStream = (connection: NatsConnection, stream: string, subject: string, since: Date, follow: boolean, print: (entry: StoredEntry) => string | undefined) =>
  Effect.tryPromise({
    try: async (signal) => {
      let printed = 0
      for await (const entry of readStream(connection, { stream, subject, since, follow, signal })) {
        const line = print(entry)
        if (line === undefined) continue
        printed++
        console.log(line)
      }
      return printed
    },
    catch: (error) =>
      new CommandFailure({
        message: isStreamNotFound(error)
          ? `stream ${stream} does not exist yet (it is created when a node's runtime starts)`
          : `could not read ${stream}: ${error instanceof Error ? error.message : String(error)}`
      })
  })

/** One log line as `nex logs` prints it. */
export const formatLogLine = (line: Api.LogLine): string =>
  `${line.time}  ${line.level.padEnd(5)}  ${line.revision === undefined ? "" : `r${line.revision}  `}${line.message}`

/** One event as `nex events` prints it. */
export const formatEvent = (event: Api.WorkloadEvent): string =>
  `${event.time}  ${event.name}  ${event.kind}${event.revision === undefined ? "" : ` r${event.revision}`}  on ${event.node}${event.reason === undefined ? "" : `: ${event.reason}`}`

/** `nex logs NAME [-f] [--since 1h]`: a workload's log lines from NEX_LOGS. */
export const logsCommand = Command.make("logs", { name: Args.text({ name: "name" }), ...historyFlags }, (flags) =>
  Effect.gen(function* () {
    const since = yield* sinceOf(flags.since)
    const connection = yield* openConnection(flags)
    const printed = yield* printStream(connection, names.logsStream, subjects.logs(flags.name), since, flags.follow, (entry) => formatLogLine(logLineOf(entry, flags.name)))
    if (printed === 0) console.error(`no log lines of ${flags.name} since ${since.toISOString()}`)
  }).pipe(Effect.scoped, reportFailure("logs"))
).pipe(Command.withDescription("Print a workload's log lines (past ones, and new ones with -f)"))

/** `nex events [NAME] [-f] [--since 1h]`: lifecycle events from NEX_EVENTS. */
export const eventsCommand = Command.make("events", { name: Args.text({ name: "name" }).pipe(Args.optional), ...historyFlags }, (flags) =>
  Effect.gen(function* () {
    const since = yield* sinceOf(flags.since)
    const connection = yield* openConnection(flags)
    const subject = Option.match(flags.name, { onNone: () => subjects.allEvents, onSome: subjects.workloadEvents })
    const printed = yield* printStream(connection, names.eventsStream, subject, since, flags.follow, (entry) => {
      const event = eventOf(entry)
      return event === undefined ? undefined : formatEvent(event)
    })
    if (printed === 0) console.error(`no events since ${since.toISOString()}`)
  }).pipe(Effect.scoped, reportFailure("events"))
).pipe(Command.withDescription("Print workload lifecycle events: deployed, started, failed, crashed, restarted, quarantined, undeployed"))

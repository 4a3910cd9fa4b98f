import type { Msg, NatsConnection } from "@nats-io/transport-node"
import { Effect, Runtime as EffectRuntime, type Scope } from "effect"
import type { z } from "zod"
import {
  type ApiError,
  EventsRequest,
  type EventsResponse,
  InfoRequest,
  type InfoResponse,
  ListRequest,
  type ListResponse,
  LogLine,
  LogsRequest,
  type LogsResponse,
  UndeployRequest,
  type UndeployResponse,
  WorkloadEvent
} from "./api.ts"
import { undeployWorkload } from "./Deployer.ts"
import { readRecent, type StoredEntry } from "./StreamHistory.ts"
import { subjects } from "./subjects.ts"
import type { Supervisor } from "./Supervisor.ts"
import { names } from "./worker/WorkerProtocol.ts"

const decoder = new TextDecoder()
const hourMs = 3_600_000

/** A log entry as stored, or, when a writer published plain text, that text as an info line. */
export const logLineOf = (entry: StoredEntry, name: string): LogLine => {
  const text = decoder.decode(entry.data)
  try {
    const parsed = LogLine.safeParse(JSON.parse(text))
    if (parsed.success) return parsed.data
  } catch {
    // Plain text: kept below.
  }
  return { time: entry.time.toISOString(), name, level: "info", message: text }
}

export const eventOf = (entry: StoredEntry): WorkloadEvent | undefined => {
  try {
    const parsed = WorkloadEvent.safeParse(JSON.parse(decoder.decode(entry.data)))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}

const describeIssue = (issue: z.core.$ZodIssue): string => `${issue.path.length === 0 ? "request" : issue.path.join(".")}: ${issue.message}`

/** One operation of the API: its subject and how a request message is answered. */
export interface Operation {
  readonly subject: string
  readonly answer: (message: Msg) => Effect.Effect<void>
}

const respondWith = (message: Msg, body: unknown) => Effect.sync(() => void message.respond(JSON.stringify(body)))

/**
 * Parses the body (empty means `{}`), runs the operation, and answers with its result or
 * `{ error }`; a run that yields undefined leaves the request to another node.
 */
export const operation = <Request>(subject: string, request: z.ZodType<Request>, run: (request: Request) => Effect.Effect<unknown, { readonly message: string }>): Operation => ({
  subject,
  answer: (message) => {
    let body: unknown
    try {
      body = JSON.parse(message.data.length === 0 ? "{}" : decoder.decode(message.data))
    } catch {
      return respondWith(message, { error: "the request body is not JSON" } satisfies ApiError)
    }
    const parsed = request.safeParse(body)
    if (!parsed.success) return respondWith(message, { error: describeIssue(parsed.error.issues[0]) } satisfies ApiError)
    return run(parsed.data).pipe(
      Effect.flatMap((result) => (result === undefined ? Effect.void : respondWith(message, result))),
      Effect.catchAll((error) => respondWith(message, { error: error.message } satisfies ApiError)),
      Effect.catchAllDefect((defect) =>
        Effect.logError("control API request failed", defect).pipe(Effect.andThen(respondWith(message, { error: "internal error" } satisfies ApiError)))
      )
    )
  }
})

/**
 * Answers the control API on `$NEX.api.*` from this node's supervisor and the runtime's streams.
 * Deploys do not go through here: the CLI writes the desired state to KV itself (see Deployer).
 */
export const serveControlApi = (connection: NatsConnection, supervisor: Pick<Supervisor, "list" | "get">, nodeName: string): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function* () {
    const since = (text: string | undefined) => (text === undefined ? new Date(Date.now() - hourMs) : new Date(text))
    const operations: ReadonlyArray<Operation> = [
      operation(subjects.api.list, ListRequest, () =>
        supervisor.list.pipe(Effect.map((reports): ListResponse => ({ node: nodeName, workloads: reports.map((report) => report.status) })))
      ),
      operation(subjects.api.info, InfoRequest, (request) =>
        supervisor.get(request.name).pipe(
          Effect.flatMap((report) =>
            report === undefined
              ? Effect.fail({ message: `no workload named ${request.name} on node ${nodeName}` })
              : Effect.succeed<InfoResponse>({ node: nodeName, spec: report.spec, status: report.status })
          )
        )
      ),
      operation(subjects.api.undeploy, UndeployRequest, (request) =>
        undeployWorkload(connection, request.name, { waitMs: 0 }).pipe(Effect.map((result): UndeployResponse => ({ name: request.name, revision: result.revision })))
      ),
      operation(subjects.api.logs, LogsRequest, (request) =>
        readRecent(connection, { stream: names.logsStream, subject: subjects.logs(request.name), since: since(request.since) }, request.limit).pipe(
          Effect.map((entries): LogsResponse => ({ lines: entries.map((entry) => logLineOf(entry, request.name)) }))
        )
      ),
      operation(subjects.api.events, EventsRequest, (request) =>
        readRecent(
          connection,
          { stream: names.eventsStream, subject: request.name === undefined ? subjects.allEvents : subjects.workloadEvents(request.name), since: since(request.since) },
          request.limit
        ).pipe(Effect.map((entries): EventsResponse => ({ events: entries.flatMap((entry) => eventOf(entry) ?? []) })))
      )
    ]

    yield* serveOperations(connection, operations)
  })

/** Subscribes each operation's subject and answers its requests until the scope closes. */
export const serveOperations = (connection: NatsConnection, operations: ReadonlyArray<Operation>): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function* () {
    const runFork = EffectRuntime.runFork(yield* Effect.runtime<never>())
    for (const definition of operations) {
      yield* Effect.acquireRelease(
        Effect.sync(() =>
          connection.subscribe(definition.subject, {
            callback: (error, message) => {
              if (error === null && message.reply !== undefined) runFork(definition.answer(message))
            }
          })
        ),
        (subscription) => Effect.sync(() => subscription.unsubscribe())
      )
    }
  })

import { Context, Data, Effect, Layer, Runtime } from "effect"
import { BrokerConfig, type BrokerConfigInput } from "./BrokerConfig.ts"
import type { InternalClient } from "./InternalClient.ts"
import { Server, type ServerLog } from "./Server.ts"

/** Why the broker could not start; `message` is one sentence for the user. */
export class BrokerStartError extends Data.TaggedError("BrokerStartError")<{
  readonly reason: "PortInUse" | "InvalidConfig" | "Listen"
  readonly message: string
  readonly cause?: unknown
}> {}

export interface BrokerShape {
  readonly host: string
  /** The bound port (differs from the configured one when that was 0). */
  readonly port: number
  readonly url: string
  readonly serverId: string
  /** The engine, for the layers that live in this process (monitoring, JetStream). */
  readonly server: Server
  /** A client with no socket; closed with the broker. */
  readonly connectInternal: (name: string) => InternalClient
  /** Starts serving socket clients when the layer was built with `held` (a no-op otherwise). */
  readonly open: Effect.Effect<void>
}

export class Broker extends Context.Tag("@nex/broker/Broker")<Broker, BrokerShape>() {}

/** One line naming the first invalid field, e.g. `port: Too big: expected number to be <=65535`. */
export const describeConfigIssue = (issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): string => {
  const issue = issues[0]
  const path = issue.path.map(String).join(".")
  return path === "" ? issue.message : `${path}: ${issue.message}`
}

const parseConfig = (input: BrokerConfigInput) =>
  Effect.suspend(() => {
    const parsed = BrokerConfig.safeParse(input)
    return parsed.success
      ? Effect.succeed(parsed.data)
      : Effect.fail(new BrokerStartError({ reason: "InvalidConfig", message: `invalid broker config: ${describeConfigIssue(parsed.error.issues)}`, cause: parsed.error }))
  })

/** Data-plane events are rare (slow consumers, failing subscribers); they go to Effect's logger. */
const logThrough = (runtime: Runtime.Runtime<never>): ServerLog => {
  const run = Runtime.runFork(runtime)
  return {
    info: (message, fields = {}) => void run(Effect.logInfo(message).pipe(Effect.annotateLogs(fields), Effect.annotateLogs("module", "broker"))),
    warn: (message, fields = {}) => void run(Effect.logWarning(message).pipe(Effect.annotateLogs(fields), Effect.annotateLogs("module", "broker")))
  }
}

const listen = (server: Server, held: boolean) =>
  Effect.tryPromise({
    try: () => server.listen({ held }),
    catch: (cause) => {
      const code = (cause as NodeJS.ErrnoException).code
      const address = `${server.config.host}:${server.config.port}`
      return code === "EADDRINUSE"
        ? new BrokerStartError({ reason: "PortInUse", message: `${address} is already in use`, cause })
        : new BrokerStartError({ reason: "Listen", message: `cannot listen on ${address}: ${(cause as Error).message}`, cause })
    }
  })

/**
 * Listens on the configured address; closing the scope drains and closes every connection. With
 * `held`, the port is bound but socket clients wait for `open` (the node opens once JetStream has
 * recovered, so a client's first request never finds it missing).
 */
export const layer = (input: BrokerConfigInput, options: { readonly held?: boolean } = {}): Layer.Layer<Broker, BrokerStartError> =>
  Layer.scoped(
    Broker,
    Effect.gen(function* () {
      const config = yield* parseConfig(input)
      const runtime = yield* Effect.runtime<never>()
      const server = yield* Effect.acquireRelease(
        Effect.sync(() => new Server(config, logThrough(runtime))).pipe(Effect.tap((server) => listen(server, options.held === true))),
        (server) => Effect.promise(() => server.shutdown()).pipe(Effect.tap(() => Effect.logInfo("broker stopped")))
      )
      const url = `nats://${config.host}:${server.port}`
      yield* Effect.logInfo("broker listening").pipe(Effect.annotateLogs({ url, server_id: server.serverId }))
      return {
        host: config.host,
        port: server.port,
        url,
        serverId: server.serverId,
        server,
        connectInternal: (name: string) => server.connectInternal(name),
        open: Effect.sync(() => server.open())
      }
    })
  )

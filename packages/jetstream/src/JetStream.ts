import { mkdirSync } from "node:fs"
import { Broker, Monitoring } from "@nex/broker"
import { Context, Data, Effect, Layer } from "effect"
import { JetStreamEngine, type JetStreamOptions } from "./JetStreamEngine.ts"
import { jetStreamReport } from "./JetStreamReport.ts"

/** Why JetStream could not start; `message` is one sentence for the user. */
export class JetStreamStartError extends Data.TaggedError("JetStreamStartError")<{
  readonly reason: "StoreDirectory" | "Recovery"
  readonly message: string
  readonly cause?: unknown
}> {}

export interface JetStreamShape {
  /** The engine (streams, consumers, API), for in-process layers and tests. */
  readonly engine: JetStreamEngine
  readonly storeDir: string
}

export class JetStream extends Context.Tag("@nex/jetstream/JetStream")<JetStream, JetStreamShape>() {}

const prepareDirectory = (storeDir: string) =>
  Effect.try({
    try: () => mkdirSync(storeDir, { recursive: true }),
    catch: (cause) => new JetStreamStartError({ reason: "StoreDirectory", message: `cannot use ${storeDir} as the JetStream store: ${(cause as Error).message}`, cause })
  })

const startEngine = (engine: JetStreamEngine) =>
  Effect.tryPromise({
    try: async () => {
      try {
        await engine.start()
      } catch (error) {
        await engine.close().catch(() => {})
        throw error
      }
      return engine
    },
    catch: (cause) => new JetStreamStartError({ reason: "Recovery", message: `cannot recover JetStream from ${engine.options.storeDir}: ${(cause as Error).message}`, cause })
  })

/**
 * JetStream on the in-process broker: recovers every stream (config, messages, durable consumer
 * state) from `storeDir`, then serves `$JS.API.>`. Closing the scope stops the consumers, writes
 * their state, flushes and closes the stores.
 */
export const layer = (options: JetStreamOptions): Layer.Layer<JetStream, JetStreamStartError, Broker> =>
  Layer.scoped(
    JetStream,
    Effect.gen(function* () {
      const broker = yield* Broker
      yield* prepareDirectory(options.storeDir)
      const engine = yield* Effect.acquireRelease(
        Effect.suspend(() => startEngine(new JetStreamEngine(broker.server, broker.connectInternal("jetstream"), options))),
        (engine) => Effect.promise(() => engine.close()).pipe(Effect.tap(() => Effect.logInfo("jetstream stopped")))
      )
      Monitoring.registerJetStreamReport(broker.server, jetStreamReport(engine))
      yield* Effect.logInfo("jetstream ready").pipe(
        Effect.annotateLogs({ module: "jetstream", store_dir: options.storeDir, streams: engine.streams.size })
      )
      return { engine, storeDir: options.storeDir }
    })
  )

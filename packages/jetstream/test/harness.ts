import { Broker, type BrokerConfigInput, layer as brokerLayer, Monitoring } from "@nex/broker"
import { jetstream, type JetStreamClient, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream"
import { connect, type NatsConnection } from "@nats-io/transport-node"
import { Context, Effect, Exit, Layer, Logger, LogLevel, Scope } from "effect"
import { afterAll, beforeAll } from "vitest"
import { freePort } from "../../../test/support/ports.ts"
import { tempDir } from "../../../test/support/tempdir.ts"
import { JetStream, type JetStreamOptions, type JetStreamEngine, layer as jetStreamLayer } from "../src/index.ts"

/** Tests read the logs only when something fails. */
const quiet = Logger.minimumLogLevel(LogLevel.Warning)

export interface RunningJetStream {
  readonly url: string
  readonly port: number
  readonly storeDir: string
  /** Base URL of the monitoring endpoints, when asked for. */
  readonly monitoring: string | undefined
  readonly engine: JetStreamEngine
  /** Closes the layers' scope (JetStream, then the broker). */
  readonly close: () => Promise<void>
  /** A connection closed with the node; reconnecting is off so a drop is visible. */
  readonly connect: () => Promise<NatsConnection>
}

/**
 * Starts the broker and JetStream layers in this process on a free port. Pass `storeDir` to
 * reopen a previous node's store (restart recovery).
 */
export const startJetStream = async (
  options: Partial<JetStreamOptions> & { readonly broker?: BrokerConfigInput; readonly monitoring?: boolean } = {}
): Promise<RunningJetStream> => {
  const owned = options.storeDir === undefined ? tempDir("nex-js-") : undefined
  const storeDir = options.storeDir ?? (owned as { path: string }).path
  const scope = await Effect.runPromise(Scope.make())
  const httpPort = options.monitoring ? await freePort() : undefined
  const { broker: brokerConfig, monitoring: _monitoring, ...jetStreamOptions } = options
  const monitoringLayer = httpPort === undefined ? Layer.empty : Monitoring.layer({ host: "127.0.0.1", port: httpPort })
  const layers = Layer.mergeAll(jetStreamLayer({ sync: "always", ...jetStreamOptions, storeDir }), monitoringLayer).pipe(
    Layer.provideMerge(brokerLayer({ port: 0, jetstream: true, ...brokerConfig })),
    Layer.provide(quiet)
  )
  const context = await Effect.runPromise(Layer.buildWithScope(layers, scope))
  const broker = Context.get(context, Broker)
  const jetstream = Context.get(context, JetStream)
  const connections: NatsConnection[] = []
  return {
    url: broker.url,
    port: broker.port,
    storeDir,
    monitoring: httpPort === undefined ? undefined : `http://127.0.0.1:${httpPort}`,
    engine: jetstream.engine,
    close: async () => {
      await Promise.all(connections.map((connection) => connection.close().catch(() => {})))
      await Effect.runPromise(Scope.close(scope, Exit.void))
      owned?.remove()
    },
    connect: async () => {
      const connection = await connect({ servers: broker.url, reconnect: false, timeout: 5000 })
      connections.push(connection)
      return connection
    }
  }
}

/** A store directory that outlives one node, for restart tests. */
export const sharedStore = () => tempDir("nex-js-restart-")

export interface JetStreamSession {
  readonly node: RunningJetStream
  readonly nc: NatsConnection
  readonly jsm: JetStreamManager
  readonly js: JetStreamClient
}

/**
 * One node and one connection with JetStream clients for the enclosing describe block: started in
 * beforeAll, closed in afterAll. Read the fields inside tests (they are set once beforeAll ran).
 */
export const useJetStreamSession = (): JetStreamSession => {
  const session = {} as { -readonly [K in keyof JetStreamSession]: JetStreamSession[K] }
  beforeAll(async () => {
    session.node = await startJetStream()
    session.nc = await session.node.connect()
    session.jsm = await jetstreamManager(session.nc)
    session.js = jetstream(session.nc)
  })
  afterAll(async () => {
    await session.node.close()
  })
  return session
}

import { Broker, type BrokerShape, type BrokerStartError, layer as brokerLayer, Monitoring } from "@nex/broker"
import { type JetStreamStartError, layer as jetStreamLayer } from "@nex/jetstream"
import { type Credentials, deployConfiguredWorkloads, layer as runtimeLayer, Runtime, type RuntimeStartError } from "@nex/runtime"
import { Effect, Layer } from "effect"
import { randomBytes } from "node:crypto"
import { hostname } from "node:os"
import type { NodeOptions } from "./NodeOptions.ts"

const monitoringLayer = (monitoring: NodeOptions["monitoring"]) =>
  monitoring === undefined ? Layer.empty : Monitoring.layer(monitoring)

const monitoringUrl = (monitoring: NodeOptions["monitoring"]): string | undefined =>
  monitoring === undefined ? undefined : `http://${monitoring.host}:${monitoring.port}`

/** Logs once everything is listening, and again when shutdown begins. */
const readyLayer = (options: NodeOptions) =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      const broker = yield* Broker
      const monitoring = monitoringUrl(options.monitoring)
      yield* Effect.logInfo("node ready").pipe(Effect.annotateLogs(monitoring === undefined ? { url: broker.url } : { url: broker.url, monitoring }))
      yield* Effect.addFinalizer(() => Effect.logInfo("node stopping"))
    })
  )

/**
 * The runtime is a NATS client of the embedded broker. With auth on it signs in as a user of its
 * own, admitted by the broker for this process only with every permission (the configured users may
 * not use JetStream); its password is random and never shown.
 */
const runtimeCredentials = (broker: BrokerShape): Credentials | undefined => {
  const authenticator = broker.server.authenticator
  if (!authenticator.required) return undefined
  const credentials = { user: `nex-runtime-${randomBytes(6).toString("hex")}`, password: randomBytes(32).toString("base64url") }
  authenticator.admit(credentials.user, credentials.password)
  return credentials
}

const runtimeOf = (options: NodeOptions, servers: string, credentials: Credentials | undefined, cluster: boolean) =>
  runtimeLayer({
    servers,
    credentials,
    nodeName: options.server.serverName ?? (cluster ? hostname() : "nex"),
    sandboxProcesses: options.runtime.sandboxProcesses,
    cluster: cluster ? { tags: options.runtime.tags, capacity: options.runtime.capacity } : undefined
  })

/** The workload runtime and the workloads of the config file, on whatever NATS the runtime layer connects to. */
const workloadsLayer = <E, R>(options: NodeOptions, runtime: Layer.Layer<Runtime, E, R>) => {
  // A workload that fails to deploy is reported and the node keeps serving the others. Only a
  // standalone node's config is the whole desired state, so only it undeploys what its config dropped.
  const configured = Layer.effectDiscard(
    deployConfiguredWorkloads(options.workloads, { undeployRemoved: options.nats === undefined }).pipe(
      Effect.catchAll((error) => Effect.logError(`workload not deployed: ${error.message}`))
    )
  )
  return configured.pipe(Layer.provideMerge(runtime))
}

const standaloneWorkloadsLayer = (options: NodeOptions) => {
  if (!options.runtime.enabled) return Layer.empty
  const runtime = Layer.unwrapEffect(Effect.map(Broker, (broker) => runtimeOf(options, broker.url, runtimeCredentials(broker), false)))
  // Without a runtime the node still serves messaging and storage.
  return workloadsLayer(options, runtime).pipe(Layer.catchAll((error) => Layer.effectDiscard(Effect.logError(`workloads disabled: ${error.message}`))))
}

/**
 * A node of a NATS cluster: the runtime only, a client of the cluster (credentials go in the URLs,
 * nats://user:password@host). Without the cluster there is nothing to serve, so a failure to start ends it.
 */
const clusterNodeLayer = (options: NodeOptions, nats: string) =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      const runtime = yield* Runtime
      yield* Effect.logInfo("node ready").pipe(Effect.annotateLogs({ nats, node: runtime.nodeName }))
      yield* Effect.addFinalizer(() => Effect.logInfo("node stopping"))
    })
  ).pipe(Layer.provideMerge(workloadsLayer(options, runtimeOf(options, nats, undefined, true))), Layer.discard)

/**
 * One node: the broker and the features built on it. Closing the layer's scope (SIGINT/SIGTERM
 * via NodeRuntime.runMain) stops them in reverse order, the broker last, draining its clients.
 */
export const nodeLayer = (options: NodeOptions): Layer.Layer<never, BrokerStartError | Monitoring.MonitoringStartError | JetStreamStartError | RuntimeStartError> => {
  if (options.nats !== undefined) return clusterNodeLayer(options, options.nats)
  const jetstream = jetStreamLayer({ storeDir: options.jetstream.storeDir, sync: options.jetstream.sync ?? "always" })
  // Clients are held until JetStream has recovered: a node that answers INFO serves $JS.API too.
  const openToClients = Layer.effectDiscard(Effect.flatMap(Broker, (broker) => broker.open))
  const storage = openToClients.pipe(
    Layer.provideMerge(Layer.mergeAll(monitoringLayer(options.monitoring), jetstream)),
    Layer.provideMerge(brokerLayer({ ...options.server, jetstream: true }, { held: true }))
  )
  // The runtime needs JetStream (deployments in KV, bundles in the object store) to be serving.
  const features = standaloneWorkloadsLayer(options).pipe(Layer.provideMerge(storage))
  return readyLayer(options).pipe(Layer.provideMerge(features), Layer.discard)
}

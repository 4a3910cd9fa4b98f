import { Broker, layer as brokerLayer, Monitoring } from "@nex/broker"
import { layer as jetStreamLayer } from "@nex/jetstream"
import { type Credentials, deployConfiguredWorkloads, layer as runtimeLayer } from "@nex/runtime"
import { Effect, Layer } from "effect"
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

/** The runtime is a NATS client of the embedded broker; with auth on it signs in as the first configured identity. */
const runtimeCredentials = (options: NodeOptions): Credentials | undefined => {
  const auth = options.server.auth
  if (auth === undefined) return undefined
  return "token" in auth ? { token: auth.token } : { user: auth.users[0].user, password: auth.users[0].password }
}

const workloadsLayer = (options: NodeOptions) => {
  if (!options.runtime.enabled) return Layer.empty
  const runtime = Layer.unwrapEffect(
    Effect.map(Broker, (broker) =>
      runtimeLayer({
        servers: broker.url,
        credentials: runtimeCredentials(options),
        nodeName: options.server.serverName ?? "nex",
        sandboxProcesses: options.runtime.sandboxProcesses
      })
    )
  )
  // A workload that fails to deploy is reported and the node keeps serving the others.
  const configured = Layer.effectDiscard(
    deployConfiguredWorkloads(options.workloads).pipe(Effect.catchAll((error) => Effect.logError(`workload not deployed: ${error.message}`)))
  )
  // Without a runtime (e.g. its NATS identity may not use JetStream) the node still serves messaging and storage.
  return configured.pipe(
    Layer.provideMerge(runtime),
    Layer.catchAll((error) => Layer.effectDiscard(Effect.logError(`workloads disabled: ${error.message}`)))
  )
}

/**
 * One node: the broker and the features built on it. Closing the layer's scope (SIGINT/SIGTERM
 * via NodeRuntime.runMain) stops them in reverse order, the broker last, draining its clients.
 */
export const nodeLayer = (options: NodeOptions) => {
  const jetstream = jetStreamLayer({ storeDir: options.jetstream.storeDir, sync: options.jetstream.sync ?? "always" })
  const storage = Layer.mergeAll(monitoringLayer(options.monitoring), jetstream).pipe(
    Layer.provideMerge(brokerLayer({ ...options.server, jetstream: true }))
  )
  // The runtime needs JetStream (deployments in KV, bundles in the object store) to be serving.
  const features = workloadsLayer(options).pipe(Layer.provideMerge(storage))
  return readyLayer(options).pipe(Layer.provideMerge(features))
}

import { Broker, layer as brokerLayer, Monitoring } from "@nex/broker"
import { layer as jetStreamLayer } from "@nex/jetstream"
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

/**
 * One node: the broker and the features built on it. Closing the layer's scope (SIGINT/SIGTERM
 * via NodeRuntime.runMain) stops them in reverse order, the broker last, draining its clients.
 */
export const nodeLayer = (options: NodeOptions) => {
  const jetstream = jetStreamLayer({ storeDir: options.jetstream.storeDir, sync: options.jetstream.sync ?? "always" })
  const features = Layer.mergeAll(monitoringLayer(options.monitoring), jetstream).pipe(
    Layer.provideMerge(brokerLayer({ ...options.server, jetstream: true }))
  )
  return readyLayer(options).pipe(Layer.provideMerge(features))
}

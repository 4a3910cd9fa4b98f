import { setTimeout as sleep } from "node:timers/promises"
import { AckPolicy, StorageType } from "@nats-io/jetstream"
import type { Scenario } from "../Scenario.ts"
import { fillStream } from "./jetstreamScaleFill.ts"
import { scaleSizes } from "./jetstreamScaleSizes.ts"
import { type ScaleServer, settle, withScaleServer } from "./jetstreamScaleServer.ts"

const stream = "IDLE"
const storedMessages = 100
const createsInFlight = 32
const createTimeoutMs = 180_000
// Work a burst of creates leaves behind (e.g. queued metadata writes) is not idleness: wait until a
// one-second window uses under 2 % of a core, for at most a minute, before sampling.
const quietWindowMs = 1000
const quietShare = 0.02
const quietTimeoutMs = 60_000

/** Waits until the server uses little CPU; the seconds that took. */
const awaitQuiet = async (server: ScaleServer): Promise<number> => {
  const started = performance.now()
  while (performance.now() - started < quietTimeoutMs) {
    const before = server.cpuSeconds()
    await sleep(quietWindowMs)
    if (server.cpuSeconds() - before < quietShare * (quietWindowMs / 1000)) break
  }
  return (performance.now() - started) / 1000
}

/**
 * Creates many durable pull consumers on one file stream, then leaves them idle (no pull requests):
 * the server's CPU use once idle, as a share of one core, its memory per consumer, and how long it
 * stayed busy after the last create was answered.
 */
export const jetstreamScaleIdleConsumers: Scenario = {
  id: "js-scale-idle-consumers",
  title: "JetStream idle durable pull consumers",
  run: (server, budget) =>
    withScaleServer(server.name, async ({ server: serverProcess, connection, manager }) => {
      const { idleConsumers: count, idleMs } = scaleSizes(budget)
      await manager.streams.add({ name: stream, subjects: ["idle.>"], storage: StorageType.File })
      await fillStream(connection, storedMessages, () => "idle.work", new Uint8Array(128))
      await settle()
      const rssBefore = serverProcess.rssBytes()

      let issued = 0
      const deadline = Date.now() + createTimeoutMs
      const create = async (): Promise<void> => {
        while (issued < count) {
          if (Date.now() > deadline) throw new Error(`only ${issued} of ${count} consumers created in ${createTimeoutMs / 1000} s`)
          const name = `idle-${issued++}`
          await manager.consumers.add(stream, { durable_name: name, ack_policy: AckPolicy.Explicit })
        }
      }
      const started = performance.now()
      await Promise.all(Array.from({ length: createsInFlight }, create))
      const createSeconds = (performance.now() - started) / 1000
      const busySeconds = await awaitQuiet(serverProcess)

      const cpuBefore = serverProcess.cpuSeconds()
      const idleStarted = performance.now()
      await sleep(idleMs)
      const idleSeconds = (performance.now() - idleStarted) / 1000
      const cpuShare = (serverProcess.cpuSeconds() - cpuBefore) / idleSeconds
      const rssAfter = serverProcess.rssBytes()
      return [
        { metric: `idle CPU, ${count.toLocaleString("en-US")} consumers`, unit: "% core", value: cpuShare * 100, higherIsBetter: false },
        { metric: "RSS per consumer", unit: "KiB", value: (rssAfter - rssBefore) / count / 1024, higherIsBetter: false },
        { metric: "RSS with consumers", unit: "MiB", value: rssAfter / 1048576, higherIsBetter: false },
        { metric: `consumer create, ${createsInFlight} in flight`, unit: "creates/s", value: count / createSeconds, higherIsBetter: true },
        { metric: "busy after the last create", unit: "s", value: busySeconds, higherIsBetter: false }
      ]
    })
}

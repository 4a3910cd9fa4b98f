import { setTimeout as sleep } from "node:timers/promises"
import { jetstreamManager, StorageType } from "@nats-io/jetstream"
import { connect, type NatsConnection } from "@nats-io/transport-node"
import type { Scenario } from "../Scenario.ts"
import { fillStream } from "./jetstreamScaleFill.ts"
import { scaleSizes } from "./jetstreamScaleSizes.ts"
import { startScaleServer, withScaleServer } from "./jetstreamScaleServer.ts"

const payload = new Uint8Array(1024)
const stream = "RESTART"
const recoveryTimeoutMs = 120_000
// Once the stream answers, how long to keep asking in case a server loads its count lazily.
const countGraceMs = 5000

interface Recovery {
  readonly seconds: number
  readonly messages: number
}

/** Polls the restarted server until STREAM.INFO answers with `expected` messages (or stops changing). */
const awaitRecovery = async (url: string, expected: number, spawnedAt: number): Promise<Recovery> => {
  let connection: NatsConnection | undefined
  let lastError: unknown
  let firstAnswerAt: number | undefined
  let messages = 0
  try {
    while (performance.now() - spawnedAt < recoveryTimeoutMs) {
      try {
        connection ??= await connect({ servers: url, reconnect: false, timeout: 1000 })
        const manager = await jetstreamManager(connection, { timeout: 1000 })
        messages = (await manager.streams.info(stream)).state.messages
        if (messages === expected) return { seconds: (performance.now() - spawnedAt) / 1000, messages }
        firstAnswerAt ??= performance.now()
        if (performance.now() - firstAnswerAt > countGraceMs) return { seconds: Number.NaN, messages }
      } catch (error) {
        lastError = error
        if (connection?.isClosed()) connection = undefined
      }
      await sleep(10)
    }
    throw new Error(`the stream did not answer within ${recoveryTimeoutMs / 1000} s after restart`, { cause: lastError })
  } finally {
    await connection?.close()
  }
}

/**
 * Fills a file stream with 1 KiB messages, SIGKILLs the server and starts it again on the same store
 * and port: seconds from spawn until STREAM.INFO reports every message, and messages lost.
 */
export const jetstreamScaleRestart: Scenario = {
  id: "js-scale-restart",
  title: "JetStream restart after SIGKILL, file stream of 1 KiB msgs",
  run: (server, budget) =>
    withScaleServer(server.name, async ({ server: first, connection, manager, storeDir, port }, replace) => {
      const count = scaleSizes(budget).restartMessages
      await manager.streams.add({ name: stream, subjects: ["restart.data"], storage: StorageType.File })
      const filled = performance.now()
      await fillStream(connection, count, () => "restart.data", payload)
      const fillSeconds = (performance.now() - filled) / 1000
      const stored = (await manager.streams.info(stream)).state.messages
      if (stored !== count) throw new Error(`${count} publishes acknowledged but ${stored} messages stored`)
      await connection.close()

      await first.stop("SIGKILL")
      const spawnedAt = performance.now()
      const second = await startScaleServer(server.name, storeDir, port)
      replace(second)
      const recovery = await awaitRecovery(second.url, count, spawnedAt)
      return [
        { metric: `restart to ${count.toLocaleString("en-US")} msgs`, unit: "s", value: recovery.seconds, higherIsBetter: false },
        { metric: "messages lost", unit: "msgs", value: count - recovery.messages, higherIsBetter: false },
        { metric: "RSS after restart", unit: "MiB", value: second.rssBytes() / 1048576, higherIsBetter: false },
        { metric: "fill (async publish)", unit: "msgs/s", value: count / fillSeconds, higherIsBetter: true }
      ]
    })
}

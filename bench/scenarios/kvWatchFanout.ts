import { Kvm } from "@nats-io/kv"
import { connect, type NatsConnection } from "@nats-io/transport-node"
import type { Scenario } from "../Scenario.ts"
import { withJetStreamServer } from "./jetstreamServer.ts"

const value = new Uint8Array(128)
const writersInFlight = 64
// Time allowed for the last updates to reach every watcher once the writes are done.
const drainMs = 10_000

/**
 * `watcherCount` watchers, each on its own connection, follow a bucket for updates while one
 * writer puts 128 B values with 64 puts in flight: updates delivered per second over all watchers.
 */
export const kvWatchFanout = (watcherCount: number): Scenario => ({
  id: `kv-watch-${watcherCount}`,
  title: `KV watch fan-out 1 writer -> ${watcherCount} watchers 128 B`,
  run: (server, budget) =>
    withJetStreamServer(server.name, async ({ connection, url }) => {
      const kv = await new Kvm(connection).create("BENCH")
      const updates = Math.max(1000, Math.min(20_000, Math.floor(budget.messages / 50)))
      const watchers: Array<NatsConnection> = []
      try {
        const received = new Array<number>(watcherCount).fill(0)
        const done: Array<Promise<void>> = []
        for (let index = 0; index < watcherCount; index++) {
          const watcherConnection = await connect({ servers: url })
          watchers.push(watcherConnection)
          const entries = await (await new Kvm(watcherConnection).open("BENCH")).watch({ include: "updates" })
          done.push(
            (async () => {
              for await (const _entry of entries) if (++received[index] === updates) break
            })()
          )
        }
        const started = performance.now()
        let issued = 0
        const writer = async (): Promise<void> => {
          while (issued < updates) await kv.put(`key.${issued++ % 100}`, value)
        }
        await Promise.all(Array.from({ length: writersInFlight }, writer))
        const timeout = new Promise<void>((resolve) => setTimeout(resolve, drainMs).unref())
        await Promise.race([Promise.all(done), timeout])
        const seconds = (performance.now() - started) / 1000
        const delivered = received.reduce((sum, count) => sum + count, 0)
        const missing = updates * watcherCount - delivered
        return [
          { metric: "delivered", unit: "updates/s", value: delivered / seconds, higherIsBetter: true },
          ...(missing > 0 ? [{ metric: "not delivered", unit: "updates", value: missing, higherIsBetter: false }] : [])
        ]
      } finally {
        await Promise.all(watchers.map((watcher) => watcher.close()))
      }
    })
})

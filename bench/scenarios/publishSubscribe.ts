import { connect, type NatsConnection } from "@nats-io/transport-node"
import { DeliveryCounter } from "../DeliveryCounter.ts"
import { publishPaced } from "../publishPaced.ts"
import type { Scenario } from "../Scenario.ts"

const payloadSize = 16
// The publisher may run this far ahead of the slowest subscriber, well under any max_pending.
const windowMessages = 50_000
// Extra time to let the last deliveries arrive after publishing stops.
const drainMs = 10_000

/** One publisher, `subscriberCount` subscribers on their own connections; rate of deliveries. */
export const publishSubscribe = (subscriberCount: number, id: string, title: string): Scenario => ({
  id,
  title,
  run: async (server, budget) => {
    const publisher = await connect({ servers: server.url })
    const subscribers: NatsConnection[] = []
    try {
      const counters: DeliveryCounter[] = []
      for (let index = 0; index < subscriberCount; index++) {
        const subscriber = await connect({ servers: server.url })
        subscribers.push(subscriber)
        const counter = new DeliveryCounter()
        subscriber.subscribe("bench.data", { callback: counter.onMessage })
        counters.push(counter)
        await subscriber.flush()
      }
      const allReached = async (target: number, deadline: number): Promise<boolean> => {
        for (const counter of counters) if (!(await counter.reached(target, deadline))) return false
        return true
      }

      const started = performance.now()
      const deadline = Date.now() + budget.timeMs
      const published = await publishPaced(publisher, {
        subject: "bench.data",
        payload: new Uint8Array(payloadSize),
        count: budget.messages,
        deadline,
        beforeBatch: async (sent) => {
          await allReached(sent - windowMessages, deadline + drainMs)
        }
      })
      await allReached(published, Date.now() + drainMs)
      const seconds = (performance.now() - started) / 1000
      const delivered = counters.reduce((sum, counter) => sum + counter.count, 0)
      const lost = published * subscriberCount - delivered
      return [
        { metric: "delivered", unit: "msgs/s", value: delivered / seconds, higherIsBetter: true },
        ...(lost > 0 ? [{ metric: "not delivered", unit: "msgs", value: lost, higherIsBetter: false }] : [])
      ]
    } finally {
      await Promise.all([publisher, ...subscribers].map((connection) => connection.close()))
    }
  }
})

import { describe, expect, it } from "vitest"
import {
  type ClientConnection,
  deliveredThrough,
  diffTargets,
  officialClients,
  type OfficialClient,
  referenceComparison,
  subscribeAndCollect,
  useTarget
} from "../support/index.ts"

const compare = referenceComparison()

describe.each(diffTargets())("$name", (target) => {
  describe.skipIf(!target.available)("publish/subscribe", () => {
    const server = useTarget(target)

    /** Opens `count` connections with the given client and closes them after `body`, whatever happens. */
    const withConnections = async (
      client: OfficialClient,
      count: number,
      body: (connections: ClientConnection[]) => Promise<void>
    ): Promise<void> => {
      const connections: ClientConnection[] = []
      try {
        for (let index = 0; index < count; index++) connections.push(await client.connect({ servers: server().url }))
        await body(connections)
      } finally {
        await Promise.all(connections.map((connection) => connection.close()))
      }
    }

    it.each(officialClients)("$name: fans one publish out to three subscribers, in order", (client) =>
      withConnections(client, 4, async ([publisher, ...subscribers]) => {
        const collected = subscribers.map((subscriber) => subscribeAndCollect(subscriber, "fan.out"))
        await Promise.all(subscribers.map((subscriber) => subscriber.flush()))
        const payloads = Array.from({ length: 10 }, (_, index) => `m${index}`)
        for (const payload of payloads) publisher.publish("fan.out", payload)
        for (const subscriber of subscribers) await deliveredThrough(publisher, subscriber)
        const observed = collected.map(({ messages }) => messages.map((message) => message.string()))
        expect(observed).toEqual([payloads, payloads, payloads])
        compare(target.name, `fan-out ${client.name}`, observed)
      })
    )

    it.each(officialClients)("$name: matches `*`, `>` and treats `foo*` as a literal token", (client) =>
      withConnections(client, 2, async ([publisher, subscriber]) => {
        const patterns = ["wild.*", "wild.>", "wild.*.end", "*.a", "wild.foo*", "wild.a>b"]
        const collected = patterns.map((pattern) => subscribeAndCollect(subscriber, pattern))
        await subscriber.flush()
        const subjects = ["wild", "wild.a", "wild.a.b", "wild.a.end", "wild.foo*", "wild.foobar", "wild.a>b", "wild.a.b.c", "other.a"]
        for (const subject of subjects) publisher.publish(subject, subject)
        await deliveredThrough(publisher, subscriber)
        const observed = Object.fromEntries(patterns.map((pattern, index) => [pattern, collected[index].messages.map((message) => message.subject)]))
        expect(observed).toEqual({
          "wild.*": ["wild.a", "wild.foo*", "wild.foobar", "wild.a>b"],
          "wild.>": ["wild.a", "wild.a.b", "wild.a.end", "wild.foo*", "wild.foobar", "wild.a>b", "wild.a.b.c"],
          "wild.*.end": ["wild.a.end"],
          "*.a": ["wild.a", "other.a"],
          "wild.foo*": ["wild.foo*"],
          "wild.a>b": ["wild.a>b"]
        })
        compare(target.name, `wildcards ${client.name}`, observed)
      })
    )

    it.each(officialClients)("$name: delivers one copy per overlapping subscription on one connection", (client) =>
      withConnections(client, 2, async ([publisher, subscriber]) => {
        const single = subscribeAndCollect(subscriber, "overlap.*")
        const tail = subscribeAndCollect(subscriber, "overlap.>")
        await subscriber.flush()
        publisher.publish("overlap.x", "one")
        await deliveredThrough(publisher, subscriber)
        expect(single.messages.map((message) => message.string())).toEqual(["one"])
        expect(tail.messages.map((message) => message.string())).toEqual(["one"])
      })
    )

    it.each(officialClients)("$name: gives each queue group exactly one copy, plain subscribers all", (client) =>
      withConnections(client, 7, async ([publisher, plainSubscriber, ...members]) => {
        const workers = members.slice(0, 3).map((member) => subscribeAndCollect(member, "work.*", { queue: "workers" }))
        const auditors = members.slice(3).map((member) => subscribeAndCollect(member, "work.>", { queue: "auditors" }))
        const plain = subscribeAndCollect(plainSubscriber, "work.*")
        await Promise.all([plainSubscriber, ...members].map((connection) => connection.flush()))
        const total = 300
        for (let index = 0; index < total; index++) publisher.publish(`work.${index % 7}`, String(index))
        for (const connection of [plainSubscriber, ...members]) await deliveredThrough(publisher, connection)
        const payloadsOf = (group: ReadonlyArray<{ messages: ReadonlyArray<{ string(): string }> }>) =>
          group.flatMap(({ messages }) => messages.map((message) => Number(message.string()))).sort((a, b) => a - b)
        const everyIndex = Array.from({ length: total }, (_, index) => index)
        expect(payloadsOf(workers)).toEqual(everyIndex)
        expect(payloadsOf(auditors)).toEqual(everyIndex)
        expect(plain.messages).toHaveLength(total)
        // Random choice per message: with 300 messages every worker gets some.
        for (const worker of workers) expect(worker.messages.length).toBeGreaterThan(0)
        compare(target.name, `queue groups ${client.name}`, {
          workers: payloadsOf(workers).length,
          auditors: payloadsOf(auditors).length,
          plain: plain.messages.length
        })
      })
    )

    it.each(officialClients)("$name: a queue member alone still gets every message, and unsubscribing hands over", (client) =>
      withConnections(client, 3, async ([publisher, first, second]) => {
        const leaving = subscribeAndCollect(first, "handover", { queue: "q" })
        await first.flush()
        publisher.publish("handover", "before")
        await deliveredThrough(publisher, first)
        leaving.subscription.unsubscribe()
        const staying = subscribeAndCollect(second, "handover", { queue: "q" })
        await Promise.all([first.flush(), second.flush()])
        publisher.publish("handover", "after")
        await deliveredThrough(publisher, second)
        await deliveredThrough(publisher, first)
        expect(leaving.messages.map((message) => message.string())).toEqual(["before"])
        expect(staying.messages.map((message) => message.string())).toEqual(["after"])
      })
    )

    it.each(officialClients)("$name: noEcho keeps a connection's own publishes from its subscriptions", async (client) => {
      const quiet = await client.connect({ servers: server().url, noEcho: true })
      try {
        await withConnections(client, 1, async ([echoing]) => {
          const quietOwn = subscribeAndCollect(quiet, "echo.test")
          const echoingOwn = subscribeAndCollect(echoing, "echo.test")
          await Promise.all([quiet.flush(), echoing.flush()])
          quiet.publish("echo.test", "from-quiet")
          echoing.publish("echo.test", "from-echoing")
          await deliveredThrough(echoing, quiet)
          await deliveredThrough(quiet, echoing)
          // The barrier from `quiet` to itself is a flush: the server routed its publish before the PONG.
          await quiet.flush()
          const observed = {
            quiet: quietOwn.messages.map((message) => message.string()),
            echoing: echoingOwn.messages.map((message) => message.string()).sort()
          }
          expect(observed).toEqual({ quiet: ["from-echoing"], echoing: ["from-echoing", "from-quiet"] })
          compare(target.name, `noEcho ${client.name}`, observed)
        })
      } finally {
        await quiet.close()
      }
    })

    it.each(officialClients)("$name: subscribe({max: 3}) receives exactly three messages", (client) =>
      withConnections(client, 2, async ([publisher, subscriber]) => {
        const limited = subscribeAndCollect(subscriber, "auto.max", { max: 3 })
        await subscriber.flush()
        for (let index = 0; index < 5; index++) publisher.publish("auto.max", String(index))
        await deliveredThrough(publisher, subscriber)
        expect(limited.messages.map((message) => message.string())).toEqual(["0", "1", "2"])
        await limited.subscription.closed
      })
    )

    it.each(officialClients)("$name: unsubscribe(2) after one delivery stops after the second", (client) =>
      withConnections(client, 2, async ([publisher, subscriber]) => {
        const later = subscribeAndCollect(subscriber, "auto.later")
        await subscriber.flush()
        publisher.publish("auto.later", "0")
        await deliveredThrough(publisher, subscriber)
        later.subscription.unsubscribe(2)
        await subscriber.flush()
        for (let index = 1; index < 4; index++) publisher.publish("auto.later", String(index))
        await deliveredThrough(publisher, subscriber)
        expect(later.messages.map((message) => message.string())).toEqual(["0", "1"])
      })
    )
  })
})

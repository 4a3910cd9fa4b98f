import { describe, expect, it } from "vitest"
import { deliveredThrough, diffTargets, officialClients, referenceComparison, subscribeAndCollect, useTarget } from "../support/index.ts"

const compare = referenceComparison()

describe.each(diffTargets())("$name", (target) => {
  describe.skipIf(!target.available)("message headers", () => {
    const server = useTarget(target)

    it.each(officialClients)("$name: round-trips single and multi-value headers with no status", async (client) => {
      const publisher = await client.connect({ servers: server().url })
      const subscriber = await client.connect({ servers: server().url })
      try {
        const received = subscribeAndCollect(subscriber, "hdr.roundtrip")
        await subscriber.flush()
        const headers = client.headers()
        headers.set("Content-Type", "text/plain")
        headers.append("Multi", "first")
        headers.append("Multi", "second")
        headers.append("Multi", "third")
        headers.set("Spaces", "a value with spaces")
        headers.set("Utf8", "grüße")
        publisher.publish("hdr.roundtrip", "body", { headers })
        await deliveredThrough(publisher, subscriber)
        expect(received.messages).toHaveLength(1)
        const [message] = received.messages
        expect(message.string()).toBe("body")
        expect(message.headers?.get("Content-Type")).toBe("text/plain")
        expect(message.headers?.values("Multi")).toEqual(["first", "second", "third"])
        expect(message.headers?.get("Spaces")).toBe("a value with spaces")
        expect(message.headers?.get("Utf8")).toBe("grüße")
        expect(message.headers?.code).toBe(0)
        expect(message.headers?.description).toBe("")
        expect(message.headers?.hasError).toBe(false)
        compare(target.name, `round trip ${client.name}`, [...(message.headers ?? [])])
      } finally {
        await Promise.all([publisher.close(), subscriber.close()])
      }
    })

    it.each(officialClients)("$name: delivers header-only messages and plain empty messages", async (client) => {
      const publisher = await client.connect({ servers: server().url })
      const subscriber = await client.connect({ servers: server().url })
      try {
        const received = subscribeAndCollect(subscriber, "hdr.empty")
        await subscriber.flush()
        const headers = client.headers()
        headers.set("Only", "headers")
        publisher.publish("hdr.empty", undefined, { headers })
        publisher.publish("hdr.empty")
        publisher.publish("hdr.empty", "")
        await deliveredThrough(publisher, subscriber)
        const observed = received.messages.map((message) => ({
          size: message.data.length,
          headers: message.headers === undefined ? null : [...message.headers]
        }))
        expect(observed).toEqual([
          { size: 0, headers: [["Only", ["headers"]]] },
          { size: 0, headers: null },
          { size: 0, headers: null }
        ])
        compare(target.name, `empty ${client.name}`, observed)
      } finally {
        await Promise.all([publisher.close(), subscriber.close()])
      }
    })
  })
})

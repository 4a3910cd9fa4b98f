import { describe, expect, it } from "vitest"
import { deliveredThrough, diffTargets, officialClients, openRawConnection, subscribeAndCollect, useTarget } from "../support/index.ts"

const maxPayload = 1024 * 1024

describe.each(diffTargets())("$name", (target) => {
  describe.skipIf(!target.available)("payload limits", () => {
    const server = useTarget(target)

    it.each(officialClients)("$name: accepts a payload of exactly max_payload and delivers it intact", async (client) => {
      const publisher = await client.connect({ servers: server().url })
      const subscriber = await client.connect({ servers: server().url })
      try {
        const received = subscribeAndCollect(subscriber, "payload.max")
        await subscriber.flush()
        const payload = new Uint8Array(maxPayload)
        for (let index = 0; index < payload.length; index++) payload[index] = (index * 31) & 0xff
        publisher.publish("payload.max", payload)
        await deliveredThrough(publisher, subscriber)
        expect(received.messages).toHaveLength(1)
        expect(Buffer.compare(Buffer.from(received.messages[0].data), Buffer.from(payload))).toBe(0)
        expect(publisher.isClosed()).toBe(false)
      } finally {
        await Promise.all([publisher.close(), subscriber.close()])
      }
    })

    it.each(officialClients)("$name: refuses max_payload + 1 before sending it", async (client) => {
      const publisher = await client.connect({ servers: server().url })
      try {
        let failure: unknown
        try {
          publisher.publish("payload.over", new Uint8Array(maxPayload + 1))
        } catch (error) {
          failure = error
        }
        expect(client.classify(failure)).toBe("max-payload")
        await publisher.flush()
        expect(publisher.isClosed()).toBe(false)
      } finally {
        await publisher.close()
      }
    })

    // Payloads spanning socket reads are assembled in reused buffers, and output chunks are reused
    // once written: every byte must still arrive as published, on every connection.
    it.each(officialClients)("$name: delivers a run of mixed-size payloads intact and in order to several subscribers", async (client) => {
      const publisher = await client.connect({ servers: server().url })
      const subscribers = await Promise.all([1, 2, 3].map(() => client.connect({ servers: server().url })))
      try {
        const collected = subscribers.map((subscriber) => subscribeAndCollect(subscriber, "payload.mixed"))
        await Promise.all(subscribers.map((subscriber) => subscriber.flush()))
        const sizes = [5, 70_000, 1000, 200_000, 0, 131_072, 65_536, 17, 300_000, 4096]
        const payloads = Array.from({ length: 40 }, (_, index) => {
          const payload = new Uint8Array(sizes[index % sizes.length])
          for (let offset = 0; offset < payload.length; offset++) payload[offset] = (offset * 7 + index * 13) & 0xff
          return payload
        })
        for (const payload of payloads) publisher.publish("payload.mixed", payload)
        for (const subscriber of subscribers) await deliveredThrough(publisher, subscriber)
        for (const received of collected) {
          expect(received.messages.map((message) => message.data.length)).toEqual(payloads.map((payload) => payload.length))
          received.messages.forEach((message, index) => expect(Buffer.compare(Buffer.from(message.data), Buffer.from(payloads[index]))).toBe(0))
        }
      } finally {
        await Promise.all([publisher.close(), ...subscribers.map((subscriber) => subscriber.close())])
      }
    })

    it("answers an oversized PUB from a raw socket with Maximum Payload Violation and closes", async () => {
      const connection = await openRawConnection(server().port)
      try {
        await connection.write(`CONNECT {"verbose":false}\r\nPUB payload.raw ${maxPayload + 1}\r\n`)
        // The server must not wait for the payload: it refuses on the control line.
        await connection.waitForClose()
        expect(connection.received()).toBe("-ERR 'Maximum Payload Violation'\r\n")
      } finally {
        connection.close()
      }
    })
  })
})

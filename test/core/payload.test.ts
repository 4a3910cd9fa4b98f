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

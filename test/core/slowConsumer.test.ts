import { describe, expect, it } from "vitest"
import { deliveredThrough, diffTargets, officialClients, openRawConnection, useTarget } from "../support/index.ts"

const maxPending = 1024 * 1024
const messageSize = 64 * 1024
const volumeLimit = 200 * 1024 * 1024
const timeLimitMs = 20_000
// A flush every few messages keeps the healthy subscriber's backlog well under max_pending.
const messagesPerFlush = 4
const bytesPerProbe = 4 * 1024 * 1024

const [client] = officialClients

describe.each(diffTargets())("$name", (target) => {
  describe.skipIf(!target.available)("slow consumer", () => {
    const server = useTarget(target, { maxPending })

    it("cuts off a subscriber that never reads while the publisher and a healthy subscriber carry on", async () => {
      const stalled = await openRawConnection(server().port)
      const publisher = await client.connect({ servers: server().url })
      const healthy = await client.connect({ servers: server().url })
      try {
        // The stalled socket also listens on a probe subject and never answers: a request there times
        // out while it is connected and gets "no responders" at once after the server dropped it.
        await stalled.write('CONNECT {"verbose":false}\r\nSUB slow.data 1\r\nSUB slow.probe 2\r\nPING\r\n')
        await stalled.waitFor("PONG\r\n")
        stalled.socket.pause()
        let healthyReceived = 0
        healthy.subscribe("slow.data", { callback: () => healthyReceived++ })
        await healthy.flush()

        const payload = new Uint8Array(messageSize).fill(0x61)
        const started = Date.now()
        let published = 0
        let stalledGone = false
        while (!stalledGone && published * messageSize < volumeLimit && Date.now() - started < timeLimitMs) {
          publisher.publish("slow.data", payload)
          published++
          if (published % messagesPerFlush === 0) await publisher.flush()
          if ((published * messageSize) % bytesPerProbe === 0) {
            const probe = await publisher.request("slow.probe", "", { timeout: 100 }).then(
              () => "replied",
              (error: unknown) => client.classify(error)
            )
            stalledGone = probe === "no-responders"
          }
        }
        expect(stalledGone, `stalled subscriber still connected after ${published} messages`).toBe(true)

        await deliveredThrough(publisher, healthy)
        expect(healthyReceived).toBe(published)
        expect(publisher.isClosed()).toBe(false)
        expect(healthy.isClosed()).toBe(false)

        // Reading now drains what the kernel still held, then the server's close.
        await stalled.waitForClose(10_000)
        expect(stalled.receivedBytes()).toBeLessThan(published * messageSize)
        expect(stalled.received().startsWith("PONG\r\nMSG slow.data 1 65536\r\n")).toBe(true)
      } finally {
        stalled.close()
        await Promise.all([publisher.close(), healthy.close()])
      }
    })
  })
})

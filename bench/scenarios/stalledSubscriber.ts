import { connect as connectSocket, type Socket } from "node:net"
import { connect } from "@nats-io/transport-node"
import { openRawConnection } from "../../test/support/rawConnection.ts"
import { publishPaced } from "../publishPaced.ts"
import type { Scenario } from "../Scenario.ts"

const payloadSize = 1024
const mebibyte = 1024 * 1024
// At most 1 GiB of payload per phase, whatever the message budget says. A phase of a few hundred
// MiB lasts a third of a second, most of it the one-time cost of buffering max_pending (64 MiB)
// for the stalled socket before it is cut off: that measured the cut-off, not the publisher's pace.
const maxMessages = (1024 * mebibyte) / payloadSize

/** A subscriber on a plain socket that reads and drops everything: delivery at the least client CPU. */
const openReadingSubscriber = (port: number, subject: string): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const socket = connectSocket(port, "127.0.0.1")
    let subscribed = false
    socket.on("data", (chunk: Buffer) => {
      if (subscribed || !chunk.toString("latin1").includes("PONG\r\n")) return
      subscribed = true
      resolve(socket)
    })
    socket.once("error", reject)
    socket.write(`CONNECT {"verbose":false}\r\nSUB ${subject} 1\r\nPING\r\n`)
  })

/**
 * Publisher throughput with no subscriber, with a subscriber that reads, then with one that never
 * reads (the "stalled subscriber"; the reading one is the rate it should not fall below); the server's
 * RSS around the stalled phase shows how much it buffers before cutting the stalled socket off.
 * A fresh server, so the unloaded RSS is its own and no earlier scenario's heap is counted; an
 * untimed first phase warms it up, so the timed phases compare a warm server with itself.
 */
export const stalledSubscriber: Scenario = {
  id: "stalled",
  title: "stalled subscriber (1 KiB)",
  freshServer: true,
  run: async (server, budget) => {
    const unloaded = server.rssBytes()
    const publisher = await connect({ servers: server.url })
    const stalled = await openRawConnection(server.port)
    try {
      const payload = new Uint8Array(payloadSize)
      const count = Math.min(budget.messages, maxMessages)
      const phase = async (): Promise<number> => {
        const started = performance.now()
        const published = await publishPaced(publisher, { subject: "bench.stall", payload, count, deadline: Date.now() + budget.timeMs })
        return published / ((performance.now() - started) / 1000)
      }
      await phase()
      const unobserved = await phase()
      const reader = await openReadingSubscriber(server.port, "bench.stall")
      const withReader = await phase().finally(() => reader.destroy())

      await stalled.write('CONNECT {"verbose":false}\r\nSUB bench.stall 1\r\nPING\r\n')
      await stalled.waitFor("PONG\r\n")
      stalled.socket.pause()
      const before = server.rssBytes()
      let peak = before
      const sampler = setInterval(() => (peak = Math.max(peak, server.rssBytes())), 50)
      const withStalled = await phase()
      clearInterval(sampler)
      const after = server.rssBytes()
      // Reading now shows whether the server had already cut the stalled socket off.
      const cutOff = await stalled.waitForClose(2000).then(
        () => 1,
        () => 0
      )
      return [
        { metric: "publish, no subscriber", unit: "msgs/s", value: unobserved, higherIsBetter: true },
        { metric: "publish, stalled subscriber", unit: "msgs/s", value: withStalled, higherIsBetter: true },
        { metric: "publish, reading subscriber", unit: "msgs/s", value: withReader, higherIsBetter: true },
        { metric: "publish, stalled / no subscriber", unit: "×", value: withStalled / unobserved, higherIsBetter: true },
        { metric: "publish, stalled / reading subscriber", unit: "×", value: withStalled / withReader, higherIsBetter: true },
        { metric: "RSS unloaded", unit: "MiB", value: unloaded / mebibyte, higherIsBetter: false },
        { metric: "RSS before stalled phase", unit: "MiB", value: before / mebibyte, higherIsBetter: false },
        { metric: "RSS peak in stalled phase", unit: "MiB", value: peak / mebibyte, higherIsBetter: false },
        { metric: "RSS peak / unloaded", unit: "×", value: peak / unloaded, higherIsBetter: false },
        { metric: "RSS after stalled phase", unit: "MiB", value: after / mebibyte, higherIsBetter: false },
        { metric: "stalled socket cut off (1=yes)", unit: "", value: cutOff, higherIsBetter: true }
      ]
    } finally {
      stalled.close()
      await publisher.close()
    }
  }
}

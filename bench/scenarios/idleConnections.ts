import { setTimeout as sleep } from "node:timers/promises"
import { openRawConnection, type RawConnection } from "../../test/support/rawConnection.ts"
import type { Scenario } from "../Scenario.ts"

// Lets the server finish allocating for the last connections before reading its RSS.
const settleMs = 300

/** Opens many raw connections that CONNECT, PING and then sit idle; server memory per connection. */
export const idleConnections: Scenario = {
  id: "idle-conns",
  title: "idle connections",
  freshServer: true,
  run: async (server, budget) => {
    const before = server.rssBytes()
    const connections: RawConnection[] = []
    try {
      const started = performance.now()
      // Open in groups so the accept backlog never overflows.
      for (let opened = 0; opened < budget.idleConnections; opened += 100) {
        const group = Math.min(100, budget.idleConnections - opened)
        const batch = await Promise.all(Array.from({ length: group }, () => openRawConnection(server.port)))
        connections.push(...batch)
        await Promise.all(batch.map((connection) => connection.write('CONNECT {"verbose":false}\r\nPING\r\n')))
        await Promise.all(batch.map((connection) => connection.waitFor("PONG\r\n", 10_000)))
      }
      const seconds = (performance.now() - started) / 1000
      await sleep(settleMs)
      const after = server.rssBytes()
      return [
        { metric: "RSS per idle connection", unit: "KiB", value: (after - before) / connections.length / 1024, higherIsBetter: false },
        { metric: "connect+PONG", unit: "conns/s", value: connections.length / seconds, higherIsBetter: true }
      ]
    } finally {
      for (const connection of connections) connection.close()
    }
  }
}

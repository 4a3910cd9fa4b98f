import { connect } from "node:net"
import { setTimeout as sleep } from "node:timers/promises"
import { describe, expect, it } from "vitest"
import { BrokerConfig } from "./BrokerConfig.ts"
import { BusyPoll } from "./BusyPoll.ts"
import { Server } from "./Server.ts"

const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

describe("BusyPoll", () => {
  it("keeps the loop turning for its window after a touch, then lets it sleep", async () => {
    const poll = new BusyPoll(20_000)
    poll.touch()
    expect(poll.active).toBe(true)
    await sleep(5)
    // A loop that slept through those 5 ms would have turned once or not at all.
    expect(poll.turns).toBeGreaterThan(10)
    await sleep(40)
    expect(poll.active).toBe(false)
    const turnsAfterWindow = poll.turns
    await sleep(10)
    expect(poll.turns).toBe(turnsAfterWindow)
  })

  it("a touch inside the window extends it rather than starting a second loop", async () => {
    const poll = new BusyPoll(15_000)
    poll.touch()
    await sleep(10)
    poll.touch()
    await sleep(10)
    expect(poll.active).toBe(true)
    await sleep(30)
    expect(poll.active).toBe(false)
  })

  it("does nothing with a window of 0", async () => {
    const poll = new BusyPoll(0)
    poll.touch()
    await turn()
    expect(poll.enabled).toBe(false)
    expect(poll.active).toBe(false)
    expect(poll.turns).toBe(0)
  })

  it("does not start while paused, and stops when a pause begins", async () => {
    let syncing = true
    const poll = new BusyPoll(50_000)
    poll.pauseWhile(() => syncing)
    poll.touch()
    await turn()
    expect(poll.active).toBe(false)

    syncing = false
    poll.touch()
    await turn()
    expect(poll.active).toBe(true)
    syncing = true
    await turn()
    await turn()
    expect(poll.active).toBe(false)
  })

  it("stop() ends the window at once", async () => {
    const poll = new BusyPoll(1_000_000)
    poll.touch()
    poll.stop()
    await turn()
    await turn()
    expect(poll.active).toBe(false)
  })
})

describe("Server busy poll", () => {
  /** Sends `lines` in one write after CONNECT, and waits for the PONG that ends them. */
  const pingPong = async (server: Server, lines = ""): Promise<void> => {
    const socket = connect(server.port, "127.0.0.1")
    try {
      await new Promise<void>((resolve, reject) => {
        let seen = ""
        socket.on("error", reject)
        socket.on("data", (chunk) => {
          seen += chunk.toString("latin1")
          if (seen.includes("PONG\r\n")) resolve()
        })
        socket.write(`CONNECT {"verbose":false}\r\n${lines}PING\r\n`)
      })
    } finally {
      socket.destroy()
    }
  }

  const withServer = async (input: Partial<BrokerConfig>, body: (server: Server) => Promise<void>) => {
    const server = new Server(BrokerConfig.parse({ port: 0, ...input }))
    await server.listen()
    server.open()
    try {
      await body(server)
    } finally {
      await server.shutdown()
    }
  }

  it("polls after a client's read when configured", () =>
    withServer({ busyPollMicros: 10_000 }, async (server) => {
      await pingPong(server)
      expect(server.busyPoll.active).toBe(true)
      await sleep(30)
      expect(server.busyPoll.active).toBe(false)
      expect(server.busyPoll.turns).toBeGreaterThan(1)
    }))

  it("does not poll after a read carrying several messages: that client is pipelining", () =>
    withServer({ busyPollMicros: 10_000 }, async (server) => {
      await pingPong(server, "PUB a 1\r\nx\r\nPUB a 1\r\nx\r\n")
      await turn()
      expect(server.busyPoll.turns).toBe(0)
    }))

  it("never polls with server.busyPollMicros 0", () =>
    withServer({ busyPollMicros: 0 }, async (server) => {
      await pingPong(server)
      await turn()
      expect(server.busyPoll.turns).toBe(0)
    }))
})

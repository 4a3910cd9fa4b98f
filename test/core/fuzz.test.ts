import { connect as connectSocket } from "node:net"
import { connect } from "@nats-io/transport-node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startNex } from "../support/nexNode.ts"
import type { Target } from "../support/natsServer.ts"

/** A small seeded PRNG so a failure can be replayed. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const validFrames = [
  'CONNECT {"verbose":false,"pedantic":false,"headers":true,"protocol":1}\r\n',
  "PING\r\n",
  "PONG\r\n",
  "SUB fuzz.> 1\r\n",
  "SUB fuzz.* q 2\r\n",
  "PUB fuzz.a 5\r\nhello\r\n",
  "PUB fuzz.b reply.x 0\r\n\r\n",
  "HPUB fuzz.c 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
  "UNSUB 1 3\r\n",
  "UNSUB 2\r\n"
]

const mutate = (frame: string, next: () => number): Uint8Array => {
  const bytes = Buffer.from(frame, "latin1")
  const mutations = 1 + Math.floor(next() * 3)
  for (let index = 0; index < mutations; index++) {
    const position = Math.floor(next() * bytes.length)
    const choice = next()
    if (choice < 0.4) bytes[position] = Math.floor(next() * 256)
    else if (choice < 0.7) bytes[position] = [0x20, 0x0d, 0x0a, 0x09, 0x2e, 0x2a, 0x3e][Math.floor(next() * 7)]
    else return Buffer.concat([bytes.subarray(0, position), bytes.subarray(position + 1)])
  }
  return bytes
}

const fuzzConnection = (port: number, next: () => number): Promise<void> =>
  new Promise((resolve) => {
    const socket = connectSocket(port, "127.0.0.1")
    socket.on("error", () => {})
    socket.on("data", () => {})
    socket.on("close", () => resolve())
    socket.on("connect", () => {
      const frames: Uint8Array[] = []
      for (let index = 0; index < 40; index++) {
        const frame = validFrames[Math.floor(next() * validFrames.length)]
        const roll = next()
        if (roll < 0.5) frames.push(Buffer.from(frame, "latin1"))
        else if (roll < 0.9) frames.push(mutate(frame, next))
        else frames.push(Buffer.from(Array.from({ length: 1 + Math.floor(next() * 64) }, () => Math.floor(next() * 256))))
      }
      const all = Buffer.concat(frames)
      // Random write boundaries exercise the parser's split handling on the real socket path.
      let offset = 0
      while (offset < all.length) {
        const size = 1 + Math.floor(next() * 200)
        socket.write(all.subarray(offset, offset + size))
        offset += size
      }
      setTimeout(() => socket.destroy(), 50)
    })
  })

describe("fuzzing the node over TCP", () => {
  let node: Target
  beforeAll(async () => {
    node = await startNex()
  })
  afterAll(async () => {
    await node?.stop()
  })

  it("survives random and mutated frames on many connections while a healthy client keeps working", { timeout: 60_000 }, async () => {
    const healthy = await connect({ servers: node.url })
    healthy.subscribe("echo", { callback: (_error, message) => void message.respond(message.data) })
    await healthy.flush()
    const requester = await connect({ servers: node.url })
    const next = random(20261126)
    const deadline = Date.now() + 15_000
    let rounds = 0
    let answered = 0
    while (rounds < 40 && Date.now() < deadline) {
      const batch = Array.from({ length: 25 }, () => fuzzConnection(node.port, next))
      const reply = await requester.request("echo", `round ${rounds}`, { timeout: 2000 })
      if (reply.string() === `round ${rounds}`) answered++
      await Promise.all(batch)
      rounds++
    }
    expect(rounds).toBeGreaterThan(5)
    expect(answered).toBe(rounds)
    expect(node.process.child.exitCode).toBeNull()
    expect(healthy.isClosed()).toBe(false)
    await Promise.all([healthy.close(), requester.close()])
  })
})

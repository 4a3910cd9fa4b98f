import { connect, createServer, type Socket } from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import { eventually } from "../../../test/support/eventually.ts"
import { readWithSharedBuffer } from "../src/readWithSharedBuffer.ts"

const cleanups: Array<() => void> = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})

const pattern = (size: number): Buffer => {
  const bytes = Buffer.allocUnsafe(size)
  for (let index = 0; index < size; index++) bytes[index] = (index * 31 + 7) & 255
  return bytes
}

describe("readWithSharedBuffer", () => {
  it("hands over every byte, each read in the same reused memory", async () => {
    const { accepted } = await acceptOne()
    const received: Buffer[] = []
    const memories = new Set<ArrayBufferLike>()
    readWithSharedBuffer(accepted.socket, (chunk) => {
      memories.add(chunk.buffer)
      received.push(Buffer.from(chunk))
    })
    const sent = pattern(1024 * 1024)
    for (let offset = 0; offset < sent.length; offset += 100_000) accepted.client.write(sent.subarray(offset, offset + 100_000))
    await eventually(() => expect(Buffer.concat(received).length).toBe(sent.length))
    expect(Buffer.concat(received).equals(sent)).toBe(true)
    expect(received.length).toBeGreaterThan(1)
    // One backing store for all reads: Node allocated none per read.
    expect(memories.size).toBe(1)
  })

  it("first hands over what arrived before it was attached, then later reads", async () => {
    const { accepted } = await acceptOne()
    accepted.client.write("early ")
    await eventually(() => expect(accepted.socket.readableLength).toBe(6))
    const received: string[] = []
    readWithSharedBuffer(accepted.socket, (chunk) => received.push(chunk.toString("latin1")))
    await eventually(() => expect(received.join("")).toBe("early "))
    accepted.client.write("late")
    await eventually(() => expect(received.join("")).toBe("early late"))
  })

  it("still ends and closes the socket when the peer closes", async () => {
    const { accepted } = await acceptOne()
    let closed = false
    accepted.socket.on("close", () => (closed = true))
    readWithSharedBuffer(accepted.socket, () => {})
    accepted.client.end("bye")
    await eventually(() => expect(closed).toBe(true))
  })
})

/** A loopback listener and one client; resolves with both ends once the server has accepted. */
const acceptOne = (): Promise<{ readonly accepted: { readonly socket: Socket; readonly client: Socket } }> =>
  new Promise((resolve) => {
    let client: Socket | undefined
    const listener = createServer((socket) => {
      cleanups.push(() => socket.destroy())
      resolve({ accepted: { socket, client: client as Socket } })
    })
    cleanups.push(() => listener.close())
    listener.listen(0, "127.0.0.1", () => {
      const address = listener.address()
      // Assigned before the server can accept: that happens on a later turn of the event loop.
      client = connect(typeof address === "object" && address !== null ? address.port : 0, "127.0.0.1")
      cleanups.push(() => client?.destroy())
    })
  })

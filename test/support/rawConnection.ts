import { connect, type Socket } from "node:net"
import { eventually } from "./eventually.ts"

/** A plain TCP connection to a NATS server, for asserting the exact bytes it sends back. */
export interface RawConnection {
  readonly socket: Socket
  /** The JSON of the INFO line the server sent on accept. */
  readonly info: Record<string, unknown>
  /** Writes bytes as they are, resolving once the kernel has taken them. */
  readonly write: (data: string | Uint8Array) => Promise<void>
  /** Everything received after the INFO line, decoded as latin1 so every byte maps to one char. */
  readonly received: () => string
  readonly receivedBytes: () => number
  readonly isClosed: () => boolean
  /** Waits until the received text contains `text`. */
  readonly waitFor: (text: string, timeout?: number) => Promise<void>
  /** Waits until the server has closed the connection (reading whatever it still sends). */
  readonly waitForClose: (timeout?: number) => Promise<void>
  readonly close: () => void
}

const infoLine = /^INFO\s+([^\r\n]+)\r\n/

/** Connects to 127.0.0.1:port and waits for the server's INFO line. */
export const openRawConnection = (port: number): Promise<RawConnection> =>
  new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1")
    const chunks: Buffer[] = []
    let receivedBytes = 0
    let info: Record<string, unknown> | undefined
    let closed = false
    // Accumulate only until INFO is parsed, then keep the rest as the observable stream.
    let pending = Buffer.alloc(0)
    socket.on("data", (chunk: Buffer) => {
      if (info !== undefined) {
        chunks.push(chunk)
        receivedBytes += chunk.length
        return
      }
      pending = Buffer.concat([pending, chunk])
      const match = infoLine.exec(pending.toString("latin1"))
      if (match === null) return
      info = JSON.parse(match[1]) as Record<string, unknown>
      const rest = pending.subarray(Buffer.byteLength(match[0], "latin1"))
      if (rest.length > 0) {
        chunks.push(rest)
        receivedBytes += rest.length
      }
      resolve(connection(info))
    })
    socket.on("error", (error) => {
      if (info === undefined) reject(error)
    })
    socket.on("close", () => {
      closed = true
      if (info === undefined) reject(new Error(`connection closed before INFO: ${pending.toString("latin1")}`))
    })

    const received = () => Buffer.concat(chunks).toString("latin1")
    const connection = (serverInfo: Record<string, unknown>): RawConnection => ({
      socket,
      info: serverInfo,
      write: (data) =>
        new Promise((resolveWrite, rejectWrite) => {
          socket.write(data, (error) => (error ? rejectWrite(error) : resolveWrite()))
        }),
      received,
      receivedBytes: () => receivedBytes,
      isClosed: () => closed,
      waitFor: (text, timeout = 5000) =>
        eventually(
          () => {
            if (!received().includes(text)) throw new Error(`expected ${JSON.stringify(text)}, received ${JSON.stringify(received())}`)
          },
          { timeout }
        ),
      waitForClose: (timeout = 5000) => {
        socket.resume()
        return eventually(
          () => {
            if (!closed) throw new Error(`connection still open after ${receivedBytes} bytes`)
          },
          { timeout }
        )
      },
      close: () => socket.destroy()
    })
  })

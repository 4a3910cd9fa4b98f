import type { Socket } from "node:net"

/**
 * Every accepted socket reads into this one buffer. JavaScript handles one read at a time, and
 * the parser copies whatever it keeps past a read (a control line or payload that spans two),
 * so the memory is free again as soon as the callback returns.
 */
const sharedReadBuffer = Buffer.allocUnsafeSlow(64 * 1024)

/**
 * Node's own read path for a socket created with the `onread` option, found on the socket by
 * the symbols' descriptions: `net.Server` offers no such option for the sockets it accepts.
 */
interface UserBufferHooks {
  readonly buffer: symbol
  readonly callback: symbol
  readonly generator: symbol
}

const findHooks = (socket: Socket): UserBufferHooks | undefined => {
  const byDescription = new Map(Object.getOwnPropertySymbols(socket).map((symbol) => [symbol.description, symbol]))
  const buffer = byDescription.get("kBuffer")
  const callback = byDescription.get("kBufferCb")
  const generator = byDescription.get("kBufferGen")
  if (buffer === undefined || callback === undefined || generator === undefined) return undefined
  return { buffer, callback, generator }
}

interface UserBufferHandle {
  readonly useUserBuffer?: (buffer: Uint8Array) => void
}

/**
 * Calls `onChunk` with each read from `socket`; the chunk is valid only during the call. Without
 * this, Node allocates a fresh buffer per read, and at hundreds of MiB/s those backing stores
 * drive V8 into a full collection several times a second. Falls back to `data` events when the
 * running Node lacks the hooks.
 */
export const readWithSharedBuffer = (socket: Socket, onChunk: (chunk: Buffer) => void): void => {
  const hooks = findHooks(socket)
  const handle = (socket as unknown as { readonly _handle: UserBufferHandle | null })._handle
  const internals = socket as unknown as Record<symbol, unknown>
  if (hooks === undefined || handle === null || typeof handle.useUserBuffer !== "function" || internals[hooks.buffer] !== null) {
    socket.on("data", onChunk)
    return
  }
  internals[hooks.buffer] = sharedReadBuffer
  internals[hooks.generator] = null
  internals[hooks.callback] = (length: number, buffer: Buffer) => {
    onChunk(buffer.subarray(0, length))
  }
  handle.useUserBuffer(sharedReadBuffer)
  // Bytes that arrived before this (while a held socket waited) sit in the stream's own buffer;
  // like a `data` listener, hand them over on the next tick, after the caller's setup.
  if (socket.readableLength > 0) {
    process.nextTick(() => {
      for (let chunk: Buffer | null = socket.read(); chunk !== null; chunk = socket.read()) onChunk(chunk)
    })
  }
}

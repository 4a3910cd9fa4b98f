import { randomBytes } from "node:crypto"
import { Objm, setSha256Backend } from "@nats-io/obj"
import type { Scenario } from "../Scenario.ts"
import { withJetStreamServer } from "./jetstreamServer.ts"

const mebibyte = 1024 * 1024

/** `size` bytes as a stream of 1 MiB pieces of one random block, so the bench never holds the object. */
const generated = (size: number): ReadableStream<Uint8Array> => {
  const block = randomBytes(mebibyte)
  let sent = 0
  return new ReadableStream<Uint8Array>({
    pull: (controller) => {
      if (sent >= size) return controller.close()
      const piece = block.subarray(0, Math.min(mebibyte, size - sent))
      sent += piece.length
      controller.enqueue(piece)
    }
  })
}

/**
 * Puts a `sizeMiB` MiB object into a file bucket through @nats-io/obj (os.put from a stream) and
 * reads it back (os.get, digest checked by the client): MiB per second each way. The client hashes
 * with Node's SHA-256, as `nats object` does; its pure-JS default would cap both directions.
 */
export const objectTransfer = (sizeMiB: number): Scenario => ({
  id: `object-${sizeMiB}mib`,
  title: `Object store ${sizeMiB} MiB put and get`,
  run: (server) =>
    withJetStreamServer(server.name, async ({ connection }) => {
      setSha256Backend("native")
      const store = await new Objm(connection).create("BENCH")
      const size = sizeMiB * mebibyte
      const putStarted = performance.now()
      const info = await store.put({ name: "object.bin" }, generated(size))
      const putSeconds = (performance.now() - putStarted) / 1000
      if (info.size !== size) throw new Error(`stored ${info.size} of ${size} bytes`)

      const getStarted = performance.now()
      const result = await store.get("object.bin")
      if (result === null) throw new Error("the object was not found")
      let received = 0
      for await (const part of result.data) received += part.length
      const failure = await result.error
      if (failure) throw failure
      const getSeconds = (performance.now() - getStarted) / 1000
      if (received !== size) throw new Error(`read ${received} of ${size} bytes`)
      return [
        { metric: "put", unit: "MiB/s", value: sizeMiB / putSeconds, higherIsBetter: true },
        { metric: "get", unit: "MiB/s", value: sizeMiB / getSeconds, higherIsBetter: true }
      ]
    })
})

import { createHash } from "node:crypto"
import { once } from "node:events"
import { open, rename, rm } from "node:fs/promises"
import { basename, dirname, join } from "node:path"
import type { JetStreamClient } from "@nats-io/jetstream"
import type { ObjectInfo, ObjectStore, ObjectStoreMeta } from "@nats-io/obj"
import { CliError } from "./CliError.ts"
import { digestText } from "./objectOutput.ts"
import { objectStreamName } from "./objectSession.ts"
import type { TransferProgress } from "./progress.ts"
import { formatBytes } from "./size.ts"

// Chunks asked for per pull: 2 MiB of the default 128 KiB chunks, the most a download holds at once.
const chunksPerPull = 16

/** Streams `source` into the store under `meta` (os.put reads it a chunk at a time), reporting progress. */
export const uploadObject = (store: ObjectStore, meta: ObjectStoreMeta, source: ReadableStream<Uint8Array>, progress: TransferProgress): Promise<ObjectInfo> => {
  const counted = source.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform: (chunk, controller) => {
        progress.advance(chunk.length)
        controller.enqueue(chunk)
      }
    })
  )
  return store.put(meta, counted).finally(progress.finish)
}

const expectedDigest = (info: ObjectInfo): Buffer => {
  if (!info.digest.startsWith("SHA-256=")) throw new CliError(`${info.bucket} > ${info.name} has an unknown digest type: ${info.digest}`)
  return Buffer.from(info.digest.slice("SHA-256=".length), "base64url")
}

// What a failed write to the destination means, in the words `ls` or `cp` would use.
const fileProblems: Record<string, string> = {
  ENOENT: "no such directory",
  EACCES: "permission denied",
  EISDIR: "is a directory",
  ENOSPC: "no space left on device",
  EROFS: "read-only file system"
}

/** A file system error (it names a syscall) as one sentence about the destination; anything else as it is. */
const writeFailure = (error: unknown, destination: string): unknown => {
  const { code, syscall } = (error ?? {}) as NodeJS.ErrnoException
  return typeof syscall === "string" && code !== undefined ? new CliError(`cannot write ${destination}: ${fileProblems[code] ?? code}`) : error
}

export interface DownloadOptions {
  readonly client: JetStreamClient
  /** How long to wait for the next chunks before giving up, in milliseconds. */
  readonly timeout: number
  readonly progress: TransferProgress
}

/**
 * Writes the object `info` describes to `destination`, verifying its size and SHA-256 digest; the
 * file appears (atomically replacing any old one) only once both match. Chunks are pulled a few at
 * a time and each is on its way to disk before more are asked for, so memory stays bounded
 * whatever the object's size; os.get's stream would queue every chunk the server sends whether or
 * not the file keeps up.
 */
export const downloadObject = async (info: ObjectInfo, destination: string, options: DownloadOptions): Promise<number> => {
  const expected = expectedDigest(info)
  const temporary = join(dirname(destination), `.${basename(destination)}.${process.pid}.partial`)
  // Opening first reports an unwritable destination before anything is fetched.
  const file = (await open(temporary, "w").catch((error: unknown) => Promise.reject(writeFailure(error, destination)))).createWriteStream()
  // A write error is kept and thrown at the next chunk rather than left unhandled.
  let writeError: Error | undefined
  file.on("error", (error) => (writeError ??= error))
  const write = async (data: Uint8Array): Promise<void> => {
    if (writeError !== undefined) throw writeError
    // once() rejects if the stream fails while the chunk waits for room.
    if (!file.write(data)) await once(file, "drain")
  }
  const hash = createHash("sha256")
  let received = 0
  try {
    if (info.size > 0) {
      const consumer = await options.client.consumers.get(objectStreamName(info.bucket), { filter_subjects: `$O.${info.bucket}.C.${info.nuid}` })
      try {
        let finished = false
        while (!finished) {
          const batch = await consumer.fetch({ max_messages: chunksPerPull, expires: Math.max(1000, options.timeout) })
          let delivered = 0
          for await (const message of batch) {
            delivered++
            hash.update(message.data)
            received += message.data.length
            options.progress.advance(message.data.length)
            await write(message.data)
            if (message.info.pending === 0) {
              finished = true
              break
            }
          }
          if (delivered === 0) {
            throw new CliError(`${info.bucket} > ${info.name}: no data arrived for ${formatBytes(info.size - received)} of it; its chunks may have been removed`)
          }
        }
      } finally {
        await consumer.delete().catch(() => false)
      }
    }
    if (writeError !== undefined) throw writeError
    file.end()
    await once(file, "finish")
    options.progress.finish()
    if (received !== info.size) throw new CliError(`${info.bucket} > ${info.name}: received ${received} bytes but the object has ${info.size}`)
    const actual = hash.digest()
    if (!actual.equals(expected)) {
      throw new CliError(
        `${info.bucket} > ${info.name} failed its digest check: expected ${digestText(info.digest)}, received SHA-256 ${actual.toString("hex")}`
      )
    }
    await rename(temporary, destination)
    return received
  } catch (error) {
    file.destroy()
    await rm(temporary, { force: true })
    throw writeFailure(error, destination)
  }
}

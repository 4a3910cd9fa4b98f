import { JetStreamApiError, type JetStreamManager, type StreamConfig, type StreamInfo } from "@nats-io/jetstream"
import { CliError } from "./CliError.ts"

// err_code for "stream not found".
const streamNotFound = 10059

/** The StreamInfo of the stream behind a bucket, or null when there is no such stream. */
export const findBucketStream = async (manager: JetStreamManager, stream: string): Promise<StreamInfo | null> => {
  try {
    return await manager.streams.info(stream)
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === streamNotFound) return null
    throw error
  }
}

/** The bucket's stream, or the "bucket not found" the Go clients report. */
export const requireBucketStream = async (manager: JetStreamManager, stream: string): Promise<StreamInfo> => {
  const info = await findBucketStream(manager, stream)
  if (info === null) throw new CliError("bucket not found")
  return info
}

/**
 * Creating a bucket that exists is fine when nothing asked for differs, as STREAM.CREATE is for an
 * identical config; the JS clients skip that check, so it is made here with the server's words.
 */
export const assertSameBucketConfig = (existing: StreamConfig, expected: Partial<StreamConfig>): void => {
  const current = existing as unknown as Record<string, unknown>
  const differs = Object.entries(expected).some(([field, value]) => value !== undefined && (current[field] ?? "") !== value)
  if (differs) throw new CliError("stream name already in use with a different configuration")
}

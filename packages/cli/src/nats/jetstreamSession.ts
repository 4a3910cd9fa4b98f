import { type JetStreamClient, JetStreamApiError, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream"
import type { NatsConnection } from "@nats-io/transport-node"
import { CliError } from "./CliError.ts"
import { type ConnectionSettings, openConnection } from "./connection.ts"
import { formatDuration } from "./duration.ts"

export interface JetStreamSession {
  readonly connection: NatsConnection
  readonly manager: JetStreamManager
  readonly client: JetStreamClient
}

const notEnabled = "JetStream is not enabled on the server"

// err_codes that mean the account or server has no JetStream.
const notEnabledCodes = new Set([10039, 10076])

/** Turns what the JetStream client throws into the one-line CliError the command prints. */
export const jetStreamFailure = (error: unknown, settings: ConnectionSettings): unknown => {
  if (error instanceof CliError) return error
  // The client's JetStreamNotEnabled class is not exported; it is recognised by name.
  if (error instanceof Error && error.name === "JetStreamNotEnabled") return new CliError(notEnabled)
  if (error instanceof JetStreamApiError) {
    const description = error.apiError().description
    return new CliError(notEnabledCodes.has(error.code) ? notEnabled : description)
  }
  if (error instanceof Error && error.name === "TimeoutError") {
    return new CliError(`timed out after ${formatDuration(settings.timeout)} waiting for the JetStream API`)
  }
  return error
}

/**
 * Connects, checks that the server answers the JetStream API (as natscli does before any stream
 * or consumer command), runs `use` and closes the connection; failures become one CliError line.
 */
export const withJetStream = async <A>(settings: ConnectionSettings, use: (session: JetStreamSession) => Promise<A>): Promise<A> => {
  const connection = await openConnection(settings)
  try {
    const manager = await jetstreamManager(connection, { timeout: settings.timeout })
    return await use({ connection, manager, client: jetstream(connection, { timeout: settings.timeout }) })
  } catch (error) {
    throw jetStreamFailure(error, settings)
  } finally {
    await connection.close()
  }
}

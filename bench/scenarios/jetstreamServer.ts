import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream"
import { connect, type NatsConnection } from "@nats-io/transport-node"
import { startNatsServer, type Target } from "../../test/support/natsServer.ts"
import { startNex } from "../../test/support/nexNode.ts"
import type { ServerName } from "../BenchServer.ts"

export interface JetStreamBenchContext {
  readonly connection: NatsConnection
  readonly manager: JetStreamManager
  readonly url: string
}

/**
 * Runs `use` against a server of the given kind started for this run with JetStream and a temp
 * store: the shared bench nats-server runs without -js, and a fresh store keeps runs independent.
 * A server that does not answer the JetStream API fails the run with an "n/a" reason.
 */
export const withJetStreamServer = async <A>(name: ServerName, use: (context: JetStreamBenchContext) => Promise<A>): Promise<A> => {
  const target: Target = name === "nex" ? await startNex({ bundled: true }) : await startNatsServer({ jetstream: true })
  try {
    const connection = await connect({ servers: target.url })
    try {
      const manager = await jetstreamManager(connection).catch((error: unknown) => {
        const reason = error instanceof Error && error.name === "JetStreamNotEnabled" ? "JetStream is not enabled" : String(error)
        throw new Error(`n/a: ${reason} on ${name}`)
      })
      return await use({ connection, manager, url: target.url })
    } finally {
      await connection.close()
    }
  } finally {
    await target.stop()
  }
}

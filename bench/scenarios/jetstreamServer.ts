import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream"
import { connect, type NatsConnection } from "@nats-io/transport-node"
import { startNatsServer, type Target } from "../../test/support/natsServer.ts"
import { startNex } from "../../test/support/nexNode.ts"
import { tempDir } from "../../test/support/tempdir.ts"
import { cpuSeconds, residentBytes, type ServerName } from "../BenchServer.ts"

export interface JetStreamBenchOptions {
  /**
   * The node's file-store sync policy (default "always": fsync before each ack). nats-server 2.9
   * syncs every two minutes, which "interval" matches.
   */
  readonly nexSync?: "always" | "interval" | "never"
}

export interface JetStreamBenchContext {
  readonly connection: NatsConnection
  readonly manager: JetStreamManager
  readonly url: string
  /** Resident set size of the server process in bytes. */
  readonly rssBytes: () => number
  /** CPU time the server process has used, in seconds. */
  readonly cpuSeconds: () => number
}

/**
 * Runs `use` against a server of the given kind started for this run with JetStream and a temp
 * store: the shared bench nats-server runs without -js, and a fresh store keeps runs independent.
 * A server that does not answer the JetStream API fails the run with an "n/a" reason.
 */
export const withJetStreamServer = async <A>(
  name: ServerName,
  use: (context: JetStreamBenchContext) => Promise<A>,
  options: JetStreamBenchOptions = {}
): Promise<A> => {
  const config = name !== "nex" || options.nexSync === undefined ? undefined : tempDir("nex-bench-config-")
  const configFile = config === undefined ? undefined : join(config.path, "nex.config.ts")
  if (configFile !== undefined) writeFileSync(configFile, `export default { jetstream: { sync: ${JSON.stringify(options.nexSync)} } }\n`)
  const target: Target = await (name === "nex" ? startNex({ bundled: true, configFile }) : startNatsServer({ jetstream: true })).catch((error: unknown) => {
    config?.remove()
    throw error
  })
  try {
    const connection = await connect({ servers: target.url })
    try {
      const manager = await jetstreamManager(connection).catch((error: unknown) => {
        const reason = error instanceof Error && error.name === "JetStreamNotEnabled" ? "JetStream is not enabled" : String(error)
        throw new Error(`n/a: ${reason} on ${name}`)
      })
      const pid = target.process.child.pid ?? 0
      return await use({ connection, manager, url: target.url, rssBytes: () => residentBytes(pid), cpuSeconds: () => cpuSeconds(pid) })
    } finally {
      await connection.close()
    }
  } finally {
    await target.stop()
    config?.remove()
  }
}

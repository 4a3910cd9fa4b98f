import type { BrokerConfigInput } from "@nex/broker"
import { Data, Effect } from "effect"
import type { JetStreamConfig, NexConfig } from "../config.ts"

/** The `nex up` flags; each one, when given, wins over the config file. */
export interface UpFlags {
  readonly host?: string | undefined
  /** As typed; checked here so the error names the flag. */
  readonly port?: string | undefined
  /** As typed; 0 turns monitoring off. */
  readonly httpPort?: string | undefined
  readonly store?: string | undefined
  readonly name?: string | undefined
  readonly noRuntime?: boolean | undefined
  /** NATS cluster URLs, comma separated: run no embedded broker. */
  readonly nats?: string | undefined
  /** Comma-separated node tags (cluster mode). */
  readonly tags?: string | undefined
}

/** Everything one node is started with, after the config file and the flags are combined. */
export interface NodeOptions {
  readonly server: BrokerConfigInput
  /** Undefined when monitoring is off. */
  readonly monitoring: { readonly host: string; readonly port: number } | undefined
  readonly jetstream: JetStreamConfig
  readonly workloads: NexConfig["workloads"]
  readonly runtime: NexConfig["runtime"]
  /**
   * The NATS cluster the node joins (URLs, comma separated) instead of running its own broker,
   * JetStream and monitoring; undefined for a standalone node.
   */
  readonly nats: string | undefined
}

export class NodeOptionsError extends Data.TaggedError("NodeOptionsError")<{
  readonly message: string
}> {}

const parsePort = (flag: string, text: string | undefined): Effect.Effect<number | undefined, NodeOptionsError> =>
  text === undefined || (/^\d{1,5}$/.test(text) && Number(text) <= 65535)
    ? Effect.succeed(text === undefined ? undefined : Number(text))
    : Effect.fail(new NodeOptionsError({ message: `${flag}: expected a number from 0 to 65535, got ${JSON.stringify(text)}` }))

const checkText = (flag: string, value: string | undefined): Effect.Effect<void, NodeOptionsError> =>
  value === undefined || value.trim() !== "" ? Effect.void : Effect.fail(new NodeOptionsError({ message: `${flag}: must not be empty` }))

/** Lays the flags over the config file. */
export const resolveNodeOptions = (config: NexConfig, flags: UpFlags): Effect.Effect<NodeOptions, NodeOptionsError> =>
  Effect.gen(function* () {
    const port = yield* parsePort("--port", flags.port)
    const httpPort = yield* parsePort("--http-port", flags.httpPort)
    yield* checkText("--host", flags.host)
    yield* checkText("--store", flags.store)
    yield* checkText("--name", flags.name)
    yield* checkText("--nats", flags.nats)
    const nats = flags.nats ?? config.nats
    if (nats !== undefined && flags.noRuntime === true) return yield* new NodeOptionsError({ message: "--nats with --no-runtime: a node on a NATS cluster runs workloads only, so it would do nothing" })
    const tags = flags.tags === undefined ? config.runtime.tags : flags.tags.split(",").map((tag) => tag.trim()).filter((tag) => tag !== "")
    const host = flags.host ?? config.server.host
    const server: BrokerConfigInput = {
      ...config.server,
      host,
      port: port ?? config.server.port,
      serverName: flags.name ?? config.server.serverName
    }
    const monitoringPort = httpPort ?? config.monitoring.port
    return {
      server,
      monitoring: monitoringPort === 0 ? undefined : { host: config.monitoring.host ?? host, port: monitoringPort },
      jetstream: { ...config.jetstream, storeDir: flags.store ?? config.jetstream.storeDir },
      workloads: config.workloads,
      runtime: { ...config.runtime, ...(tags === undefined ? {} : { tags }), enabled: flags.noRuntime === true ? false : config.runtime.enabled },
      nats
    }
  })

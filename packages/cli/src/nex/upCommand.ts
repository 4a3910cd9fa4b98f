import { Command, Options } from "@effect/cli"
import type { BrokerStartError, Monitoring } from "@nex/broker"
import type { JetStreamStartError } from "@nex/jetstream"
import type { RuntimeStartError } from "@nex/runtime"
import { Console, Effect, Layer, Option } from "effect"
import { type ConfigError, loadConfig } from "../loadConfig.ts"
import { nodeLayer } from "./nodeLayer.ts"
import { type NodeOptionsError, resolveNodeOptions } from "./NodeOptions.ts"

const optionalText = (name: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(description), Options.optional)

type StartError = ConfigError | NodeOptionsError | BrokerStartError | Monitoring.MonitoringStartError | JetStreamStartError | RuntimeStartError

/** The one line `nex up` prints when the node cannot start. */
export const describeStartError = (error: StartError): string =>
  error._tag === "BrokerStartError" && error.reason === "PortInUse"
    ? `nex up: ${error.message} (is another node running? use --port)`
    : `nex up: ${error.message}`

/** `nex up`: runs a node in the foreground until SIGINT or SIGTERM. */
export const upCommand = Command.make(
  "up",
  {
    config: optionalText("config", "Config file (default ./nex.config.ts when present)"),
    host: optionalText("host", "Address to listen on for NATS clients (default 127.0.0.1)"),
    port: optionalText("port", "Port for NATS clients (default 4222; 0 picks a free one)"),
    httpPort: optionalText("http-port", "Port for HTTP monitoring (default 8222; 0 turns it off)"),
    store: optionalText("store", "Directory for JetStream data (default .nex-data)"),
    name: optionalText("name", "Server name shown to clients and in monitoring"),
    noRuntime: Options.boolean("no-runtime").pipe(Options.withDescription("Run no workloads: broker, JetStream and monitoring only")),
    nats: optionalText("nats", "Join the NATS cluster at these URLs (comma separated) instead of running a broker: workloads only, shared with its other nodes"),
    tags: optionalText("tags", "This node's tags, comma separated, matched by deployments' tag constraints (with --nats)")
  },
  (flags) =>
    Effect.gen(function* () {
      const config = yield* loadConfig(Option.getOrUndefined(flags.config))
      const options = yield* resolveNodeOptions(config, {
        host: Option.getOrUndefined(flags.host),
        port: Option.getOrUndefined(flags.port),
        httpPort: Option.getOrUndefined(flags.httpPort),
        store: Option.getOrUndefined(flags.store),
        name: Option.getOrUndefined(flags.name),
        noRuntime: flags.noRuntime,
        nats: Option.getOrUndefined(flags.nats),
        tags: Option.getOrUndefined(flags.tags)
      })
      return yield* Layer.launch(nodeLayer(options))
    }).pipe(Effect.tapError((error) => Console.error(describeStartError(error))))
).pipe(Command.withDescription("Run a node: the NATS broker, JetStream, the workload runtime and monitoring, in the foreground"))

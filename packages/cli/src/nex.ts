import { Command } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Console, Effect } from "effect"
import { deployCommand } from "./nex/deployCommand.ts"
import { infoCommand } from "./nex/infoCommand.ts"
import * as JsonLogger from "./nex/jsonLogger.ts"
import { listCommand } from "./nex/listCommand.ts"
import { nodeCommand } from "./nex/nodeCommand.ts"
import { eventsCommand, logsCommand } from "./nex/streamCommands.ts"
import { undeployCommand } from "./nex/undeployCommand.ts"
import { upCommand } from "./nex/upCommand.ts"

const nex = Command.make("nex").pipe(
  Command.withDescription("A NATS-compatible node with JetStream and workloads in one process"),
  Command.withSubcommands([upCommand, deployCommand, listCommand, infoCommand, logsCommand, eventsCommand, undeployCommand, nodeCommand])
)

const cli = Command.run(nex, { name: "nex", version: "0.1.0" })

// Failures print their own one-line message and a defect (a bug) its full cause; runMain turns
// either into exit code 1, and SIGINT/SIGTERM into interruption, which closes the node's scope.
cli(process.argv).pipe(
  Effect.tapDefect((defect) => Console.error(`nex: unexpected error: ${Cause.pretty(defect)}`)),
  Effect.provide(NodeContext.layer),
  Effect.provide(JsonLogger.layer),
  NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true })
)

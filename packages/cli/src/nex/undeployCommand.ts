import { Args, Command } from "@effect/cli"
import { undeployWorkload } from "@nex/runtime"
import { Console, Effect } from "effect"
import { reportFailure } from "./CommandFailure.ts"
import { connectionFlags, openConnection } from "./connectionFlags.ts"

/** `nex undeploy NAME`: removes it from the desired state and waits for a node to stop it. */
export const undeployCommand = Command.make("undeploy", { name: Args.text({ name: "name" }), ...connectionFlags }, (flags) =>
  Effect.gen(function* () {
    const connection = yield* openConnection(flags)
    const result = yield* undeployWorkload(connection, flags.name)
    yield* Console.log(
      result.confirmedBy === undefined
        ? `undeployed ${flags.name} (revision ${result.revision}); no node confirmed it stopped within 10s`
        : `undeployed ${flags.name} (revision ${result.revision}); node ${result.confirmedBy} stopped it`
    )
  }).pipe(Effect.scoped, reportFailure("undeploy"))
).pipe(Command.withDescription("Stop a workload and remove its deployment"))

import { Console, Data, Effect } from "effect"

/** Why a `nex` command failed, as one line; the process exits 1. */
export class CommandFailure extends Data.TaggedError("CommandFailure")<{
  readonly message: string
}> {}

/** Prints a failure as `nex <command>: <message>` on stderr (the exit code is set by runMain). */
export const reportFailure =
  (command: string) =>
  <A, R>(effect: Effect.Effect<A, { readonly message: string }, R>): Effect.Effect<A, { readonly message: string }, R> =>
    effect.pipe(Effect.tapError((error) => Console.error(`nex ${command}: ${error.message}`)))

import type { CommandSpec, ParsedArguments } from "./CommandLine.ts"
import type { ConnectionSettings } from "./connection.ts"

/** A command's spec and what runs it. */
export interface Command {
  readonly spec: CommandSpec
  readonly run: (parsed: ParsedArguments, settings: ConnectionSettings) => Promise<void>
}

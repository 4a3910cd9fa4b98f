/** A failure the user can act on; its message is printed as one line after "nats: ", exit code 1. */
export class CliError extends Error {
  override readonly name: string = "CliError"
}

/** Bad command-line input; the message names the argument or flag. */
export class UsageError extends CliError {
  override readonly name: string = "UsageError"
}

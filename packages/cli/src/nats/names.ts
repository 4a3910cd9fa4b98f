import { UsageError } from "./CliError.ts"

/** Throws a UsageError unless `name` can name a stream or consumer (nats-server's rules). */
export const assertJetStreamName = (kind: "stream" | "consumer", name: string): void => {
  if (name === "" || /[\s.*>/\\]/.test(name)) {
    throw new UsageError(`invalid ${kind} name ${JSON.stringify(name)}: expected a name without spaces, dots, *, >, / or \\`)
  }
}

import { connect, type NatsConnection } from "@nats-io/transport-node"
import { Data, Effect, type Scope } from "effect"

/** How the runtime (or the CLI) authenticates; nothing for an open server. */
export type Credentials =
  | { readonly user: string; readonly password: string }
  | { readonly token: string }

export interface NatsClientOptions {
  /** One URL, or several (a cluster), e.g. "nats://127.0.0.1:4222". */
  readonly servers: string | ReadonlyArray<string>
  readonly credentials?: Credentials | undefined
  /** Shown in the server's connection list. */
  readonly name: string
  /** Milliseconds to wait for the server (default 5000). */
  readonly timeout?: number
}

export class NatsConnectError extends Data.TaggedError("NatsConnectError")<{
  readonly servers: string
  readonly cause: unknown
}> {
  override get message(): string {
    return `could not connect to ${this.servers}: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }
}

export const serverList = (servers: string | ReadonlyArray<string>): Array<string> =>
  (typeof servers === "string" ? servers.split(",") : [...servers]).map((server) => server.trim()).filter((server) => server !== "")

const credentialOptions = (credentials: Credentials | undefined) =>
  credentials === undefined ? {} : "token" in credentials ? { token: credentials.token } : { user: credentials.user, pass: credentials.password }

/**
 * Connects with the official client; it reconnects on its own. Closing the scope drains it (so
 * what was published gets out), or closes it after 2 s when the server is gone and draining would
 * wait for a reconnect that may never come.
 */
export const connectNats = (options: NatsClientOptions): Effect.Effect<NatsConnection, NatsConnectError, Scope.Scope> => {
  const servers = serverList(options.servers)
  return Effect.acquireRelease(
    Effect.tryPromise({
      try: () =>
        connect({
          servers,
          name: options.name,
          timeout: options.timeout ?? 5000,
          maxReconnectAttempts: -1,
          ...credentialOptions(options.credentials)
        }),
      catch: (cause) => new NatsConnectError({ servers: servers.join(", "), cause })
    }),
    (connection) =>
      Effect.promise(() => connection.drain().catch(() => undefined)).pipe(
        Effect.timeout("2 seconds"),
        Effect.catchAll(() => Effect.promise(() => connection.close()))
      )
  )
}

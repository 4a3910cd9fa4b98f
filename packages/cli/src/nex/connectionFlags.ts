import { Options } from "@effect/cli"
import type { NatsConnection } from "@nats-io/transport-node"
import { connectNats, type Credentials } from "@nex/runtime"
import { Effect, Option, type Scope } from "effect"
import { CommandFailure } from "./CommandFailure.ts"

const defaultServer = "nats://127.0.0.1:4222"

/** The flags every client command takes, named as natscli names them; NATS_URL, NATS_USER and NATS_PASSWORD fill in. */
export const connectionFlags = {
  server: Options.text("server").pipe(Options.withAlias("s"), Options.withDescription(`NATS server URLs, comma separated (env NATS_URL, default ${defaultServer})`), Options.optional),
  user: Options.text("user").pipe(Options.withDescription("User name (env NATS_USER)"), Options.optional),
  password: Options.text("password").pipe(Options.withDescription("Password (env NATS_PASSWORD)"), Options.optional),
  token: Options.text("token").pipe(Options.withDescription("Authentication token (env NATS_TOKEN)"), Options.optional)
}

export interface ConnectionFlags {
  readonly server: Option.Option<string>
  readonly user: Option.Option<string>
  readonly password: Option.Option<string>
  readonly token: Option.Option<string>
}

const credentialsOf = (flags: ConnectionFlags, environment: NodeJS.ProcessEnv): Credentials | undefined => {
  const token = Option.getOrUndefined(flags.token) ?? (environment.NATS_TOKEN || undefined)
  if (token !== undefined) return { token }
  const user = Option.getOrUndefined(flags.user) ?? (environment.NATS_USER || undefined)
  if (user === undefined) return undefined
  return { user, password: Option.getOrUndefined(flags.password) ?? environment.NATS_PASSWORD ?? "" }
}

/** A client connection for one command, closed when it ends; a failure names the server. */
export const openConnection = (flags: ConnectionFlags, environment: NodeJS.ProcessEnv = process.env): Effect.Effect<NatsConnection, CommandFailure, Scope.Scope> =>
  connectNats({
    servers: Option.getOrUndefined(flags.server) ?? (environment.NATS_URL || defaultServer),
    credentials: credentialsOf(flags, environment),
    name: "nex CLI",
    timeout: 5000
  }).pipe(Effect.mapError((error) => new CommandFailure({ message: error.message })))

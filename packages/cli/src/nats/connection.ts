import { connect, type NatsConnection } from "@nats-io/transport-node"
import { CliError, UsageError } from "./CliError.ts"
import type { FlagSpec, ParsedArguments } from "./CommandLine.ts"
import { formatDuration } from "./duration.ts"

export const defaultServer = "nats://127.0.0.1:4222"
const defaultTimeout = 5000

/** Flags every command accepts, named as natscli names them. */
export const globalFlags: ReadonlyArray<FlagSpec> = [
  { long: "server", short: "s", kind: "string", placeholder: "URL", description: `NATS server URLs, comma separated (env NATS_URL, default ${defaultServer})` },
  { long: "user", kind: "string", placeholder: "USER", description: "Username or token (env NATS_USER)" },
  { long: "password", kind: "string", placeholder: "PASSWORD", description: "Password (env NATS_PASSWORD)" },
  { long: "token", kind: "string", placeholder: "TOKEN", description: "Authentication token" },
  { long: "timeout", kind: "duration", placeholder: "DURATION", description: "Time to wait for the server and for replies (default 5s)" }
]

export interface ConnectionSettings {
  /** Server URLs in `nats://host:port` form. */
  readonly servers: ReadonlyArray<string>
  readonly user?: string | undefined
  readonly password?: string | undefined
  readonly token?: string | undefined
  /** Milliseconds to wait for the connection, and for a reply. */
  readonly timeout: number
}

const normaliseServer = (server: string): string => {
  const withScheme = server.includes("://") ? server : `nats://${server}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    throw new UsageError(`invalid server URL "${server}" for --server`)
  }
  if (url.hostname === "") throw new UsageError(`invalid server URL "${server}" for --server`)
  return `${url.protocol}//${url.hostname}:${url.port === "" ? "4222" : url.port}`
}

/** The connection the global flags ask for; flags win over NATS_URL, NATS_USER and NATS_PASSWORD. */
export const connectionSettings = (parsed: ParsedArguments, environment: NodeJS.ProcessEnv): ConnectionSettings => {
  const servers = parsed.string("server") ?? (environment.NATS_URL || defaultServer)
  return {
    servers: servers.split(",").map((server) => server.trim()).filter((server) => server !== "").map(normaliseServer),
    user: parsed.string("user") ?? (environment.NATS_USER || undefined),
    password: parsed.string("password") ?? (environment.NATS_PASSWORD || undefined),
    token: parsed.string("token"),
    timeout: parsed.duration("timeout", defaultTimeout)
  }
}

const connectProblem = (error: unknown, settings: ConnectionSettings): string => {
  if (!(error instanceof Error)) return String(error)
  const message = error.message.replace(/^'|'$/g, "")
  switch (error.name) {
    case "TimeoutError":
      return `timed out after ${formatDuration(settings.timeout)}`
    case "AuthorizationError":
      return message.toLowerCase()
    default:
      return message
  }
}

/** Connects like natscli does; a failure becomes one line naming the server and the reason. */
export const openConnection = async (settings: ConnectionSettings): Promise<NatsConnection> => {
  try {
    return await connect({
      servers: [...settings.servers],
      user: settings.user,
      pass: settings.password,
      token: settings.token,
      name: "NATS CLI (nex)",
      timeout: settings.timeout
    })
  } catch (error) {
    throw new CliError(`could not connect to ${settings.servers.join(", ")}: ${connectProblem(error, settings)}`)
  }
}

/**
 * Reports the last error the server sent asynchronously: a permissions violation on publish
 * arrives as `-ERR` and does not fail the publish call. Call the returned function after a flush.
 */
export const watchServerErrors = (connection: NatsConnection): (() => Promise<Error | undefined>) => {
  let lastError: Error | undefined
  void (async () => {
    for await (const status of connection.status()) {
      if (status.type === "error") lastError = status.error
    }
  })()
  // The status iterator hands the -ERR over a few microtasks after the PONG that settles flush().
  return () => new Promise((resolve) => setImmediate(() => resolve(lastError)))
}

import * as current from "@nats-io/transport-node"
import * as legacy from "nats"

/** The part of a message both official clients expose the same way. */
export interface ClientMsg {
  readonly subject: string
  readonly reply?: string
  readonly data: Uint8Array
  readonly headers?: ClientHeaders
  string(): string
  respond(payload?: string | Uint8Array, options?: { headers?: ClientHeaders }): boolean
}

export interface ClientHeaders extends Iterable<[string, string[]]> {
  readonly code: number
  readonly description: string
  readonly hasError: boolean
  get(key: string): string
  values(key: string): string[]
  keys(): string[]
  set(key: string, value: string): void
  append(key: string, value: string): void
}

export interface ClientSubscription extends AsyncIterable<ClientMsg> {
  readonly closed: Promise<void | Error>
  unsubscribe(max?: number): void
  getReceived(): number
}

export interface ClientConnection {
  readonly info?: object
  publish(subject: string, payload?: string | Uint8Array, options?: { reply?: string; headers?: ClientHeaders }): void
  subscribe(
    subject: string,
    options?: { queue?: string; max?: number; callback?: (error: Error | null, message: ClientMsg) => void }
  ): ClientSubscription
  request(subject: string, payload?: string | Uint8Array, options?: { timeout: number; headers?: ClientHeaders }): Promise<ClientMsg>
  flush(): Promise<void>
  close(): Promise<void>
  closed(): Promise<void | Error>
  isClosed(): boolean
}

export interface ClientConnectOptions {
  readonly servers: string
  readonly noEcho?: boolean
  readonly token?: string
  readonly user?: string
  readonly pass?: string
}

/** How a client reported a failure, reduced to what both clients can say. */
export type ClientFailure = "no-responders" | "authorization" | "permission" | "max-payload" | "timeout" | "other"

/** A permission violation the client reported asynchronously (through its status stream). */
export interface PermissionReport {
  readonly operation: string
  readonly subject: string
}

export interface OfficialClient {
  readonly name: "@nats-io/transport-node" | "nats"
  readonly connect: (options: ClientConnectOptions) => Promise<ClientConnection>
  readonly headers: () => ClientHeaders
  readonly classify: (error: unknown) => ClientFailure
  /** Starts listening to the connection's status stream and returns the permission violations seen so far. */
  readonly permissionReports: (connection: ClientConnection) => PermissionReport[]
}

// Neither client should try to reconnect inside a test: a closed connection is an observation.
const noReconnect = { reconnect: false, timeout: 5000 } as const

const currentClient: OfficialClient = {
  name: "@nats-io/transport-node",
  connect: (options) => current.connect({ ...options, ...noReconnect }),
  headers: () => current.headers(),
  classify: (error) => {
    const failure = error instanceof current.RequestError && error.cause !== undefined ? error.cause : error
    if (failure instanceof current.NoRespondersError) return "no-responders"
    if (failure instanceof current.AuthorizationError) return "authorization"
    if (failure instanceof current.PermissionViolationError) return "permission"
    if (failure instanceof current.TimeoutError) return "timeout"
    if (failure instanceof current.InvalidArgumentError && failure.message.includes("max_payload")) return "max-payload"
    return "other"
  },
  permissionReports: (connection) => {
    const reports: PermissionReport[] = []
    void (async () => {
      for await (const status of (connection as current.NatsConnection).status()) {
        if (status.type === "error" && status.error instanceof current.PermissionViolationError) {
          reports.push({ operation: status.error.operation, subject: status.error.subject })
        }
      }
    })()
    return reports
  }
}

const legacyCodes: Record<string, ClientFailure> = {
  [legacy.ErrorCode.NoResponders]: "no-responders",
  [legacy.ErrorCode.AuthorizationViolation]: "authorization",
  [legacy.ErrorCode.PermissionsViolation]: "permission",
  [legacy.ErrorCode.MaxPayloadExceeded]: "max-payload",
  [legacy.ErrorCode.Timeout]: "timeout"
}

const legacyClient: OfficialClient = {
  name: "nats",
  connect: (options) => legacy.connect({ ...options, ...noReconnect }),
  headers: () => legacy.headers(),
  classify: (error) => (error instanceof legacy.NatsError ? (legacyCodes[error.code] ?? "other") : "other"),
  permissionReports: (connection) => {
    const reports: PermissionReport[] = []
    void (async () => {
      for await (const status of (connection as legacy.NatsConnection).status()) {
        if (status.type === "error" && status.permissionContext !== undefined) {
          reports.push({ operation: status.permissionContext.operation, subject: status.permissionContext.subject })
        }
      }
    })()
    return reports
  }
}

/** Both official JavaScript clients: the current v3 transport and the legacy `nats` 2.x package. */
export const officialClients: ReadonlyArray<OfficialClient> = [currentClient, legacyClient]

export interface CollectingSubscription {
  readonly subscription: ClientSubscription
  /** Messages in the order the client dispatched them (callbacks run synchronously on receipt). */
  readonly messages: ClientMsg[]
  /** Errors the client handed to the subscription, e.g. a permission violation. */
  readonly errors: Error[]
}

/** Subscribes with a callback that records every message and error as the client dispatches it. */
export const subscribeAndCollect = (
  connection: ClientConnection,
  subject: string,
  options: { queue?: string; max?: number } = {}
): CollectingSubscription => {
  const messages: ClientMsg[] = []
  const errors: Error[] = []
  const subscription = connection.subscribe(subject, {
    ...options,
    callback: (error, message) => {
      if (error !== null) errors.push(error)
      else messages.push(message)
    }
  })
  return { subscription, messages, errors }
}

let barrierCount = 0

/**
 * Resolves once everything `publisher` published before the call has been dispatched by
 * `subscriber`: the server keeps one publisher's messages in order on each subscriber connection.
 * The marker goes to `<prefix>.barrier.<n>`; pass a prefix the publisher may publish to.
 */
export const deliveredThrough = async (
  publisher: ClientConnection,
  subscriber: ClientConnection,
  options: { prefix?: string; timeout?: number } = {}
): Promise<void> => {
  const timeout = options.timeout ?? 5000
  const subject = `${options.prefix ?? "test"}.barrier.${++barrierCount}`
  const subscription = subscriber.subscribe(subject, { max: 1 })
  const arrived = (async () => {
    for await (const message of subscription) return message
  })()
  await subscriber.flush()
  publisher.publish(subject)
  await publisher.flush()
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`barrier ${subject} not delivered within ${timeout} ms`)), timeout)
  })
  try {
    await Promise.race([arrived, expired])
  } finally {
    clearTimeout(timer)
  }
}

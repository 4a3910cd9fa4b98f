import { z } from "zod"

/** A subject permission list: `allow` empty means everything is allowed, `deny` wins over `allow`. */
const PermissionList = z.strictObject({
  allow: z.array(z.string().min(1)).optional(),
  deny: z.array(z.string().min(1)).optional()
})

export const Permissions = z.strictObject({
  publish: PermissionList.optional(),
  subscribe: PermissionList.optional(),
  /** Let a user publish to the reply subjects of requests it received, whatever `publish` says. */
  allowResponses: z.boolean().optional()
})
export type Permissions = z.infer<typeof Permissions>

export const User = z.strictObject({
  user: z.string().min(1),
  password: z.string().min(1),
  permissions: Permissions.optional()
})
export type User = z.infer<typeof User>

export const Auth = z.union([
  z.strictObject({ token: z.string().min(1) }),
  z.strictObject({ users: z.array(User).min(1) })
])
export type Auth = z.infer<typeof Auth>

const duration = z.number().int().nonnegative()

/** Everything the broker needs to run; defaults mirror nats-server's. */
export const BrokerConfig = z.strictObject({
  host: z.string().min(1).default("127.0.0.1"),
  port: z.number().int().min(0).max(65535).default(4222),
  serverName: z.string().min(1).optional(),
  /** Largest payload a client may publish, in bytes (nats-server: 1 MiB). */
  maxPayload: z.number().int().positive().max(64 * 1024 * 1024).default(1024 * 1024),
  /** Longest protocol control line, in bytes (nats-server: 4096). */
  maxControlLine: z.number().int().min(256).default(4096),
  /** Outbound bytes a connection may have pending before it is cut off as a slow consumer. */
  maxPending: z.number().int().positive().default(64 * 1024 * 1024),
  /** Milliseconds a socket may hold output the peer does not read before it is cut off (nats-server: 10 s). */
  writeDeadlineMs: z.number().int().positive().default(10_000),
  maxConnections: z.number().int().positive().default(65536),
  maxSubscriptions: z.number().int().nonnegative().default(0),
  /** Milliseconds between server PINGs to an idle client (nats-server: 2 minutes). */
  pingIntervalMs: duration.default(120_000),
  /** Unanswered server PINGs before the connection is declared stale. */
  pingMax: z.number().int().positive().default(2),
  /** Milliseconds a client has to send CONNECT when auth is required. */
  authTimeoutMs: duration.default(2000),
  /** Milliseconds a graceful shutdown waits for outbound buffers to drain. */
  drainTimeoutMs: duration.default(5000),
  auth: Auth.optional(),
  /**
   * Microseconds the event loop keeps polling, never sleeping, after a client's read of at most
   * one message: a thread that sleeps between a reply and the next request pays to be woken.
   * Default 200 with more than one CPU, else 0 (off).
   */
  busyPollMicros: z.number().int().min(0).max(10_000).optional(),
  /** Advertise JetStream in INFO (set by the node when the JetStream layer is attached). */
  jetstream: z.boolean().default(false)
})
export type BrokerConfig = z.infer<typeof BrokerConfig>
export type BrokerConfigInput = z.input<typeof BrokerConfig>

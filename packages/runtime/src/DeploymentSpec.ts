import { z } from "zod"

const subject = z.string().min(1).regex(/^[^\s]+$/, "must be a NATS subject without spaces")

/** A workload name: it becomes part of subjects, queue groups, consumer and object names. */
export const WorkloadName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "must be 1-63 characters of a-z, 0-9, '-' or '_', starting with a letter or digit")

export const JobTrigger = z.strictObject({
  /** The JetStream stream the job consumes from (a durable consumer `nex-<name>`). */
  stream: z.string().min(1),
  filter: subject.optional(),
  /** Deliveries before a message is terminated and copied to the dead-letter stream. */
  maxAttempts: z.number().int().min(1).max(100).default(5),
  /** Handle messages of one subject one at a time, in order. */
  serializePerSubject: z.boolean().default(false)
})
export type JobTrigger = z.infer<typeof JobTrigger>

export const Schedule = z.union([
  z.strictObject({ everyMs: z.number().int().min(100) }),
  z.strictObject({ cron: z.string().min(9) })
])
export type Schedule = z.infer<typeof Schedule>

export const DeploymentOrigin = z.enum(["config", "cli"])
export type DeploymentOrigin = z.infer<typeof DeploymentOrigin>

/**
 * Desired state of one workload, stored as JSON in KV bucket `nex-deployments` under its name.
 * The bundle itself is in object store bucket `nex-bundles`, named by its SHA-256.
 */
export const DeploymentSpec = z.strictObject({
  name: WorkloadName,
  /** Bumped by every deploy of this name; a node replaces the running version when it changes. */
  revision: z.number().int().nonnegative(),
  bundle: z.strictObject({
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    size: z.number().int().nonnegative()
  }),
  /** Core subjects that invoke the handler (request/reply when the message has a reply subject). */
  triggers: z.array(subject).default([]),
  /** Queue group of the triggers; defaults to `nex.<name>` so replicas share the load. */
  queue: z.string().min(1).optional(),
  job: JobTrigger.optional(),
  schedule: Schedule.optional(),
  /** KV key in bucket `nex-config` whose JSON value is ctx.config(); defaults to the name. */
  configKey: z.string().min(1).optional(),
  memoryMiB: z.number().int().min(8).max(1024).default(32),
  timeoutMs: z.number().int().min(1).max(600_000).default(5000),
  concurrency: z.number().int().min(1).max(64).default(1),
  mailbox: z.number().int().min(1).max(1_000_000).default(10_000),
  replicas: z.number().int().min(1).max(64).default(1),
  /** In a cluster: only nodes carrying every one of these tags run it. */
  tags: z.array(z.string().min(1)).optional(),
  /** Subjects the workload may publish/request to (wildcards allowed); empty = none beyond replies. */
  allowPublish: z.array(subject).default([]),
  allowSubscribe: z.array(subject).default([]),
  /** The file it was bundled from, as the deployer named it (shown by `nex info`). */
  source: z.string().optional(),
  /**
   * Who deployed it: `nex up` from `nex.config.ts` ("config": undeployed by the next `nex up`
   * whose config no longer lists it) or anyone else ("cli", never undeployed but by a person).
   */
  origin: DeploymentOrigin.default("cli"),
  deployedAt: z.string().datetime()
})
export type DeploymentSpec = z.infer<typeof DeploymentSpec>
export type DeploymentSpecInput = z.input<typeof DeploymentSpec>

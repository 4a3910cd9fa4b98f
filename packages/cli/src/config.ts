import { BrokerConfig } from "@nex/broker"
import { WorkloadConfigList } from "@nex/runtime/WorkloadConfig"
import { z } from "zod"
import { describeConfigProblem } from "./configProblem.ts"

const port = z.number().int().min(0).max(65535)

export const MonitoringConfig = z.strictObject({
  /** HTTP monitoring port (nats-server's /varz, /connz, ...); 0 turns monitoring off. */
  port: port.default(8222),
  /** Defaults to the server's host. */
  host: z.string().min(1).optional()
})
export type MonitoringConfig = z.infer<typeof MonitoringConfig>

export const JetStreamConfig = z.strictObject({
  /** Where streams are stored, relative to the working directory. */
  storeDir: z.string().min(1).default(".nex-data"),
  /** When appends reach the disk: each ack waits for fsync (always), periodically, or never. */
  sync: z.enum(["always", "interval", "never"]).optional()
})
export type JetStreamConfig = z.infer<typeof JetStreamConfig>

export const RuntimeConfig = z.strictObject({
  enabled: z.boolean().default(true),
  /** Sandbox host processes the node keeps running for workloads' isolates. */
  sandboxProcesses: z.number().int().min(1).max(64).default(2),
  /** In a cluster (`nats`): labels a deployment's `tags` constraint must find on the node, e.g. "zone=a". */
  tags: z.array(z.string().min(1).regex(/^[^\s,]+$/, "must be a tag without spaces or commas")).optional(),
  /** In a cluster: how many workload instances this node accepts (default 64). */
  capacity: z.number().int().min(1).max(10_000).optional()
})
export type RuntimeConfig = z.infer<typeof RuntimeConfig>

/** The shape of `nex.config.ts`; every section is optional and has nats-server's defaults. */
export const NexConfig = z.strictObject({
  // Whether the broker advertises JetStream is decided by the node, not by the user.
  server: BrokerConfig.omit({ jetstream: true }).prefault({}),
  monitoring: MonitoringConfig.prefault({}),
  jetstream: JetStreamConfig.prefault({}),
  /**
   * URLs of an existing NATS cluster (comma separated) to run on instead of the embedded broker:
   * the node then runs workloads only, sharing them with the other nodes of that cluster.
   */
  nats: z.string().min(1).optional(),
  /**
   * Workloads deployed at start, each like `nex deploy`'s flags: `{ file, name, triggers, ... }`.
   * One that an earlier config deployed and this one no longer lists is undeployed at start.
   */
  workloads: WorkloadConfigList.default([]),
  /** The workload runtime of this node (`nex up --no-runtime` turns it off). */
  runtime: RuntimeConfig.prefault({})
})
export type NexConfig = z.infer<typeof NexConfig>
export type NexConfigInput = z.input<typeof NexConfig>

export type ConfigParseResult =
  | { readonly success: true; readonly config: NexConfig }
  | { readonly success: false; readonly problem: string }

/** Validates a config value; a failure is one line naming the field and the problem. */
export const parseNexConfig = (input: unknown): ConfigParseResult => {
  const result = NexConfig.safeParse(input, { reportInput: true })
  return result.success
    ? { success: true, config: result.data }
    : { success: false, problem: describeConfigProblem(NexConfig, result.error.issues) }
}

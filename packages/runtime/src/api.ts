import { z } from "zod"
import { DeploymentSpec, WorkloadName } from "./DeploymentSpec.ts"

/**
 * Request and response bodies of the control API (subjects in subjects.ts), and the JSON the
 * runtime publishes as logs and events. The node, the CLI and the tests import these schemas.
 */

export const WorkloadEventKind = z.enum(["deployed", "started", "failed", "crashed", "restarted", "quarantined", "undeployed"])
export type WorkloadEventKind = z.infer<typeof WorkloadEventKind>

/** Published on `$NEX.events.<name>.<kind>` and kept in NEX_EVENTS. */
export const WorkloadEvent = z.object({
  kind: WorkloadEventKind,
  name: z.string(),
  revision: z.number().int().optional(),
  node: z.string(),
  /** ISO-8601. */
  time: z.string(),
  /** Why it failed, crashed or was quarantined. */
  reason: z.string().optional()
})
export type WorkloadEvent = z.infer<typeof WorkloadEvent>

export const LogLevel = z.enum(["debug", "info", "warn", "error"])
export type LogLevel = z.infer<typeof LogLevel>

/** One line a workload logged, published on `$NEX.logs.<name>` and kept in NEX_LOGS. */
export const LogLine = z.object({
  time: z.string(),
  name: z.string(),
  level: LogLevel,
  message: z.string(),
  revision: z.number().int().optional(),
  node: z.string().optional()
})
export type LogLine = z.infer<typeof LogLine>

export const WorkloadState = z.enum(["pending", "running", "failed"])
export type WorkloadState = z.infer<typeof WorkloadState>

/** One replica of a workload in a cluster. */
export const ReplicaStatus = z.object({
  index: z.number().int(),
  /** The name of the node it is placed on; absent while no node could take it. */
  node: z.string().optional(),
  nodeId: z.string().optional(),
  state: WorkloadState,
  reason: z.string().optional()
})
export type ReplicaStatus = z.infer<typeof ReplicaStatus>

/** What one node knows about one workload right now. */
export const WorkloadStatus = z.object({
  name: z.string(),
  /** The revision the node is bringing up or running (the latest it has seen). */
  revision: z.number().int(),
  state: WorkloadState,
  /** Why it is pending or failed. */
  reason: z.string().optional(),
  /** An older revision still answering while the latest starts or after it failed to. */
  servingRevision: z.number().int().optional(),
  node: z.string(),
  replicas: z.object({ desired: z.number().int(), running: z.number().int() }),
  triggers: z.array(z.string()),
  job: z.string().optional(),
  schedule: z.string().optional(),
  restarts: z.number().int(),
  lastError: z.string().optional(),
  invocations: z.number(),
  errors: z.number(),
  p50Ms: z.number(),
  p99Ms: z.number(),
  cpuTimeMs: z.number(),
  heapBytes: z.number(),
  deployedAt: z.string(),
  /** In a cluster: every replica, where it runs and how it is doing. */
  placements: z.array(ReplicaStatus).optional()
})
export type WorkloadStatus = z.infer<typeof WorkloadStatus>

/** What a node says of one workload it runs, in its heartbeat. */
export const NodeWorkload = z.object({
  name: z.string(),
  revision: z.number().int(),
  state: WorkloadState,
  running: z.number().int(),
  reason: z.string().optional(),
  invocations: z.number(),
  errors: z.number()
})
export type NodeWorkload = z.infer<typeof NodeWorkload>

/** A node of a cluster, as stored in KV bucket `nex-nodes` under its id and refreshed by its heartbeat. */
export const NodeRecord = z.object({
  id: z.string(),
  name: z.string(),
  tags: z.array(z.string()),
  /** Workload instances it accepts in all. */
  capacity: z.number().int(),
  /** Instances of one workload it can run (one per sandbox process). */
  sandboxProcesses: z.number().int(),
  version: z.string(),
  startedAt: z.string(),
  /** Milliseconds since the epoch of its last heartbeat. */
  heartbeatAt: z.number(),
  /** Lame duck: takes no new instances and hands its own over. */
  draining: z.boolean(),
  workloads: z.array(NodeWorkload)
})
export type NodeRecord = z.infer<typeof NodeRecord>

/** A node as `nex node ls` shows it. */
export const NodeStatus = NodeRecord.extend({
  alive: z.boolean(),
  /** Placement keys (`<workload>.<replica>`) it holds. */
  instances: z.array(z.string())
})
export type NodeStatus = z.infer<typeof NodeStatus>

/** Every failed request is answered with this body. */
export const ApiError = z.object({ error: z.string() })
export type ApiError = z.infer<typeof ApiError>

const NameRequest = z.strictObject({ name: WorkloadName })

export const ListRequest = z.strictObject({})
export const ListResponse = z.object({ node: z.string(), workloads: z.array(WorkloadStatus) })
export type ListResponse = z.infer<typeof ListResponse>

export const InfoRequest = NameRequest
/** `spec` is absent when the only stored spec was rejected (the status says why). */
export const InfoResponse = z.object({ node: z.string(), spec: DeploymentSpec.optional(), status: WorkloadStatus })
export type InfoResponse = z.infer<typeof InfoResponse>

export const UndeployRequest = NameRequest
export const UndeployResponse = z.object({ name: z.string(), revision: z.number().int() })
export type UndeployResponse = z.infer<typeof UndeployResponse>

export const NodesRequest = z.strictObject({})
export const NodesResponse = z.object({ nodes: z.array(NodeStatus) })
export type NodesResponse = z.infer<typeof NodesResponse>

/** A node by id, or by name when no id matches. */
export const NodeRequest = z.strictObject({ node: z.string().min(1) })
export const NodeInfoResponse = z.object({ node: NodeStatus })
export type NodeInfoResponse = z.infer<typeof NodeInfoResponse>
export const DrainResponse = z.object({ node: NodeStatus })
export type DrainResponse = z.infer<typeof DrainResponse>

const HistoryWindow = {
  /** ISO-8601 time of the oldest entry wanted; default one hour ago. */
  since: z.string().datetime().optional(),
  /** The newest `limit` entries of the window. */
  limit: z.number().int().min(1).max(10_000).default(100)
}

export const LogsRequest = z.strictObject({ name: WorkloadName, ...HistoryWindow })
export type LogsRequest = z.input<typeof LogsRequest>
export const LogsResponse = z.object({ lines: z.array(LogLine) })
export type LogsResponse = z.infer<typeof LogsResponse>

export const EventsRequest = z.strictObject({ name: WorkloadName.optional(), ...HistoryWindow })
export type EventsRequest = z.input<typeof EventsRequest>
export const EventsResponse = z.object({ events: z.array(WorkloadEvent) })
export type EventsResponse = z.infer<typeof EventsResponse>

/** A response schema: the operation's body or an ApiError. */
export const responseOf = <Body extends z.ZodType>(body: Body) => z.union([ApiError, body])

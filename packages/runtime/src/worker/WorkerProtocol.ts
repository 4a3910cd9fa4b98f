import type { DeploymentSpec } from "../DeploymentSpec.ts"

/**
 * Messages between the node (control plane) and a sandbox host process (child_process with
 * `serialization: "advanced"`, so Uint8Arrays cross as they are). A sandbox host process owns
 * its isolates, its own NATS connection, the triggers and host services of the workloads it runs.
 */
export type NodeToWorker =
  /** Start (or replace, when `spec.revision` differs) a workload with this bundle. */
  | { readonly type: "start"; readonly spec: DeploymentSpec; readonly code: string }
  /** Stop a workload: unsubscribe its triggers, finish in-flight invocations, dispose the isolate. */
  | { readonly type: "stop"; readonly name: string }
  /** Stop everything and exit 0. */
  | { readonly type: "shutdown" }

export interface WorkloadStats {
  readonly name: string
  readonly revision: number
  readonly invocations: number
  readonly errors: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly cpuTimeNs: number
  readonly heapBytes: number
  readonly lastError: string | undefined
}

export type WorkerToNode =
  /** Connected to NATS and ready for `start` messages. */
  | { readonly type: "ready"; readonly pid: number }
  /** The workload answers on its triggers (the isolate evaluated its module). */
  | { readonly type: "started"; readonly name: string; readonly revision: number }
  /** The workload could not start (syntax error with file:line, a subject outside its permissions …). */
  | { readonly type: "startFailed"; readonly name: string; readonly revision: number; readonly reason: string }
  | { readonly type: "stopped"; readonly name: string }
  /** The isolate was lost (memory limit, CPU watchdog, catastrophic error) and will be recreated. */
  | { readonly type: "isolateLost"; readonly name: string; readonly reason: string }
  /** Sent every second: what ran recently (to blame a workload if the process dies) and its figures. */
  | { readonly type: "heartbeat"; readonly active: ReadonlyArray<string>; readonly stats: ReadonlyArray<WorkloadStats> }

/** Environment a sandbox host process is started with. */
export interface WorkerEnvironment {
  /** NATS servers, comma-separated. */
  readonly NEX_NATS_URL: string
  readonly NEX_NATS_USER?: string
  readonly NEX_NATS_PASSWORD?: string
  readonly NEX_NATS_TOKEN?: string
  /** The node's name, for ctx.node and logs. */
  readonly NEX_NODE_NAME: string
  /** "1" when the node shares its workloads with a cluster: schedules then fire once per period across it. */
  readonly NEX_CLUSTER?: string
}

/** Subjects and buckets shared by the node, the sandbox hosts and the CLI. */
export const names = {
  deploymentsBucket: "nex-deployments",
  bundlesBucket: "nex-bundles",
  configBucket: "nex-config",
  artifactsBucket: "nex-artifacts",
  logsStream: "NEX_LOGS",
  /** Log lines of a workload: `$NEX.logs.<name>` (stored in NEX_LOGS). */
  logsSubject: (name: string) => `$NEX.logs.${name}`,
  eventsStream: "NEX_EVENTS",
  /** Lifecycle events: `$NEX.events.<name>.<kind>`. */
  eventsSubject: (name: string, kind: string) => `$NEX.events.${name}.${kind}`,
  deadLetterStream: "NEX_DEAD_LETTERS",
  /** Cluster mode: one key per node (its heartbeat), one key per placed instance (`<workload>.<replica>`). */
  nodesBucket: "nex-nodes",
  placementsBucket: "nex-placements",
  /** Cluster mode: one key per fired schedule period (`<workload>.<period start ms>`), kept a short while. */
  schedulesBucket: "nex-schedules",
  defaultQueue: (name: string) => `nex.${name}`,
  jobConsumer: (name: string) => `nex-${name}`
} as const

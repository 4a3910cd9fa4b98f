import type { NatsConnection } from "@nats-io/transport-node"
import { Context, Data, type Duration, Effect, Layer } from "effect"
import { serveControlApi } from "./ControlApi.ts"
import { type DeployError, type DeployOptions, type DeployResult, deployWorkload, listDeployments, undeployWorkload } from "./Deployer.ts"
import type { DeploymentSpec } from "./DeploymentSpec.ts"
import { type ClusterOptions, joinCluster } from "./cluster/ClusterNode.ts"
import { serveClusterApi } from "./cluster/ClusterApi.ts"
import { standaloneNode } from "./cluster/LocalNode.ts"
import { ensureInfrastructure, type InfrastructureError } from "./Infrastructure.ts"
import { connectNats, type Credentials, serverList } from "./NatsClient.ts"
import { watchDeployments } from "./Reconciler.ts"
import { layerFork, SandboxLauncher } from "./SandboxLauncher.ts"
import { subjects } from "./subjects.ts"
import { makeSupervisor, type Supervisor, type WorkloadReport } from "./Supervisor.ts"
import type { WorkerEnvironment } from "./worker/WorkerProtocol.ts"
import type { WorkloadConfig } from "./WorkloadConfig.ts"

export interface RuntimeOptions {
  /** The NATS server(s) the runtime and its sandbox processes connect to: the embedded broker's URL, or a cluster's. */
  readonly servers: string | ReadonlyArray<string>
  readonly credentials?: Credentials | undefined
  /** This node's name, in events, statuses and ctx.node. */
  readonly nodeName: string
  /** Sandbox host processes to keep running (default 2). */
  readonly sandboxProcesses?: number
  /** How long a sandbox process may take to report a workload started (default 15 s). */
  readonly startTimeout?: Duration.DurationInput
  /** The sandbox host program (default: @nex/runtime/worker, i.e. src/worker/main.ts). */
  readonly workerEntry?: string
  /**
   * Share the workloads with the other nodes on the same NATS (a cluster): each replica runs on one
   * node, placed by `joinCluster`. Absent, this node runs every deployment itself (standalone).
   */
  readonly cluster?: ClusterOptions | undefined
}

export class RuntimeStartError extends Data.TaggedError("RuntimeStartError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/** The workload runtime of one node. */
export class Runtime extends Context.Tag("@nex/runtime/Runtime")<
  Runtime,
  {
    readonly nodeName: string
    /** The runtime's own client connection. */
    readonly connection: NatsConnection
    readonly list: Supervisor["list"]
    readonly get: (name: string) => Effect.Effect<WorkloadReport | undefined>
    readonly processes: Supervisor["processes"]
    /** Deploys through the desired state, as `nex deploy` does. */
    readonly deploy: (workload: WorkloadConfig, options?: DeployOptions) => Effect.Effect<DeployResult, DeployError>
    /** Removes it from the desired state; waits up to `waitMs` (default 10 s) for a node to confirm it stopped. */
    readonly undeploy: (name: string, options?: { readonly waitMs?: number }) => Effect.Effect<void, DeployError>
    /** The desired state: every stored deployment that validates. */
    readonly deployments: Effect.Effect<ReadonlyArray<DeploymentSpec>, DeployError>
  }
>() {}

const workerEnvironment = (options: RuntimeOptions): WorkerEnvironment => {
  const credentials = options.credentials
  return {
    NEX_NATS_URL: serverList(options.servers).join(","),
    NEX_NODE_NAME: options.nodeName,
    ...(options.cluster === undefined ? {} : { NEX_CLUSTER: "1" }),
    ...(credentials === undefined ? {} : "token" in credentials ? { NEX_NATS_TOKEN: credentials.token } : { NEX_NATS_USER: credentials.user, NEX_NATS_PASSWORD: credentials.password })
  }
}

const make = (options: RuntimeOptions) =>
  Effect.gen(function* () {
    const connection = yield* connectNats({ servers: options.servers, credentials: options.credentials, name: `nex runtime ${options.nodeName}` }).pipe(
      Effect.mapError((error) => new RuntimeStartError({ message: `runtime: ${error.message}`, cause: error }))
    )
    yield* ensureInfrastructure(connection).pipe(Effect.mapError((error) => new RuntimeStartError({ message: `runtime: ${error.message}`, cause: error })))
    const sandboxProcesses = options.sandboxProcesses ?? 2
    const supervisor = yield* makeSupervisor({
      nodeName: options.nodeName,
      sandboxProcesses,
      environment: workerEnvironment(options),
      startTimeout: options.startTimeout,
      publishEvent: (event) => connection.publish(subjects.event(event.name, event.kind), JSON.stringify(event))
    })
    const startError = (error: InfrastructureError) => new RuntimeStartError({ message: `runtime: ${error.message}`, cause: error })
    if (options.cluster === undefined) {
      yield* watchDeployments(connection, supervisor).pipe(Effect.mapError(startError))
      yield* serveControlApi(connection, supervisor, options.nodeName)
      yield* serveClusterApi(connection, standaloneNode(supervisor, { nodeName: options.nodeName, sandboxProcesses }))
    } else {
      const cluster = yield* joinCluster(connection, supervisor, { nodeName: options.nodeName, sandboxProcesses, cluster: options.cluster }).pipe(Effect.mapError(startError))
      yield* serveControlApi(connection, cluster, options.nodeName)
      yield* serveClusterApi(connection, cluster)
    }
    yield* Effect.logInfo("runtime ready").pipe(Effect.annotateLogs({ node: options.nodeName, sandboxProcesses }))
    return Runtime.of({
      nodeName: options.nodeName,
      connection,
      list: supervisor.list,
      get: supervisor.get,
      processes: supervisor.processes,
      deploy: (workload, deployOptions) => deployWorkload(connection, workload, deployOptions),
      undeploy: (name, undeployOptions) => undeployWorkload(connection, name, undeployOptions).pipe(Effect.asVoid),
      deployments: listDeployments(connection)
    })
  }).pipe(Effect.annotateLogs({ module: "runtime" }))

/** The runtime with the sandbox launcher left to provide (tests provide an in-process fake). */
export const layerWithLauncher = (options: RuntimeOptions): Layer.Layer<Runtime, RuntimeStartError, SandboxLauncher> => Layer.scoped(Runtime, make(options))

/** The runtime of `nex up`: sandbox host processes forked from worker/main.ts. */
export const layer = (options: RuntimeOptions): Layer.Layer<Runtime, RuntimeStartError> =>
  layerWithLauncher(options).pipe(Layer.provide(layerFork(options.workerEntry)))

/** Undeploys what an earlier `nex.config.ts` deployed and `listed` (the current one's names) lacks. */
const undeployRemovedWorkloads = (runtime: Context.Tag.Service<Runtime>, listed: ReadonlySet<string>): Effect.Effect<void, DeployError> =>
  Effect.gen(function* () {
    const removed = (yield* runtime.deployments).filter((spec) => spec.origin === "config" && !listed.has(spec.name))
    for (const spec of removed) {
      yield* runtime.undeploy(spec.name, { waitMs: 0 }).pipe(
        // Someone undeployed it meanwhile: what was wanted.
        Effect.catchIf((error) => error.reason === "NotFound", () => Effect.void)
      )
      yield* Effect.logInfo("workload undeployed: no longer in the config").pipe(Effect.annotateLogs({ workload: spec.name, revision: spec.revision }))
    }
  })

/**
 * Deploys the workloads of `nex.config.ts` once the runtime is up, one after another, recorded as
 * deployed from the config. A workload whose bundle and options equal what is stored keeps its
 * revision (no restart on every `nex up`). Workloads an earlier config deployed that this one no
 * longer lists are undeployed first (with `undeployRemoved`: a standalone node's config is the whole
 * story, while in a cluster other nodes' configs may list what this one does not); those deployed
 * otherwise (`nex deploy`) are left alone. Fails with the first failure after trying them all;
 * each outcome is logged.
 */
export const deployConfiguredWorkloads = (
  workloads: ReadonlyArray<WorkloadConfig>,
  options: { readonly workingDirectory?: string; readonly waitMs?: number; readonly undeployRemoved?: boolean } = {}
): Effect.Effect<void, DeployError, Runtime> =>
  Effect.gen(function* () {
    const runtime = yield* Runtime
    const removed = yield* (options.undeployRemoved === true ? undeployRemovedWorkloads(runtime, new Set(workloads.map((workload) => workload.name))) : Effect.void).pipe(
      Effect.tapError((error) => Effect.logError("removed workloads not undeployed").pipe(Effect.annotateLogs({ error: error.message }))),
      Effect.either
    )
    const deployed = yield* Effect.forEach(workloads, (workload) =>
      runtime.deploy(workload, { workingDirectory: options.workingDirectory, waitMs: options.waitMs, keepUnchanged: true, origin: "config" }).pipe(
        Effect.tap((result) =>
          Effect.logInfo(result.unchanged ? "workload unchanged" : "workload deployed").pipe(
            Effect.annotateLogs({ workload: workload.name, revision: result.spec.revision })
          )
        ),
        Effect.tapError((error) => Effect.logError("workload not deployed").pipe(Effect.annotateLogs({ workload: workload.name, error: error.message }))),
        Effect.either
      )
    )
    const failure = [removed, ...deployed].find((outcome) => outcome._tag === "Left")
    if (failure !== undefined && failure._tag === "Left") return yield* failure.left
  }).pipe(Effect.annotateLogs({ module: "runtime" }))

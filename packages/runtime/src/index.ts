export * as Api from "./api.ts"
export { type Bundle, BundleError, bundleWorkload } from "./Bundler.ts"
export { type ClusterNode, type ClusterOptions, joinCluster } from "./cluster/ClusterNode.ts"
export { serveClusterApi } from "./cluster/ClusterApi.ts"
export { isAlive, type PlacementPlan, type PlacementView, placementKey, planPlacements } from "./cluster/PlacementPlan.ts"
export { eventOf, logLineOf, serveControlApi } from "./ControlApi.ts"
export {
  checkWorkloadConfig,
  DeployError,
  type DeployOptions,
  type DeployResult,
  type DeployStep,
  deployWorkload,
  deployWorkloadAsync,
  undeployWorkload
} from "./Deployer.ts"
export { DeploymentOrigin, DeploymentSpec, type DeploymentSpecInput, JobTrigger, WorkloadName } from "./DeploymentSpec.ts"
export { type BucketOptions, ensureInfrastructure, ensureKv, ensureObjectStore, InfrastructureError, replicasFor } from "./Infrastructure.ts"
export { connectNats, type Credentials, NatsConnectError, type NatsClientOptions } from "./NatsClient.ts"
export { watchDeployments } from "./Reconciler.ts"
export { deployConfiguredWorkloads, layer, layerWithLauncher, Runtime, type RuntimeOptions, RuntimeStartError } from "./Runtime.ts"
export { defaultWorkerEntry, layerFork, type SandboxCallbacks, SandboxLauncher, SandboxLaunchError, type SandboxProcess } from "./SandboxLauncher.ts"
export { HistoryError, readRecent, readStream, type StoredEntry } from "./StreamHistory.ts"
export { reservedSubjectProblem, subjects } from "./subjects.ts"
export { makeSupervisor, respawnBackoff, type Supervisor, type SupervisorOptions, type WorkloadReport } from "./Supervisor.ts"
export { names } from "./worker/WorkerProtocol.ts"
export type { NodeToWorker, WorkerEnvironment, WorkerToNode, WorkloadStats } from "./worker/WorkerProtocol.ts"
export { CronText, DurationText, parseDurationText, WorkloadConfig, type WorkloadConfigInput, WorkloadConfigList } from "./WorkloadConfig.ts"

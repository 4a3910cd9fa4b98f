import type { NodeWorkload, ReplicaStatus, WorkloadState } from "../api.ts"
import type { DeploymentSpec } from "../DeploymentSpec.ts"
import { describeJob, describeSchedule, type WorkloadReport } from "../Supervisor.ts"

const stateOf = (replicas: ReadonlyArray<ReplicaStatus>): WorkloadState => {
  if (replicas.every((replica) => replica.state === "running")) return "running"
  if (replicas.every((replica) => replica.state === "failed")) return "failed"
  return "pending"
}

const reasonOf = (replicas: ReadonlyArray<ReplicaStatus>): string | undefined => {
  const troubled = replicas.filter((replica) => replica.state !== "running")
  if (troubled.length === 0) return undefined
  const first = troubled[0]
  const running = replicas.length - troubled.length
  return `${running} of ${replicas.length} replicas running; replica ${first.index}${first.node === undefined ? "" : ` on ${first.node}`}: ${first.reason ?? first.state}`
}

/**
 * A workload as the whole cluster runs it: this node's report (for its figures) widened to every
 * replica, with the other nodes' counts from their heartbeats added in.
 */
export const describeWorkload = (
  spec: DeploymentSpec,
  local: WorkloadReport | undefined,
  replicas: ReadonlyArray<ReplicaStatus>,
  others: ReadonlyArray<NodeWorkload>,
  nodeName: string
): WorkloadReport => {
  const state = stateOf(replicas)
  const base = local?.status
  return {
    spec,
    status: {
      name: spec.name,
      revision: spec.revision,
      state,
      reason: reasonOf(replicas),
      servingRevision: base?.servingRevision,
      node: nodeName,
      replicas: { desired: spec.replicas, running: replicas.filter((replica) => replica.state === "running").length },
      triggers: [...spec.triggers],
      job: describeJob(spec),
      schedule: describeSchedule(spec),
      restarts: base?.restarts ?? 0,
      lastError: base?.lastError,
      invocations: (base?.invocations ?? 0) + others.reduce((total, workload) => total + workload.invocations, 0),
      errors: (base?.errors ?? 0) + others.reduce((total, workload) => total + workload.errors, 0),
      p50Ms: base?.p50Ms ?? 0,
      p99Ms: base?.p99Ms ?? 0,
      cpuTimeMs: base?.cpuTimeMs ?? 0,
      heapBytes: base?.heapBytes ?? 0,
      deployedAt: spec.deployedAt,
      placements: [...replicas]
    }
  }
}

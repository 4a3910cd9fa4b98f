import { randomBytes } from "node:crypto"
import { Effect } from "effect"
import type { NodeRecord, NodeStatus, NodeWorkload } from "../api.ts"
import type { Supervisor, WorkloadReport } from "../Supervisor.ts"
import type { ClusterNode } from "./ClusterNode.ts"
import { placementKey } from "./PlacementPlan.ts"

const runtimeVersion = "0.1.0"

export interface LocalNodeOptions {
  readonly nodeName: string
  readonly sandboxProcesses: number
  readonly tags?: ReadonlyArray<string> | undefined
  readonly capacity?: number | undefined
}

/** This node as `nex node ls` shows it: an id unique to this process, and what its supervisor runs. */
export interface LocalNode {
  readonly id: string
  /** The node's record as of now (its heartbeat time is now), given what its supervisor reports. */
  readonly record: (reports: ReadonlyArray<WorkloadReport>, draining: boolean) => NodeRecord
}

export const makeLocalNode = (options: LocalNodeOptions): LocalNode => {
  const id = `${options.nodeName}-${randomBytes(4).toString("hex")}`
  const startedAt = new Date().toISOString()
  return {
    id,
    record: (reports, draining) => ({
      id,
      name: options.nodeName,
      tags: [...(options.tags ?? [])],
      capacity: options.capacity ?? 64,
      sandboxProcesses: options.sandboxProcesses,
      version: runtimeVersion,
      startedAt,
      heartbeatAt: Date.now(),
      draining,
      workloads: reports.map(
        ({ status }): NodeWorkload => ({
          name: status.name,
          revision: status.revision,
          state: status.state,
          running: status.replicas.running,
          reason: status.reason,
          invocations: status.invocations,
          errors: status.errors
        })
      )
    })
  }
}

/**
 * A standalone node is a one-node cluster: it runs every instance itself, so it answers the nodes
 * API from its supervisor alone, with nothing stored (no heartbeat to keep) and nothing to drain to.
 */
export const standaloneNode = (supervisor: Supervisor, options: LocalNodeOptions): ClusterNode => {
  const local = makeLocalNode(options)
  const status = Effect.map(supervisor.list, (reports): NodeStatus => {
    const instances = reports.flatMap(({ status }) => Array.from({ length: status.replicas.desired }, (_, index) => placementKey(status.name, index)))
    return { ...local.record(reports, false), alive: true, instances: instances.sort() }
  })
  return {
    id: local.id,
    list: supervisor.list,
    get: supervisor.get,
    nodes: Effect.map(status, (node) => [node]),
    drain: Effect.fail({ message: "a standalone node has no other node to hand its instances to" })
  }
}

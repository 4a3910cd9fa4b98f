import type { NodeRecord } from "../api.ts"

/** Who holds one instance: a node id, and the KV revision of the claim (for compare-and-set releases). */
export interface PlacementClaim {
  readonly node: string
  readonly revision: number
}

/** What placement needs to know of a deployment. */
export interface PlacedWorkload {
  readonly name: string
  readonly replicas: number
  readonly tags: ReadonlyArray<string>
}

export interface PlacementView {
  /** This node's id. */
  readonly self: string
  readonly now: number
  /** A node whose heartbeat is older than this is dead. */
  readonly deadAfterMs: number
  /** An instance left unplaced this long may be claimed by any node that can run it, not only the best one. */
  readonly claimAnyAfterMs: number
  readonly workloads: ReadonlyArray<PlacedWorkload>
  readonly nodes: ReadonlyMap<string, NodeRecord>
  readonly placements: ReadonlyMap<string, PlacementClaim>
  /** When each unplaced instance was first seen unplaced. */
  readonly unplacedSince: ReadonlyMap<string, number>
}

export type PlacementAction =
  | { readonly type: "claim"; readonly key: string }
  | { readonly type: "release"; readonly key: string; readonly revision: number; readonly why: string }

export interface PlacementPlan {
  /** What this node does now: claim instances it is the best candidate for, release claims no one should hold. */
  readonly actions: ReadonlyArray<PlacementAction>
  /** Instances no node holds yet, and why. */
  readonly unplaced: ReadonlyMap<string, string>
}

/** The KV key of one instance: `<workload>.<replica index>` (workload names have no dots). */
export const placementKey = (workload: string, index: number): string => `${workload}.${index}`

export const parsePlacementKey = (key: string): { readonly workload: string; readonly index: number } => {
  const dot = key.lastIndexOf(".")
  return { workload: key.slice(0, dot), index: Number(key.slice(dot + 1)) }
}

export const isAlive = (node: NodeRecord, now: number, deadAfterMs: number): boolean => now - node.heartbeatAt <= deadAfterMs

const hasTags = (node: NodeRecord, tags: ReadonlyArray<string>): boolean => tags.every((tag) => node.tags.includes(tag))

/**
 * One pass of the placement every node runs on the same view: claims of dead nodes are released
 * by anyone, a node releases its own claims that no longer fit (undeployed, scaled down, tags,
 * draining), and each unplaced instance goes to the node that can run it with the fewest
 * instances of that workload, then the fewest instances, then the smallest name. Every node
 * computes the same assignment, so only the chosen node claims; the KV create that claims it
 * makes sure that, whatever the views, one node wins.
 */
export const planPlacements = (view: PlacementView): PlacementPlan => {
  const actions: Array<PlacementAction> = []
  const unplaced = new Map<string, string>()
  const workloads = new Map(view.workloads.map((workload) => [workload.name, workload]))
  const alive = [...view.nodes.values()].filter((node) => isAlive(node, view.now, view.deadAfterMs))
  const load = new Map<string, number>()
  const sameWorkload = new Map<string, number>()
  const held = new Set<string>()
  const count = (node: string, workload: string) => {
    load.set(node, (load.get(node) ?? 0) + 1)
    sameWorkload.set(`${node} ${workload}`, (sameWorkload.get(`${node} ${workload}`) ?? 0) + 1)
  }

  for (const [key, claim] of view.placements) {
    const { workload: name, index } = parsePlacementKey(key)
    const holder = view.nodes.get(claim.node)
    if (holder === undefined || !isAlive(holder, view.now, view.deadAfterMs)) {
      actions.push({ type: "release", key, revision: claim.revision, why: `node ${holder?.name ?? claim.node} is gone` })
      continue
    }
    const workload = workloads.get(name)
    const misfit =
      workload === undefined ? "undeployed" : index >= workload.replicas ? "scaled down" : !hasTags(holder, workload.tags) ? "tags no longer match" : holder.draining ? "draining" : undefined
    if (misfit !== undefined && claim.node === view.self) {
      actions.push({ type: "release", key, revision: claim.revision, why: misfit })
      continue
    }
    held.add(key)
    count(claim.node, name)
  }

  for (const workload of view.workloads) {
    for (let index = 0; index < workload.replicas; index++) {
      const key = placementKey(workload.name, index)
      if (held.has(key)) continue
      const matching = alive.filter((node) => !node.draining && hasTags(node, workload.tags))
      const candidates = matching
        .filter((node) => (load.get(node.id) ?? 0) < node.capacity && (sameWorkload.get(`${node.id} ${workload.name}`) ?? 0) < node.sandboxProcesses)
        .sort(
          (left, right) =>
            (sameWorkload.get(`${left.id} ${workload.name}`) ?? 0) - (sameWorkload.get(`${right.id} ${workload.name}`) ?? 0) ||
            (load.get(left.id) ?? 0) - (load.get(right.id) ?? 0) ||
            left.name.localeCompare(right.name) ||
            left.id.localeCompare(right.id)
        )
      if (candidates.length === 0) {
        unplaced.set(
          key,
          matching.length === 0
            ? workload.tags.length === 0
              ? "no live node"
              : `no live node has the tags ${workload.tags.join(", ")}`
            : `out of capacity: the ${matching.length} matching node(s) are full`
        )
        continue
      }
      const best = candidates[0]
      const waited = view.now - (view.unplacedSince.get(key) ?? view.now) >= view.claimAnyAfterMs
      const claimer = best.id === view.self || (waited && candidates.some((node) => node.id === view.self)) ? view.self : best.id
      if (claimer === view.self) actions.push({ type: "claim", key })
      unplaced.set(key, `being placed on ${claimer === view.self ? "this node" : best.name}`)
      count(claimer, workload.name)
    }
  }
  return { actions, unplaced }
}

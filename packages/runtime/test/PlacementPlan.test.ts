import { describe, expect, it } from "vitest"
import type { NodeRecord } from "../src/api.ts"
import { type PlacementClaim, type PlacementView, planPlacements } from "../src/cluster/PlacementPlan.ts"

const now = 1_000_000

const node = (id: string, fields: Partial<NodeRecord> = {}): NodeRecord => ({
  id,
  name: id,
  tags: [],
  capacity: 10,
  sandboxProcesses: 2,
  version: "0.1.0",
  startedAt: "2026-01-01T00:00:00.000Z",
  heartbeatAt: now,
  draining: false,
  workloads: [],
  ...fields
})

const view = (fields: Partial<PlacementView> & Pick<PlacementView, "self">): PlacementView => ({
  now,
  deadAfterMs: 7000,
  claimAnyAfterMs: 3000,
  workloads: [],
  nodes: new Map(),
  placements: new Map(),
  unplacedSince: new Map(),
  ...fields
})

const nodesOf = (...records: ReadonlyArray<NodeRecord>) => new Map(records.map((record) => [record.id, record]))
const claims = (entries: Record<string, string>) => new Map<string, PlacementClaim>(Object.entries(entries).map(([key, holder], index) => [key, { node: holder, revision: index + 1 }]))

/** Every node's claims for the same view: together, the assignment the cluster converges to. */
const assignment = (shared: Omit<PlacementView, "self">): Record<string, string> => {
  const result: Record<string, string> = {}
  for (const id of shared.nodes.keys()) {
    for (const action of planPlacements({ ...shared, self: id }).actions) if (action.type === "claim") result[action.key] = result[action.key] === undefined ? id : `${result[action.key]}+${id}`
  }
  return result
}

describe("planPlacements", () => {
  it("spreads replicas over the least-loaded nodes, each instance claimed by exactly one node", () => {
    const shared = view({
      self: "",
      workloads: [
        { name: "other", replicas: 1, tags: [] },
        { name: "web", replicas: 2, tags: [] }
      ],
      nodes: nodesOf(node("a"), node("b"), node("c")),
      placements: claims({ "other.0": "a" })
    })
    expect(assignment(shared)).toEqual({ "web.0": "b", "web.1": "c" })
  })

  it("puts a second replica on a node that already runs one only when no other node can take it", () => {
    const shared = view({ self: "", workloads: [{ name: "web", replicas: 3, tags: [] }], nodes: nodesOf(node("a"), node("b")) })
    expect(assignment(shared)).toEqual({ "web.0": "a", "web.1": "b", "web.2": "a" })
  })

  it("releases the claims of a dead node (anyone may) and re-places them", () => {
    const shared = view({
      self: "b",
      workloads: [{ name: "web", replicas: 1, tags: [] }],
      nodes: nodesOf(node("a", { heartbeatAt: now - 8000 }), node("b")),
      placements: claims({ "web.0": "a" })
    })
    expect(planPlacements(shared).actions).toEqual([
      { type: "release", key: "web.0", revision: 1, why: "node a is gone" },
      { type: "claim", key: "web.0" }
    ])
  })

  it("has a node release its own claims that no longer fit, and leaves other nodes' claims to them", () => {
    const shared = view({
      self: "a",
      workloads: [{ name: "web", replicas: 1, tags: [] }],
      nodes: nodesOf(node("a"), node("b")),
      placements: claims({ "web.0": "a", "web.1": "a", "gone.0": "a", "gone.1": "b" })
    })
    expect(planPlacements(shared).actions).toEqual([
      { type: "release", key: "web.1", revision: 2, why: "scaled down" },
      { type: "release", key: "gone.0", revision: 3, why: "undeployed" }
    ])
  })

  it("hands a draining node's instances to the others", () => {
    const nodes = nodesOf(node("a", { draining: true }), node("b"))
    const placements = claims({ "web.0": "a" })
    const workloads = [{ name: "web", replicas: 1, tags: [] }]
    expect(planPlacements(view({ self: "a", workloads, nodes, placements })).actions).toEqual([{ type: "release", key: "web.0", revision: 1, why: "draining" }])
    expect(planPlacements(view({ self: "b", workloads, nodes, placements: new Map() })).actions).toEqual([{ type: "claim", key: "web.0" }])
  })

  it("says why an instance runs nowhere: no node with the tags, or no capacity left", () => {
    const nodes = nodesOf(node("a", { tags: ["zone=a"], capacity: 1 }), node("b"))
    const plan = planPlacements(
      view({
        self: "a",
        workloads: [
          { name: "gpu", replicas: 1, tags: ["gpu"] },
          { name: "zoned", replicas: 2, tags: ["zone=a"] }
        ],
        nodes
      })
    )
    expect(plan.unplaced.get("gpu.0")).toBe("no live node has the tags gpu")
    expect(plan.unplaced.get("zoned.1")).toBe("out of capacity: the 1 matching node(s) are full")
    expect(plan.actions).toEqual([{ type: "claim", key: "zoned.0" }])
  })

  it("lets any node that can run it claim an instance its best candidate left unplaced for too long", () => {
    const shared = { workloads: [{ name: "web", replicas: 1, tags: [] }], nodes: nodesOf(node("a"), node("b")) }
    expect(planPlacements(view({ self: "b", ...shared, unplacedSince: new Map([["web.0", now - 1000]]) })).actions).toEqual([])
    expect(planPlacements(view({ self: "b", ...shared, unplacedSince: new Map([["web.0", now - 3000]]) })).actions).toEqual([{ type: "claim", key: "web.0" }])
  })
})

import type { KV, KvEntry } from "@nats-io/kv"
import type { NatsConnection } from "@nats-io/transport-node"
import { Effect, Queue, type Scope } from "effect"
import { NodeRecord, type NodeStatus, type ReplicaStatus } from "../api.ts"
import { watchBucket } from "../BucketWatch.ts"
import type { DeploymentSpec } from "../DeploymentSpec.ts"
import { ensureKv, ensureObjectStore, type InfrastructureError, replicasFor } from "../Infrastructure.ts"
import { bundleLoader, checkEntry, type Verdict } from "../Reconciler.ts"
import type { Supervisor, WorkloadReport } from "../Supervisor.ts"
import { names } from "../worker/WorkerProtocol.ts"
import { makeLocalNode } from "./LocalNode.ts"
import { isAlive, type PlacementAction, type PlacementClaim, parsePlacementKey, placementKey, planPlacements } from "./PlacementPlan.ts"
import { describeWorkload } from "./WorkloadSummary.ts"

export interface ClusterOptions {
  /** Labels a deployment's `tags` must all find on the node. */
  readonly tags?: ReadonlyArray<string>
  /** Workload instances the node accepts in all (default 64). */
  readonly capacity?: number
  /** How often the node refreshes its entry in `nex-nodes` (default 2 s). */
  readonly heartbeatMs?: number
  /** A node whose heartbeat is older than this is dead and its instances move (default 7 s). */
  readonly deadAfterMs?: number
}

/** This node's part of the cluster, for the control API. */
export interface ClusterNode {
  readonly id: string
  /** Workloads as the whole cluster runs them (replicas on every node). */
  readonly list: Supervisor["list"]
  readonly get: Supervisor["get"]
  readonly nodes: Effect.Effect<ReadonlyArray<NodeStatus>>
  /** Lame duck: this node takes no new instances and hands its own to the others. */
  readonly drain: Effect.Effect<void, { readonly message: string }>
}

const encoder = new TextEncoder()
/** Placement runs on every change it sees and at least this often (heartbeats age without a change). */
const placementIntervalMs = 1000
/** A dead node stays listed (as dead) this long, then its entry is removed. */
const forgetDeadAfterMs = 10 * 60_000
/** A drained instance stops after this long even when no node reports its replacement running. */
const handoverTimeoutMs = 20_000

const parseRecord = (entry: KvEntry): NodeRecord | undefined => {
  try {
    const parsed = NodeRecord.safeParse(entry.json())
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}

const parseClaim = (entry: KvEntry): PlacementClaim | undefined => {
  try {
    const value = entry.json<{ node?: unknown }>()
    return typeof value?.node === "string" ? { node: value.node, revision: entry.revision } : undefined
  } catch {
    return undefined
  }
}

/**
 * Joins the cluster: registers this node with a heartbeat in `nex-nodes`, and runs the placement
 * loop that claims instances in `nex-placements` (see planPlacements) and tells the supervisor how
 * many replicas of each workload to run here. On a clean stop it releases its claims and its entry
 * so the others take over at once rather than after the dead-node timeout.
 */
export const joinCluster = (
  connection: NatsConnection,
  supervisor: Supervisor,
  options: { readonly nodeName: string; readonly sandboxProcesses: number; readonly cluster: ClusterOptions }
): Effect.Effect<ClusterNode, InfrastructureError, Scope.Scope> =>
  Effect.gen(function* () {
    const replicas = replicasFor(connection)
    const nodesBucket = yield* ensureKv(connection, names.nodesBucket, { replicas, history: 1 })
    const placementsBucket = yield* ensureKv(connection, names.placementsBucket, { replicas, history: 1 })
    const deploymentsBucket = yield* ensureKv(connection, names.deploymentsBucket, { replicas })
    // Fired schedule periods: a key only has to outlive the moment its period's replicas fire.
    yield* ensureKv(connection, names.schedulesBucket, { replicas, history: 1, ttlMs: 10 * 60_000 })
    const loadBundle = bundleLoader(yield* ensureObjectStore(connection, names.bundlesBucket, { replicas }))
    const heartbeatMs = options.cluster.heartbeatMs ?? 2000
    const deadAfterMs = options.cluster.deadAfterMs ?? 7000

    const local = makeLocalNode({ nodeName: options.nodeName, sandboxProcesses: options.sandboxProcesses, tags: options.cluster.tags, capacity: options.cluster.capacity })
    const id = local.id
    const deployments = new Map<string, Verdict>()
    const nodes = new Map<string, NodeRecord>()
    const placements = new Map<string, PlacementClaim>()
    const unplacedSince = new Map<string, number>()
    let unplaced: ReadonlyMap<string, string> = new Map()
    /** What the supervisor was last told to run here, by workload. */
    const applied = new Map<string, { readonly revision: number; readonly replicas: number }>()
    const rejected = new Map<string, number | undefined>()
    /**
     * Instances released by draining that keep running here until their new node reports them
     * running, so a drain drops no request even with one replica.
     */
    const handovers = new Map<string, { readonly workload: string; readonly revision: number; readonly since: number }>()
    let draining = false
    let stopping = false

    const wake = yield* Queue.sliding<void>(1)
    const changed = Effect.asVoid(Queue.offer(wake, undefined))

    const heartbeat = Effect.gen(function* () {
      const record = local.record(yield* supervisor.list, draining)
      nodes.set(id, record)
      yield* Effect.tryPromise(() => nodesBucket.put(id, encoder.encode(JSON.stringify(record)))).pipe(
        Effect.catchAll((error) => Effect.logWarning("heartbeat not stored").pipe(Effect.annotateLogs({ error: error.message })))
      )
    })

    const release = (key: string, revision: number) =>
      Effect.tryPromise(() => placementsBucket.delete(key, { previousSeq: revision })).pipe(
        Effect.tap(() => Effect.sync(() => placements.get(key)?.revision === revision && placements.delete(key))),
        Effect.asVoid
      )

    const perform = (bucket: KV, action: PlacementAction) =>
      action.type === "claim"
        ? Effect.tryPromise(() => bucket.create(action.key, encoder.encode(JSON.stringify({ node: id, name: options.nodeName, at: new Date().toISOString() })))).pipe(
            Effect.tap((revision) => {
              placements.set(action.key, { node: id, revision })
              return Effect.logInfo("instance claimed").pipe(Effect.annotateLogs({ instance: action.key }))
            }),
            // Another node claimed it first: its claim shows up through the watch.
            Effect.catchAll(() => Effect.void)
          )
        : release(action.key, action.revision).pipe(
            Effect.tap(() => {
              const workload = parsePlacementKey(action.key).workload
              const running = applied.get(workload)
              if (action.why === "draining" && running !== undefined) handovers.set(action.key, { workload, revision: running.revision, since: Date.now() })
              return Effect.logInfo("instance released").pipe(Effect.annotateLogs({ instance: action.key, why: action.why }))
            }),
            Effect.catchAll(() => Effect.void)
          )

    const validSpecs = (): Array<DeploymentSpec> => [...deployments.values()].flatMap((verdict) => (verdict.ok ? [verdict.spec] : []))

    const handedOver = (key: string, handover: { readonly workload: string; readonly revision: number; readonly since: number }): boolean => {
      const verdict = deployments.get(handover.workload)
      if (verdict === undefined || !verdict.ok || verdict.spec.revision !== handover.revision || Date.now() - handover.since > handoverTimeoutMs) return true
      const claim = placements.get(key)
      const holder = claim === undefined || claim.node === id ? undefined : nodes.get(claim.node)
      return holder?.workloads.some((workload) => workload.name === handover.workload && workload.revision === handover.revision && workload.state === "running") ?? false
    }

    const syncSupervisor = Effect.gen(function* () {
      const owned = new Map<string, number>()
      const add = (workload: string) => owned.set(workload, (owned.get(workload) ?? 0) + 1)
      for (const [key, claim] of placements) if (claim.node === id) add(parsePlacementKey(key).workload)
      for (const [key, handover] of handovers) {
        if (handedOver(key, handover)) handovers.delete(key)
        else add(handover.workload)
      }
      for (const [name, verdict] of deployments) {
        if (!verdict.ok) {
          if (rejected.has(name) && rejected.get(name) === verdict.revision) continue
          rejected.set(name, verdict.revision)
          yield* supervisor.reject(name, verdict.revision, verdict.reason)
          continue
        }
        rejected.delete(name)
        const count = owned.get(name) ?? 0
        const previous = applied.get(name)
        if (count === 0) {
          if (previous !== undefined) yield* supervisor.remove(name)
          applied.delete(name)
          continue
        }
        if (previous?.revision === verdict.spec.revision && previous.replicas === count) continue
        const bundle = yield* loadBundle(verdict.spec)
        if (!bundle.ok) {
          yield* supervisor.reject(name, verdict.spec.revision, bundle.reason)
          continue
        }
        yield* supervisor.apply({ ...verdict.spec, replicas: count }, bundle.code)
        applied.set(name, { revision: verdict.spec.revision, replicas: count })
      }
      for (const name of [...applied.keys()]) {
        if (deployments.has(name)) continue
        applied.delete(name)
        yield* supervisor.remove(name)
      }
      for (const name of [...rejected.keys()]) if (!deployments.has(name)) rejected.delete(name)
    })

    const place = Effect.gen(function* () {
      if (stopping) return
      const now = Date.now()
      const plan = planPlacements({
        self: id,
        now,
        deadAfterMs,
        claimAnyAfterMs: 3000,
        workloads: validSpecs().map((spec) => ({ name: spec.name, replicas: spec.replicas, tags: spec.tags ?? [] })),
        nodes,
        placements,
        unplacedSince
      })
      for (const key of plan.unplaced.keys()) if (!unplacedSince.has(key)) unplacedSince.set(key, now)
      for (const key of [...unplacedSince.keys()]) if (!plan.unplaced.has(key)) unplacedSince.delete(key)
      unplaced = plan.unplaced
      yield* Effect.forEach(plan.actions, (action) => perform(placementsBucket, action), { discard: true })
      for (const node of nodes.values()) {
        if (now - node.heartbeatAt > forgetDeadAfterMs) yield* Effect.ignore(Effect.tryPromise(() => nodesBucket.delete(node.id)))
      }
      yield* syncSupervisor
    })

    yield* heartbeat
    yield* watchBucket(
      nodesBucket,
      (entry) =>
        Effect.suspend(() => {
          const record = entry.operation === "PUT" ? parseRecord(entry) : undefined
          if (record === undefined) nodes.delete(entry.key)
          else nodes.set(entry.key, record)
          return changed
        }),
      "nodes"
    )
    yield* watchBucket(
      placementsBucket,
      (entry) =>
        Effect.suspend(() => {
          const claim = entry.operation === "PUT" ? parseClaim(entry) : undefined
          if (claim === undefined) placements.delete(entry.key)
          else placements.set(entry.key, claim)
          return changed
        }),
      "placements"
    )
    yield* watchBucket(
      deploymentsBucket,
      (entry) =>
        Effect.suspend(() => {
          if (entry.operation === "PUT") deployments.set(entry.key, checkEntry(entry))
          else deployments.delete(entry.key)
          return changed
        }),
      "deployments"
    )

    yield* Effect.forkScoped(Effect.forever(Effect.sleep(heartbeatMs).pipe(Effect.andThen(heartbeat))))
    yield* Effect.forkScoped(
      Effect.forever(
        Queue.take(wake).pipe(
          Effect.timeout(placementIntervalMs),
          Effect.ignore,
          Effect.andThen(place),
          Effect.catchAllCause((cause) => Effect.logError("placement pass failed", cause))
        )
      )
    )

    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        stopping = true
        const mine = [...placements].filter(([, claim]) => claim.node === id)
        yield* Effect.forEach(mine, ([key, claim]) => Effect.ignore(release(key, claim.revision)), { discard: true, concurrency: "unbounded" })
        yield* Effect.ignore(Effect.tryPromise(() => nodesBucket.delete(id)))
      }).pipe(Effect.timeout("3 seconds"), Effect.ignore)
    )
    yield* Effect.logInfo("joined the cluster").pipe(Effect.annotateLogs({ node: options.nodeName, id, replicas }))

    const replicaStatuses = (spec: DeploymentSpec, local: WorkloadReport | undefined): Array<ReplicaStatus> =>
      Array.from({ length: spec.replicas }, (_, index): ReplicaStatus => {
        const key = placementKey(spec.name, index)
        const claim = placements.get(key)
        if (claim === undefined) return { index, state: "pending", reason: unplaced.get(key) ?? "being placed" }
        const holder = nodes.get(claim.node)
        const where = { index, node: holder?.name ?? claim.node, nodeId: claim.node }
        if (holder === undefined || !isAlive(holder, Date.now(), deadAfterMs)) return { ...where, state: "pending", reason: "its node stopped heart-beating: moving" }
        if (claim.node === id) return local === undefined ? { ...where, state: "pending", reason: "starting" } : { ...where, state: local.status.state, reason: local.status.reason }
        const summary = holder.workloads.find((workload) => workload.name === spec.name && workload.revision === spec.revision)
        return summary === undefined ? { ...where, state: "pending", reason: "starting" } : { ...where, state: summary.state, reason: summary.reason }
      })

    const clusterReport = (name: string): Effect.Effect<WorkloadReport | undefined> =>
      Effect.gen(function* () {
        const local = yield* supervisor.get(name)
        const verdict = deployments.get(name)
        if (verdict === undefined || !verdict.ok) return local
        const others = [...nodes.values()].filter((node) => node.id !== id).flatMap((node) => node.workloads.filter((workload) => workload.name === name))
        return describeWorkload(verdict.spec, local, replicaStatuses(verdict.spec, local), others, options.nodeName)
      })

    const nodeStatuses = Effect.sync(() => {
      const now = Date.now()
      return [...nodes.values()]
        .map(
          (node): NodeStatus => ({
            ...node,
            alive: isAlive(node, now, deadAfterMs),
            instances: [...placements].filter(([, claim]) => claim.node === node.id).map(([key]) => key).sort()
          })
        )
        .sort((left, right) => left.name.localeCompare(right.name) || left.id.localeCompare(right.id))
    })

    return {
      id,
      list: Effect.gen(function* () {
        const names = new Set([...deployments.keys(), ...(yield* supervisor.list).map((report) => report.status.name)])
        const reports = yield* Effect.forEach([...names].sort(), clusterReport)
        return reports.flatMap((report) => (report === undefined ? [] : [report]))
      }),
      get: clusterReport,
      nodes: nodeStatuses,
      drain: Effect.gen(function* () {
        draining = true
        yield* heartbeat
        yield* changed
      })
    } satisfies ClusterNode
  })

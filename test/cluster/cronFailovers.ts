import type { NatsConnection } from "@nats-io/transport-node"
import type { Api } from "@nex/runtime"
import { startNatsCluster } from "../support/natsCluster.ts"
import { client, deploy } from "../runtime/runtimeHarness.ts"
import { type ClusterNodeProcess, replicaStatuses, startClusterNode } from "./clusterNodes.ts"

/** What a run of `cronFailovers` saw of the schedule's firings. */
export interface FiringSummary {
  /** Distinct periods fired, from the first to the last seen. */
  readonly periods: number
  /** Periods fired more than once (ISO-8601 period starts). */
  readonly duplicates: ReadonlyArray<string>
  /** Periods between the first and the last fired that never fired. */
  readonly missed: number
  /** The longest time between two consecutive fired periods (everyMs when none is missed). */
  readonly longestGapMs: number
  /** Firings without a `Nex-Period` header: a replica fired without claiming its period. */
  readonly unclaimed: number
}

export interface CronFailoverResult extends FiringSummary {
  readonly failovers: number
  /** Per failover: from the SIGKILL to both replicas running again, none on the killed node. */
  readonly recoveryMs: ReadonlyArray<number>
  readonly elapsedMs: number
}

/** Counts duplicates and gaps in the periods a schedule fired for (each "<ISO period> <node>", as fixtures/tick.ts publishes). */
export const summarizeFirings = (firings: ReadonlyArray<string>, everyMs: number): FiringSummary => {
  const periods = firings.map((firing) => firing.split(" ")[0])
  const labelled = periods.filter((period) => period !== "none")
  const counts = new Map<string, number>()
  for (const period of labelled) counts.set(period, (counts.get(period) ?? 0) + 1)
  const starts = [...counts.keys()].map((period) => Date.parse(period)).sort((left, right) => left - right)
  let longestGapMs = starts.length > 1 ? 0 : Number.NaN
  for (let index = 1; index < starts.length; index++) longestGapMs = Math.max(longestGapMs, starts[index] - starts[index - 1])
  const span = starts.length === 0 ? 0 : Math.round((starts[starts.length - 1] - starts[0]) / everyMs) + 1
  return {
    periods: starts.length,
    duplicates: [...counts].filter(([, count]) => count > 1).map(([period]) => period),
    missed: span - starts.length,
    longestGapMs,
    unclaimed: periods.length - labelled.length
  }
}

const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds))

/** Polls until `replicas` replicas run on distinct nodes, none of them the node `excludedId`; resolves to them. */
const untilRunning = async (
  connection: NatsConnection,
  name: string,
  replicas: number,
  deadline: number,
  excludedId?: string
): Promise<ReadonlyArray<Api.ReplicaStatus>> => {
  for (;;) {
    const now = await replicaStatuses(connection, name, 2000).catch(() => [])
    const running = now.filter((replica) => replica.state === "running" && replica.nodeId !== undefined && replica.nodeId !== excludedId)
    if (running.length === replicas && new Set(running.map((replica) => replica.nodeId)).size === replicas) return running
    if (Date.now() > deadline) throw new Error(`${name}: ${replicas} replicas not running in time: ${JSON.stringify(now)}`)
    await sleep(100)
  }
}

/**
 * On a three-server nats-server cluster with three `nex up --nats` nodes, a workload scheduled every
 * `everyMs` with two replicas publishes each period it fires for; `failovers` times, the node of one
 * of its replicas is SIGKILLed (alternately the one that fired last, restarted at once under the same
 * name, and the other one, restarted once its replica runs elsewhere), and the next kill waits until
 * both replicas run again and the killed node is back. Stops failing over when `timeoutMs` (counted
 * from the start) is near, and reports how many failovers it did.
 */
export const cronFailovers = async (options: { readonly failovers: number; readonly everyMs: number; readonly timeoutMs: number }): Promise<CronFailoverResult> => {
  const startedAt = Date.now()
  const deadline = startedAt + options.timeoutMs
  const cluster = await startNatsCluster(3)
  const nodes = new Map<string, ClusterNodeProcess>()
  let connection: NatsConnection | undefined
  try {
    // The first node creates the buckets; the other two start together.
    nodes.set("a", await startClusterNode(cluster.urls, "a"))
    const others = await Promise.allSettled(["b", "c"].map(async (name) => nodes.set(name, await startClusterNode(cluster.urls, name))))
    for (const other of others) if (other.status === "rejected") throw other.reason
    connection = await client(cluster.urls)
    const firings: Array<string> = []
    connection.subscribe("ticks", { callback: (_error, message) => void firings.push(message.string()) })
    await deploy(connection, { file: "test/cluster/fixtures/tick.ts", name: "cron", every: options.everyMs, replicas: 2, allowPublish: ["ticks"] }, { waitMs: 30_000 })
    let replicas = await untilRunning(connection, "cron", 2, deadline)
    const recoveryMs: Array<number> = []
    // A failover takes the dead-node timeout (7 s) and a start: leave room for one more before the deadline.
    const failoverRoomMs = 20_000
    while (recoveryMs.length < options.failovers && Date.now() + failoverRoomMs < deadline) {
      const even = recoveryMs.length % 2 === 0
      const lastFiredOn = firings.at(-1)?.split(" ")[1]
      const victim = replicas.find((replica) => (replica.node === lastFiredOn) === even) ?? replicas[0]
      const killed = nodes.get(victim.node!)!
      const killedAt = Date.now()
      await killed.process.stop("SIGKILL")
      // Back at once, it takes its replica again; back only afterwards, the replica moves to the third node.
      const restarted = even ? startClusterNode(cluster.urls, killed.name) : undefined
      try {
        replicas = await untilRunning(connection, "cron", 2, deadline, victim.nodeId)
        recoveryMs.push(Date.now() - killedAt)
      } finally {
        nodes.set(killed.name, await (restarted ?? startClusterNode(cluster.urls, killed.name)))
      }
    }
    // A few more periods, so that a duplicate or a gap right after the last failover shows.
    await sleep(3 * options.everyMs + 500)
    return { ...summarizeFirings(firings, options.everyMs), failovers: recoveryMs.length, recoveryMs, elapsedMs: Date.now() - startedAt }
  } finally {
    await connection?.close()
    for (const node of nodes.values()) await node.process.stop("SIGKILL")
    await cluster.stop()
  }
}

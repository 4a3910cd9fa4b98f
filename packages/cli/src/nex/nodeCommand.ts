import { Args, Command } from "@effect/cli"
import { Api, subjects } from "@nex/runtime"
import { Console, Effect } from "effect"
import { reportFailure } from "./CommandFailure.ts"
import { connectionFlags, openConnection } from "./connectionFlags.ts"
import { requestApi } from "./controlApi.ts"
import { table } from "./formatting.ts"

const stateOf = (node: Api.NodeStatus): string => (!node.alive ? "dead" : node.draining ? "draining" : "alive")

const secondsAgo = (time: number): string => `${Math.max(0, Math.round((Date.now() - time) / 1000))}s ago`

/** The table `nex node ls` prints. */
export const describeNodes = (nodes: ReadonlyArray<Api.NodeStatus>): string =>
  nodes.length === 0
    ? "no nodes (is a node running with --nats?)"
    : table(
        ["NAME", "ID", "STATE", "INSTANCES", "CAPACITY", "TAGS", "VERSION", "HEARTBEAT"],
        nodes.map((node) => [node.name, node.id, stateOf(node), String(node.instances.length), String(node.capacity), node.tags.join(",") || "-", node.version, secondsAgo(node.heartbeatAt)])
      )

/** The lines `nex node info` prints. */
export const describeNode = (node: Api.NodeStatus): string => {
  const lines = [`node ${node.name} (${node.id}): ${stateOf(node)}`]
  const field = (label: string, value: string) => lines.push(`  ${`${label}:`.padEnd(12)} ${value}`)
  field("tags", node.tags.join(", ") || "-")
  field("capacity", `${node.instances.length} of ${node.capacity} instances, ${node.sandboxProcesses} sandbox processes`)
  field("version", node.version)
  field("started at", node.startedAt)
  field("heartbeat", secondsAgo(node.heartbeatAt))
  field("instances", node.instances.join(", ") || "-")
  for (const workload of node.workloads) lines.push(`    ${workload.name} r${workload.revision}: ${workload.state}, ${workload.running} running${workload.reason === undefined ? "" : ` (${workload.reason})`}`)
  return lines.join("\n")
}

const nodeArgument = Args.text({ name: "node" }).pipe(Args.withDescription("The node's id or name"))

const listNodes = Command.make("ls", connectionFlags, (flags) =>
  Effect.gen(function* () {
    const connection = yield* openConnection(flags)
    const { nodes } = yield* requestApi(connection, subjects.api.nodes, {}, Api.NodesResponse)
    yield* Console.log(describeNodes(nodes))
  }).pipe(Effect.scoped, reportFailure("node ls"))
).pipe(Command.withDescription("List the nodes of the cluster, alive, draining or dead"))

const nodeInfo = Command.make("info", { node: nodeArgument, ...connectionFlags }, (flags) =>
  Effect.gen(function* () {
    const connection = yield* openConnection(flags)
    const { node } = yield* requestApi(connection, subjects.api.nodeInfo, { node: flags.node }, Api.NodeInfoResponse)
    yield* Console.log(describeNode(node))
  }).pipe(Effect.scoped, reportFailure("node info"))
).pipe(Command.withDescription("Show one node: its tags, capacity, heartbeat and instances"))

const drainNode = Command.make("drain", { node: nodeArgument, ...connectionFlags }, (flags) =>
  Effect.gen(function* () {
    const connection = yield* openConnection(flags)
    const { node } = yield* requestApi(connection, subjects.api.drain, { node: flags.node }, Api.DrainResponse)
    yield* Console.log(`draining node ${node.name} (${node.id}): its ${node.instances.length} instance(s) move to other nodes`)
  }).pipe(Effect.scoped, reportFailure("node drain"))
).pipe(Command.withDescription("Lame duck: the node takes no new instances and hands its own to the other nodes"))

/** `nex node ls | info | drain`: the nodes of a cluster (nodes started with `nex up --nats`; a standalone node is a one-node cluster). */
export const nodeCommand = Command.make("node").pipe(
  Command.withDescription("The nodes of a cluster (a standalone node is a cluster of one)"),
  Command.withSubcommands([listNodes, nodeInfo, drainNode])
)

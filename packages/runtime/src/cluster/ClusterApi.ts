import type { NatsConnection } from "@nats-io/transport-node"
import { Effect, type Scope } from "effect"
import { type DrainResponse, type NodeInfoResponse, NodeRequest, NodesRequest, type NodesResponse, type NodeStatus } from "../api.ts"
import { operation, serveOperations } from "../ControlApi.ts"
import { subjects } from "../subjects.ts"
import type { ClusterNode } from "./ClusterNode.ts"

const find = (nodes: ReadonlyArray<NodeStatus>, wanted: string): NodeStatus | undefined =>
  nodes.find((node) => node.id === wanted) ?? nodes.find((node) => node.name === wanted)

/**
 * The cluster part of the control API: `nex node ls | info | drain`. Every node answers ls and
 * info from its own view; a drain is answered by the node drained (or, when no node has that id
 * or name, by every node with the same error, the first of which the CLI gets).
 */
export const serveClusterApi = (connection: NatsConnection, cluster: ClusterNode): Effect.Effect<void, never, Scope.Scope> => {
  const lookup = (wanted: string) =>
    Effect.flatMap(cluster.nodes, (nodes) => {
      const node = find(nodes, wanted)
      return node === undefined ? Effect.fail({ message: `no node with the id or name ${wanted}` }) : Effect.succeed(node)
    })
  return serveOperations(connection, [
    operation(subjects.api.nodes, NodesRequest, () => Effect.map(cluster.nodes, (nodes): NodesResponse => ({ nodes: [...nodes] }))),
    operation(subjects.api.nodeInfo, NodeRequest, (request) => Effect.map(lookup(request.node), (node): NodeInfoResponse => ({ node }))),
    operation(subjects.api.drain, NodeRequest, (request) =>
      Effect.gen(function* () {
        const node = yield* lookup(request.node)
        if (node.id !== cluster.id) return undefined
        yield* cluster.drain
        return { node: { ...node, draining: true } } satisfies DrainResponse
      })
    )
  ])
}

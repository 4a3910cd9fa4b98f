import { connect, type NatsConnection } from "@nats-io/transport-node"
import { type DeployResult, type DeployStep, deployWorkload, WorkloadConfig, type WorkloadConfigInput } from "@nex/runtime"
import { Effect } from "effect"
import { buildCli } from "../../scripts/build-cli.ts"
import { repoRoot, startNex } from "../../test/support/nexNode.ts"

/** A `nex up` with its workload runtime, as users run it (the bundle), and a client connected to it. */
export interface RuntimeNode {
  readonly url: string
  readonly pid: number
  readonly client: NatsConnection
  /** Deploys as `nex deploy` does, through the control API; `file` is relative to the repository. */
  readonly deploy: (workload: WorkloadConfigInput, onProgress?: (step: DeployStep) => void) => Promise<DeployResult>
  readonly stop: () => Promise<void>
}

let bundleBuilt: Promise<void> | undefined

/** Starts `nex up` from the bundle (rebuilt once per bench run) with its runtime on, on a free port. */
export const startRuntimeNode = async (): Promise<RuntimeNode> => {
  await (bundleBuilt ??= buildCli())
  const node = await startNex({ bundled: true, runtime: true })
  const pid = node.process.child.pid
  if (pid === undefined) throw new Error("nex up has no pid")
  let client: NatsConnection
  try {
    client = await connect({ servers: node.url, name: "runtime bench" })
  } catch (error) {
    await node.stop()
    throw error
  }
  return {
    url: node.url,
    pid,
    client,
    deploy: (workload, onProgress) =>
      Effect.runPromise(deployWorkload(client, WorkloadConfig.parse(workload), { workingDirectory: repoRoot, waitMs: 60_000, onProgress })),
    stop: async () => {
      await client.close()
      await node.stop()
    }
  }
}

/** Starts a node for one run of `body` and stops it afterwards, whatever happens. */
export const withRuntimeNode = async <A>(body: (node: RuntimeNode) => Promise<A>): Promise<A> => {
  const node = await startRuntimeNode()
  try {
    return await body(node)
  } finally {
    await node.stop()
  }
}

/** The path `deploy` takes for a bench workload in runtime/workloads. */
export const workloadFile = (name: string): string => `bench/runtime/workloads/${name}.ts`

import { connect, type NatsConnection } from "@nats-io/transport-node"
import { Context, Effect, Exit, Layer, Logger, LogLevel, Scope } from "effect"
import { type DeployOptions, type DeployResult, deployWorkload } from "../../packages/runtime/src/Deployer.ts"
import { layer, layerWithLauncher, Runtime, type RuntimeOptions } from "../../packages/runtime/src/Runtime.ts"
import { WorkloadConfig, type WorkloadConfigInput } from "../../packages/runtime/src/WorkloadConfig.ts"
import { type FakeHandlers, fakeSandboxes } from "../../packages/runtime/test/support/FakeSandbox.ts"
import { repoRoot } from "../support/index.ts"

export interface RunningRuntime {
  readonly runtime: Context.Tag.Service<Runtime>
  readonly sandboxes: ReturnType<typeof fakeSandboxes>
  readonly stop: () => Promise<void>
}

/** The runtime of one node, in this process, with in-process fake sandboxes running `handlers`. */
export const startRuntime = async (servers: string, handlers: FakeHandlers, options: Partial<RuntimeOptions> = {}): Promise<RunningRuntime> => {
  const sandboxes = fakeSandboxes(handlers)
  const scope = Effect.runSync(Scope.make())
  const layer = layerWithLauncher({ servers, nodeName: "test-node", sandboxProcesses: 2, ...options }).pipe(Layer.provide(sandboxes.layer))
  const context = await Effect.runPromise(Layer.buildWithScope(layer, scope).pipe(Logger.withMinimumLogLevel(LogLevel.None)))
  return { runtime: Context.get(context, Runtime), sandboxes, stop: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

/** The runtime of one node as `nex up` runs it: real sandbox host processes (worker/main.ts, isolated-vm). */
export const startSandboxedRuntime = async (servers: string, options: Partial<RuntimeOptions> = {}): Promise<Omit<RunningRuntime, "sandboxes">> => {
  const scope = Effect.runSync(Scope.make())
  const built = layer({ servers, nodeName: "test-node", sandboxProcesses: 2, ...options })
  const context = await Effect.runPromise(Layer.buildWithScope(built, scope).pipe(Logger.withMinimumLogLevel(LogLevel.None)))
  return { runtime: Context.get(context, Runtime), stop: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

/** Deploys as `nex deploy` does, from its own client connection; file paths are relative to the repo. */
export const deploy = (connection: NatsConnection, workload: WorkloadConfigInput, options: DeployOptions = {}): Promise<DeployResult> =>
  Effect.runPromise(deployWorkload(connection, WorkloadConfig.parse(workload), { workingDirectory: repoRoot, waitMs: 10_000, ...options }))

export const deployEither = (connection: NatsConnection, workload: WorkloadConfigInput, options: DeployOptions = {}) =>
  Effect.runPromise(Effect.either(deployWorkload(connection, WorkloadConfig.parse(workload), { workingDirectory: repoRoot, waitMs: 10_000, ...options })))

export const client = (servers: string): Promise<NatsConnection> => connect({ servers, name: "test client" })

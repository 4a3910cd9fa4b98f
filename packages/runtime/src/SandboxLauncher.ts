import { fork } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { Context, Data, Effect, Layer } from "effect"
import type { NodeToWorker, WorkerEnvironment, WorkerToNode } from "./worker/WorkerProtocol.ts"

/** One running sandbox host process, as the supervisor sees it. */
export interface SandboxProcess {
  readonly pid: number | undefined
  /** Delivers a message; dropped silently once the process is gone (its exit is reported anyway). */
  send(message: NodeToWorker): void
  /** Ends the process at once (SIGKILL). */
  kill(): void
  /** Resolves when the process has exited, however it ended. */
  readonly exited: Promise<void>
}

/** What a sandbox process reports; no message arrives after `onExit` (output lines may). */
export interface SandboxCallbacks {
  readonly onMessage: (message: WorkerToNode) => void
  /** One line the process wrote to stdout or stderr. */
  readonly onOutput: (line: string) => void
  /** "exit code 1", "signal SIGABRT", or why it could not start. */
  readonly onExit: (description: string) => void
}

export class SandboxLaunchError extends Data.TaggedError("SandboxLaunchError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * Starts sandbox host processes. The node uses `layerFork` (child processes running
 * worker/main.ts); runtime tests provide an in-process fake that runs trusted test handlers.
 */
export class SandboxLauncher extends Context.Tag("@nex/runtime/SandboxLauncher")<
  SandboxLauncher,
  {
    readonly launch: (index: number, environment: WorkerEnvironment, callbacks: SandboxCallbacks) => Effect.Effect<SandboxProcess, SandboxLaunchError>
  }
>() {}

/** The sandbox host program: packages/runtime/src/worker/main.ts, found through the package so a bundled CLI finds it too. */
export const defaultWorkerEntry = (): string => fileURLToPath(import.meta.resolve("@nex/runtime/worker"))

const describeExit = (code: number | null, signal: NodeJS.Signals | null): string =>
  signal !== null ? `signal ${signal}` : `exit code ${code ?? "unknown"}`

/** Forks `entry` with the flags isolated-vm needs and the advanced (structured clone) IPC channel. */
export const layerFork = (entry: string = defaultWorkerEntry()): Layer.Layer<SandboxLauncher> =>
  Layer.succeed(SandboxLauncher, {
    launch: (_index, environment, callbacks) =>
      Effect.try({
        try: () => {
          const child = fork(entry, [], {
            execArgv: ["--no-node-snapshot"],
            serialization: "advanced",
            // Only what the protocol names: the node's own environment (secrets included) stays out.
            env: { ...environment },
            stdio: ["ignore", "pipe", "pipe", "ipc"]
          })
          let ended = false
          const exited = new Promise<void>((resolve) => {
            const end = (description: string) => {
              if (ended) return
              ended = true
              resolve()
              callbacks.onExit(description)
            }
            child.once("exit", (code, signal) => end(describeExit(code, signal)))
            child.once("error", (error) => {
              end(`could not run ${entry}: ${error.message}`)
              child.kill("SIGKILL")
            })
          })
          child.on("message", (message) => {
            if (!ended) callbacks.onMessage(message as WorkerToNode)
          })
          for (const stream of [child.stdout, child.stderr]) {
            if (stream !== null) createInterface({ input: stream }).on("line", callbacks.onOutput)
          }
          return {
            pid: child.pid,
            send: (message: NodeToWorker) => {
              // A send racing the process's exit fails with EPIPE; the exit is reported on its own.
              if (child.connected) child.send(message, () => {})
            },
            kill: () => {
              if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
            },
            exited
          }
        },
        catch: (cause) => new SandboxLaunchError({ message: `could not start a sandbox process from ${entry}: ${String(cause)}`, cause })
      })
  })

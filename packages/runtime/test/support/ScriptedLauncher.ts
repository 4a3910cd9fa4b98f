import { Effect, Layer } from "effect"
import { type SandboxCallbacks, SandboxLauncher, type SandboxProcess } from "../../src/SandboxLauncher.ts"
import type { NodeToWorker, WorkerToNode, WorkloadStats } from "../../src/worker/WorkerProtocol.ts"

/**
 * A sandbox process with no sandbox: it records what the supervisor sends and answers as a test
 * scripts it. By default it reports ready at once and every start as started.
 */
export class ScriptedProcess implements SandboxProcess {
  readonly index: number
  readonly pid: number
  readonly sent: Array<NodeToWorker> = []
  readonly launchedAt = Date.now()
  readonly exited: Promise<void>
  #callbacks: SandboxCallbacks
  #alive = true
  #resolveExit!: () => void
  #autoStart: (message: Extract<NodeToWorker, { type: "start" }>) => boolean

  constructor(index: number, pid: number, callbacks: SandboxCallbacks, autoStart: (message: Extract<NodeToWorker, { type: "start" }>) => boolean) {
    this.index = index
    this.pid = pid
    this.#callbacks = callbacks
    this.#autoStart = autoStart
    this.exited = new Promise((resolve) => (this.#resolveExit = resolve))
  }

  get alive(): boolean {
    return this.#alive
  }

  send(message: NodeToWorker): void {
    if (!this.#alive) return
    this.sent.push(message)
    if (message.type === "start" && this.#autoStart(message)) queueMicrotask(() => this.reply({ type: "started", name: message.spec.name, revision: message.spec.revision }))
    if (message.type === "shutdown") queueMicrotask(() => this.die("exit code 0"))
  }

  reply(message: WorkerToNode): void {
    if (this.#alive) this.#callbacks.onMessage(message)
  }

  heartbeat(active: ReadonlyArray<string>, stats: ReadonlyArray<WorkloadStats> = []): void {
    this.reply({ type: "heartbeat", active, stats })
  }

  die(description = "signal SIGABRT"): void {
    if (!this.#alive) return
    this.#alive = false
    this.#resolveExit()
    this.#callbacks.onExit(description)
  }

  kill(): void {
    this.die("signal SIGKILL")
  }

  starts(): Array<{ readonly name: string; readonly revision: number }> {
    return this.sent.flatMap((message) => (message.type === "start" ? [{ name: message.spec.name, revision: message.spec.revision }] : []))
  }

  stops(): Array<string> {
    return this.sent.flatMap((message) => (message.type === "stop" ? [message.name] : []))
  }
}

export interface ScriptedLauncherOptions {
  /** Report ready right after launch (default true). */
  readonly autoReady?: boolean
  /** Which starts are answered `started` at once (default: all). */
  readonly autoStart?: (message: Extract<NodeToWorker, { type: "start" }>) => boolean
}

export const scriptedLauncher = (options: ScriptedLauncherOptions = {}) => {
  const launched: Array<ScriptedProcess> = []
  let nextPid = 1000
  const layer = Layer.succeed(SandboxLauncher, {
    launch: (index, _environment, callbacks) =>
      Effect.sync(() => {
        const process = new ScriptedProcess(index, nextPid++, callbacks, options.autoStart ?? (() => true))
        launched.push(process)
        if (options.autoReady ?? true) queueMicrotask(() => process.reply({ type: "ready", pid: process.pid }))
        return process
      })
  })
  return {
    layer,
    launched,
    /** The live process in a slot. */
    current: (index: number): ScriptedProcess => {
      const process = launched.findLast((candidate) => candidate.index === index && candidate.alive)
      if (process === undefined) throw new Error(`no live process in slot ${index}`)
      return process
    }
  }
}

import { connect, headers as createHeaders, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node"
import { Effect, Layer } from "effect"
import type { DeploymentSpec } from "../../src/DeploymentSpec.ts"
import { type SandboxCallbacks, SandboxLauncher, type SandboxProcess } from "../../src/SandboxLauncher.ts"
import { names, type NodeToWorker, type WorkerEnvironment, type WorkloadStats } from "../../src/worker/WorkerProtocol.ts"

/** What a trusted test handler gets; no sandbox, no host services beyond logging. */
export interface FakeContext {
  readonly name: string
  readonly revision: number
  readonly node: string
  log(message: string): void
}

export type FakeHandler = (message: Msg, context: FakeContext) => unknown

/**
 * A trusted handler by workload name, chosen per spec (so a test can give revision 2 new behaviour).
 * A missing entry makes the start fail, the way a module that does not evaluate would.
 */
export type FakeHandlers = Record<string, (spec: DeploymentSpec) => FakeHandler>

/** Thrown by a test handler to make its fake process die as a V8 abort would. */
export class FakeProcessCrash extends Error {}

const encoder = new TextEncoder()

interface FakeWorkload {
  readonly spec: DeploymentSpec
  readonly subscriptions: ReadonlyArray<Subscription>
  invocations: number
  errors: number
  lastError: string | undefined
}

/**
 * An in-process stand-in for a sandbox host process: it speaks WorkerProtocol and subscribes
 * workload triggers on its own NATS connection like the real one, but runs only the trusted
 * handlers a test registered (the bundle's code is never evaluated).
 */
class FakeSandboxProcess implements SandboxProcess {
  readonly pid: number
  readonly exited: Promise<void>
  readonly #callbacks: SandboxCallbacks
  readonly #environment: WorkerEnvironment
  readonly #handlers: FakeHandlers
  readonly #workloads = new Map<string, FakeWorkload>()
  readonly #active = new Set<string>()
  #connection: NatsConnection | undefined
  #heartbeat: NodeJS.Timeout | undefined
  #alive = true
  #resolveExit!: () => void

  constructor(pid: number, environment: WorkerEnvironment, callbacks: SandboxCallbacks, handlers: FakeHandlers) {
    this.pid = pid
    this.#environment = environment
    this.#callbacks = callbacks
    this.#handlers = handlers
    this.exited = new Promise((resolve) => (this.#resolveExit = resolve))
    void this.#boot()
  }

  get alive(): boolean {
    return this.#alive
  }

  get workloads(): ReadonlyArray<string> {
    return [...this.#workloads.keys()]
  }

  async #boot(): Promise<void> {
    try {
      this.#connection = await connect({ servers: this.#environment.NEX_NATS_URL.split(","), name: `fake sandbox ${this.pid}` })
    } catch (error) {
      return this.#end(`could not connect: ${String(error)}`)
    }
    if (!this.#alive) return void this.#connection.close()
    this.#heartbeat = setInterval(() => this.#sendHeartbeat(), 100)
    this.#callbacks.onMessage({ type: "ready", pid: this.pid })
  }

  #sendHeartbeat(): void {
    const stats: Array<WorkloadStats> = [...this.#workloads.values()].map((workload) => ({
      name: workload.spec.name,
      revision: workload.spec.revision,
      invocations: workload.invocations,
      errors: workload.errors,
      p50Ms: 0.1,
      p99Ms: 0.2,
      cpuTimeNs: workload.invocations * 1000,
      heapBytes: 1024 * 1024,
      lastError: workload.lastError
    }))
    this.#callbacks.onMessage({ type: "heartbeat", active: [...this.#active], stats })
  }

  send(message: NodeToWorker): void {
    if (!this.#alive) return
    void this.#handle(message)
  }

  async #handle(message: NodeToWorker): Promise<void> {
    const connection = this.#connection!
    switch (message.type) {
      case "start": {
        const { spec } = message
        const make = this.#handlers[spec.name]
        if (make === undefined) {
          return this.#callbacks.onMessage({ type: "startFailed", name: spec.name, revision: spec.revision, reason: `no test handler registered for ${spec.name}` })
        }
        const handler = make(spec)
        const workload: FakeWorkload = {
          spec,
          subscriptions: spec.triggers.map((subject) =>
            connection.subscribe(subject, { queue: spec.queue ?? names.defaultQueue(spec.name), callback: (_error, request) => void this.#invoke(workload, handler, request) })
          ),
          invocations: 0,
          errors: 0,
          lastError: undefined
        }
        // The new revision subscribes before the old one drains: no request finds nobody.
        await connection.flush()
        const previous = this.#workloads.get(spec.name)
        this.#workloads.set(spec.name, workload)
        if (previous !== undefined) await Promise.all(previous.subscriptions.map((subscription) => subscription.drain()))
        return this.#callbacks.onMessage({ type: "started", name: spec.name, revision: spec.revision })
      }
      case "stop": {
        const workload = this.#workloads.get(message.name)
        this.#workloads.delete(message.name)
        if (workload !== undefined) await Promise.all(workload.subscriptions.map((subscription) => subscription.drain()))
        return this.#callbacks.onMessage({ type: "stopped", name: message.name })
      }
      case "shutdown":
        await connection.drain()
        return this.#end("exit code 0")
    }
  }

  async #invoke(workload: FakeWorkload, handler: FakeHandler, request: Msg): Promise<void> {
    const { spec } = workload
    workload.invocations++
    this.#active.add(spec.name)
    const context: FakeContext = {
      name: spec.name,
      revision: spec.revision,
      node: this.#environment.NEX_NODE_NAME,
      log: (text) => this.#connection?.publish(names.logsSubject(spec.name), JSON.stringify({ time: new Date().toISOString(), name: spec.name, level: "info", message: text, revision: spec.revision }))
    }
    try {
      const result = await handler(request, context)
      request.respond(typeof result === "string" ? result : result === undefined ? undefined : encoder.encode(JSON.stringify(result)))
    } catch (error) {
      if (error instanceof FakeProcessCrash) {
        this.#sendHeartbeat()
        return this.kill()
      }
      workload.errors++
      workload.lastError = error instanceof Error ? error.message : String(error)
      const headers = createHeaders()
      headers.set("Nex-Error", workload.lastError)
      request.respond(undefined, { headers })
    } finally {
      this.#active.delete(spec.name)
    }
  }

  #end(description: string): void {
    if (!this.#alive) return
    this.#alive = false
    clearInterval(this.#heartbeat)
    this.#workloads.clear()
    this.#resolveExit()
    this.#callbacks.onExit(description)
  }

  kill(): void {
    // Like SIGKILL: the connection drops without draining, so its subscriptions vanish at once.
    void this.#connection?.close()
    this.#end("signal SIGKILL")
  }
}

/** A SandboxLauncher running FakeSandboxProcesses; `launched` lists every process started, oldest first. */
export const fakeSandboxes = (handlers: FakeHandlers) => {
  const launched: Array<FakeSandboxProcess> = []
  let nextPid = 50_000
  const layer = Layer.succeed(SandboxLauncher, {
    launch: (_index, environment, callbacks) =>
      Effect.sync(() => {
        const process = new FakeSandboxProcess(nextPid++, environment, callbacks, handlers)
        launched.push(process)
        return process
      })
  })
  return { layer, launched, live: () => launched.filter((process) => process.alive) }
}

import { jetstream, type JetStreamManager, jetstreamManager } from "@nats-io/jetstream"
import type { NatsConnection } from "@nats-io/transport-node"
import { DeploymentSpec } from "../DeploymentSpec.ts"
import { ConfigWatcher } from "./ConfigWatcher.ts"
import { HostServices } from "./HostServices.ts"
import { type JobTriggerEnvironment, startJobTrigger } from "./JobTrigger.ts"
import { LogPublisher } from "./LogPublisher.ts"
import { Permissions } from "./Permissions.ts"
import { Sandbox } from "./Sandbox.ts"
import { SparePool } from "./SparePool.ts"
import { startCoreTriggers, startSchedule, type Trigger } from "./Triggers.ts"
import { Watchdog } from "./Watchdog.ts"
import { type ActorEnvironment, WorkloadActor } from "./WorkloadActor.ts"
import type { PeriodClaim } from "./PeriodClaim.ts"
import type { NodeToWorker, WorkerToNode } from "./WorkerProtocol.ts"

export interface SandboxHostOptions {
  readonly connection: NatsConnection
  readonly node: string
  readonly send: (message: WorkerToNode) => void
  /** V8 lost control of an isolate (the thread is parked): report, then end the process. */
  readonly onCatastrophicError: (owner: string | undefined, message: string) => void
  /** Blank isolates kept ready per memory limit in use. */
  readonly spareIsolates?: number
  /** V8 aborts the whole process at ~4,065 isolates (guides/isolated-vm.md S12); starts beyond this fail instead. */
  readonly maximumWorkloads?: number
  readonly onWarning?: (message: string) => void
  /** In a cluster: claims a schedule's period, so it fires once across every replica. */
  readonly periodClaim?: PeriodClaim
}

interface Running {
  readonly actor: WorkloadActor
  readonly triggers: ReadonlyArray<Trigger>
}

/** The spare pool starts warm for the default memory limit. */
const defaultMemoryMiB = DeploymentSpec.shape.memoryMiB.parse(undefined)

/** Heartbeats name workloads that ran within this window, so a crash can be blamed on them. */
const activeWindowMs = 2000

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error))

const stopTriggers = (triggers: ReadonlyArray<Trigger>): Promise<unknown> => Promise.all(triggers.map((trigger) => trigger.stop()))

/**
 * Everything one sandbox host process runs: its workloads (an actor and triggers each), the shared
 * spare pool, watchdog, config watcher and host services, and the handling of the node's messages.
 * Messages about one workload are handled in order; different workloads start in parallel.
 */
export class SandboxHost {
  readonly #options: SandboxHostOptions
  readonly #running = new Map<string, Running>()
  readonly #queues = new Map<string, Promise<void>>()
  readonly #pool: SparePool
  readonly #watchdog = new Watchdog()
  readonly #logs: LogPublisher
  readonly #config: ConfigWatcher
  readonly #actorEnvironment: ActorEnvironment
  readonly #jobEnvironment: JobTriggerEnvironment
  #shuttingDown: Promise<void> | undefined

  private constructor(options: SandboxHostOptions, config: ConfigWatcher, manager: JetStreamManager) {
    this.#options = options
    this.#config = config
    this.#logs = new LogPublisher(options.connection, options.node)
    this.#pool = new SparePool((memoryMiB) => new Sandbox(memoryMiB, options.onCatastrophicError), options.spareIsolates ?? 2, [
      defaultMemoryMiB
    ])
    this.#jobEnvironment = { jetstream: jetstream(options.connection), manager, logs: this.#logs }
    this.#actorEnvironment = {
      node: options.node,
      pool: this.#pool,
      watchdog: this.#watchdog,
      services: new HostServices({ connection: options.connection, logs: this.#logs }),
      config,
      logs: this.#logs,
      isolateLost: (name, reason) => options.send({ type: "isolateLost", name, reason })
    }
  }

  static async start(options: SandboxHostOptions): Promise<SandboxHost> {
    const warn = options.onWarning ?? (() => undefined)
    const config = await ConfigWatcher.start(options.connection, (error) => warn(`config bucket unavailable, ctx.config() reads {}: ${reasonOf(error)}`))
    return new SandboxHost(options, config, await jetstreamManager(options.connection, { checkAPI: false }))
  }

  /** Handles one message from the node; resolves when it was acted on. */
  handle(message: NodeToWorker): Promise<void> {
    if (message.type === "shutdown") return this.shutdown()
    const name = message.type === "start" ? String((message.spec as { name?: unknown } | undefined)?.name) : message.name
    const previous = this.#queues.get(name) ?? Promise.resolve()
    const next = previous
      .then(() => (message.type === "start" ? this.#start(message.spec, message.code) : this.#stop(message.name)))
      .catch((error: unknown) => this.#options.onWarning?.(`${message.type} ${name}: ${reasonOf(error)}`))
    this.#queues.set(name, next)
    void next.then(() => {
      if (this.#queues.get(name) === next) this.#queues.delete(name)
    })
    return next
  }

  heartbeat(): WorkerToNode {
    const actors = [...this.#running.values()].map((running) => running.actor)
    return {
      type: "heartbeat",
      active: actors.filter((actor) => actor.activeWithin(activeWindowMs)).map((actor) => actor.name),
      stats: actors.map((actor) => actor.stats())
    }
  }

  /** Stops every workload (in-flight invocations finish), then drains the NATS connection. */
  shutdown(): Promise<void> {
    this.#shuttingDown ??= (async () => {
      const names = [...this.#running.keys()]
      await Promise.all(names.map((name) => this.#stop(name)))
      this.#pool.close()
      this.#watchdog.close()
      this.#config.stop()
      await this.#options.connection.drain().catch(() => undefined)
    })()
    return this.#shuttingDown
  }

  async #start(input: unknown, code: string): Promise<void> {
    const { send } = this.#options
    const parsed = DeploymentSpec.safeParse(input)
    if (!parsed.success) {
      const named = input as { name?: unknown; revision?: unknown } | undefined
      const issue = parsed.error.issues[0]
      send({
        type: "startFailed",
        name: String(named?.name),
        revision: Number(named?.revision ?? 0),
        reason: `invalid spec: ${issue?.path.join(".") ?? ""} ${issue?.message ?? ""}`.trim()
      })
      return
    }
    const spec = parsed.data
    const current = this.#running.get(spec.name)
    if (current?.actor.revision === spec.revision) {
      send({ type: "started", name: spec.name, revision: spec.revision })
      return
    }
    const failStart = (reason: string) => send({ type: "startFailed", name: spec.name, revision: spec.revision, reason })
    if (this.#shuttingDown !== undefined) return failStart("the sandbox process is shutting down")
    const maximumWorkloads = this.#options.maximumWorkloads ?? 3000
    if (current === undefined && this.#running.size >= maximumWorkloads) {
      return failStart(`this sandbox process already runs ${maximumWorkloads} workloads`)
    }
    const permissions = new Permissions(spec.allowPublish, spec.allowSubscribe)
    const problem = spec.triggers.map((subject) => permissions.triggerProblem(subject)).find((found) => found !== undefined)
    if (problem !== undefined) return failStart(problem)

    let started: WorkloadActor
    try {
      started = await WorkloadActor.start(spec, code, this.#actorEnvironment)
    } catch (error) {
      return failStart(reasonOf(error))
    }
    const triggers: Trigger[] = []
    try {
      triggers.push(startSchedule(spec, started, this.#options.periodClaim))
      triggers.push(await startJobTrigger(spec, started, this.#jobEnvironment))
      triggers.push(startCoreTriggers(this.#options.connection, spec, started))
      // The subscriptions exist on the server before the node hears "started".
      await this.#options.connection.flush()
    } catch (error) {
      await stopTriggers(triggers)
      await started.stop()
      return failStart(reasonOf(error))
    }
    this.#running.set(spec.name, { actor: started, triggers })
    send({ type: "started", name: spec.name, revision: spec.revision })
    if (current !== undefined) {
      // The new revision already takes messages; queued ones move over, in-flight ones finish.
      await stopTriggers(current.triggers)
      await current.actor.stop((item) => started.offer(item))
    }
  }

  async #stop(name: string): Promise<void> {
    const running = this.#running.get(name)
    if (running !== undefined) {
      this.#running.delete(name)
      await stopTriggers(running.triggers)
      await running.actor.stop()
    }
    this.#options.send({ type: "stopped", name })
  }
}

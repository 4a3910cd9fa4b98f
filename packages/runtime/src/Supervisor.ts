import { Cause, Duration, Effect, Queue, Schedule, type Scope } from "effect"
import type { WorkloadEvent, WorkloadEventKind, WorkloadStatus } from "./api.ts"
import type { DeploymentSpec } from "./DeploymentSpec.ts"
import { type SandboxProcess, SandboxLauncher } from "./SandboxLauncher.ts"
import type { WorkerEnvironment, WorkerToNode, WorkloadStats } from "./worker/WorkerProtocol.ts"

export interface SupervisorOptions {
  readonly nodeName: string
  /** How many sandbox host processes to keep running. */
  readonly sandboxProcesses: number
  readonly environment: WorkerEnvironment
  /** How long a sandbox process may take to report a workload started (default 15 s). */
  readonly startTimeout?: Duration.DurationInput
  /** Delays between restarts of a sandbox process that keeps dying (default `respawnBackoff`). */
  readonly respawnSchedule?: Schedule.Schedule<unknown>
  /** A process that stayed up this long starts its backoff afresh (default 30 s). */
  readonly healthyAfter?: Duration.DurationInput
  /** Deaths of its sandbox process, while it ran, after which a workload is quarantined (default 2). */
  readonly quarantineAfter?: number
  readonly publishEvent: (event: WorkloadEvent) => void
}

/** Restarts of a dying sandbox process: 200 ms, doubling, at most 10 s apart, with jitter. */
export const respawnBackoff: Schedule.Schedule<unknown> = Schedule.exponential("200 millis").pipe(
  Schedule.union(Schedule.spaced("10 seconds")),
  Schedule.jittered
)

/** A spec's job trigger in a few words, for statuses. */
export const describeJob = (spec: DeploymentSpec): string | undefined =>
  spec.job === undefined ? undefined : spec.job.filter === undefined ? spec.job.stream : `${spec.job.stream} (${spec.job.filter})`

/** A spec's schedule in a few words, for statuses. */
export const describeSchedule = (spec: DeploymentSpec): string | undefined =>
  spec.schedule === undefined ? undefined : "cron" in spec.schedule ? `cron ${spec.schedule.cron}` : `every ${Duration.format(Duration.millis(spec.schedule.everyMs))}`

/** What the supervisor knows about one workload, for `nex ls` and `nex info`. */
export interface WorkloadReport {
  /** Undefined when the stored spec was rejected before any valid revision arrived. */
  readonly spec: DeploymentSpec | undefined
  readonly status: WorkloadStatus
}

export interface Supervisor {
  /** Run this revision (start, or replace the running one without a gap). */
  readonly apply: (spec: DeploymentSpec, code: string) => Effect.Effect<void>
  /** Stop the workload everywhere. */
  readonly remove: (name: string) => Effect.Effect<void>
  /** The stored spec cannot be run (invalid, bundle missing): report it failed, keep what runs. */
  readonly reject: (name: string, revision: number | undefined, reason: string) => Effect.Effect<void>
  readonly list: Effect.Effect<ReadonlyArray<WorkloadReport>>
  readonly get: (name: string) => Effect.Effect<WorkloadReport | undefined>
  /** Sandbox processes: their pid (undefined while down) and the workloads they host. */
  readonly processes: Effect.Effect<ReadonlyArray<{ readonly index: number; readonly pid: number | undefined; readonly workloads: ReadonlyArray<string> }>>
}

type Command =
  | { readonly type: "apply"; readonly spec: DeploymentSpec; readonly code: string }
  | { readonly type: "remove"; readonly name: string }
  | { readonly type: "reject"; readonly name: string; readonly revision: number | undefined; readonly reason: string }
  | { readonly type: "message"; readonly slot: number; readonly generation: number; readonly message: WorkerToNode }
  | { readonly type: "output"; readonly slot: number; readonly line: string }
  | { readonly type: "exit"; readonly slot: number; readonly generation: number; readonly description: string }
  | { readonly type: "respawn"; readonly slot: number }
  | { readonly type: "startTimeout"; readonly slot: number; readonly name: string; readonly token: number }

interface Slot {
  readonly index: number
  /** Bumped by every launch, so messages of a dead process are told apart from its successor's. */
  generation: number
  process: SandboxProcess | undefined
  state: "launching" | "ready" | "down"
  readyAt: number
  /** Workloads that were running an invocation at the last heartbeat: the suspects if it dies. */
  active: ReadonlyArray<string>
  /** When each workload's isolate was last reported lost: the prime suspects if the process dies soon after. */
  lostIsolates: Map<string, number>
  stats: Map<string, WorkloadStats>
  /** Consecutive deaths, to grow the respawn delay; reset once the process stays healthy. */
  deaths: number
}

interface Instance {
  readonly revision: number
  phase: "starting" | "running"
  /** Identifies this start for its timeout. */
  readonly token: number
  /** Started at least once: a later `started` means its isolate was recreated. */
  startedOnce: boolean
}

interface Workload {
  spec: DeploymentSpec
  code: string
  /** By slot index; a sandbox process hosts at most one instance of a workload. */
  readonly instances: Map<number, Instance>
  failedRevision: number | undefined
  failure: string | undefined
  quarantined: string | undefined
  /** Deaths of a sandbox process this workload was blamed for, since its last deploy. */
  kills: number
  restarts: number
  lastError: string | undefined
  /** The revision whose `started` event went out. */
  announcedRevision: number | undefined
  /** It lost instances to a crash; the next complete start is a restart. */
  recovering: boolean
}

interface Rejection {
  readonly revision: number | undefined
  readonly reason: string
  readonly at: string
}

/** An isolate lost this recently is taken as the cause of its process's death. */
const recentLossMs = 5000

/** Latency across replicas: the worst replica's figure (percentiles cannot be merged exactly). */
const worstOf = (values: ReadonlyArray<number>): number => (values.length === 0 ? 0 : Math.max(...values))

/**
 * The node's supervisor: one actor (a fiber reading a queue of commands) owns the sandbox host
 * processes and the workloads placed on them. Deploys, worker messages, process exits and timers
 * all become commands, so the state is only ever touched by that fiber.
 */
export const makeSupervisor = (options: SupervisorOptions): Effect.Effect<Supervisor, never, Scope.Scope | SandboxLauncher> =>
  Effect.gen(function* () {
    const launcher = yield* SandboxLauncher
    const scope = yield* Effect.scope
    const commands = yield* Queue.unbounded<Command>()
    const startTimeout = Duration.decode(options.startTimeout ?? "15 seconds")
    const healthyAfter = Duration.toMillis(options.healthyAfter ?? "30 seconds")
    const quarantineAfter = options.quarantineAfter ?? 2
    const respawnSchedule = options.respawnSchedule ?? respawnBackoff

    const slots: Array<Slot> = Array.from({ length: Math.max(1, options.sandboxProcesses) }, (_, index) => ({
      index,
      generation: 0,
      process: undefined,
      state: "down",
      readyAt: 0,
      active: [],
      lostIsolates: new Map(),
      stats: new Map(),
      deaths: 0
    }))
    const workloads = new Map<string, Workload>()
    const rejections = new Map<string, Rejection>()
    let nextToken = 1
    let stopping = false

    const enqueue = (command: Command) => void Queue.unsafeOffer(commands, command)

    const emit = (kind: WorkloadEventKind, name: string, revision: number | undefined, reason?: string) =>
      options.publishEvent({ kind, name, revision, node: options.nodeName, time: new Date().toISOString(), reason })

    const later = (delay: Duration.DurationInput, command: Command) =>
      Effect.forkIn(Effect.sleep(delay).pipe(Effect.andThen(Queue.offer(commands, command))), scope)

    const send = (slot: Slot, message: Parameters<SandboxProcess["send"]>[0]) => {
      if (slot.state === "ready") slot.process?.send(message)
    }

    const load = (slot: Slot): number => {
      let count = 0
      for (const workload of workloads.values()) if (workload.instances.has(slot.index)) count++
      return count
    }

    const desiredReplicas = (workload: Workload): number => Math.min(workload.spec.replicas, slots.length)

    const launch = (slot: Slot) =>
      Effect.gen(function* () {
        slot.generation++
        slot.state = "launching"
        slot.active = []
        slot.lostIsolates = new Map()
        slot.stats = new Map()
        const generation = slot.generation
        const launched = yield* launcher
          .launch(slot.index, options.environment, {
            onMessage: (message) => enqueue({ type: "message", slot: slot.index, generation, message }),
            onOutput: (line) => enqueue({ type: "output", slot: slot.index, line }),
            onExit: (description) => enqueue({ type: "exit", slot: slot.index, generation, description })
          })
          .pipe(Effect.either)
        if (launched._tag === "Left") {
          yield* Effect.logError("sandbox process could not start").pipe(Effect.annotateLogs({ slot: slot.index, error: launched.left.message }))
          enqueue({ type: "exit", slot: slot.index, generation, description: launched.left.message })
          return
        }
        slot.process = launched.right
        yield* Effect.logDebug("sandbox process launched").pipe(Effect.annotateLogs({ slot: slot.index, pid: launched.right.pid }))
      })

    const startInstance = (workload: Workload, slot: Slot) =>
      Effect.gen(function* () {
        const token = nextToken++
        workload.instances.set(slot.index, { revision: workload.spec.revision, phase: "starting", token, startedOnce: false })
        send(slot, { type: "start", spec: workload.spec, code: workload.code })
        yield* later(startTimeout, { type: "startTimeout", slot: slot.index, name: workload.spec.name, token })
      })

    const stopInstance = (workload: Workload, slotIndex: number) => {
      workload.instances.delete(slotIndex)
      send(slots[slotIndex], { type: "stop", name: workload.spec.name })
    }

    const isComplete = (workload: Workload): boolean => {
      let running = 0
      for (const instance of workload.instances.values()) {
        if (instance.revision !== workload.spec.revision) continue
        if (instance.phase === "starting") return false
        running++
      }
      if (running === 0) return false
      if (running >= desiredReplicas(workload)) return true
      return !slots.some((slot) => slot.state === "ready" && !workload.instances.has(slot.index))
    }

    // Level-triggered: brings one workload's instances towards its spec from whatever state it is in.
    const reconcile = (workload: Workload) =>
      Effect.gen(function* () {
        const revision = workload.spec.revision
        if (workload.quarantined !== undefined) {
          for (const slotIndex of [...workload.instances.keys()]) stopInstance(workload, slotIndex)
          return
        }
        if (workload.failedRevision === revision) return
        let current = 0
        for (const [slotIndex, instance] of [...workload.instances]) {
          if (instance.revision !== revision) continue
          if (current < desiredReplicas(workload)) current++
          else stopInstance(workload, slotIndex)
        }
        const candidates = slots
          .filter((slot) => slot.state === "ready" && workload.instances.get(slot.index)?.revision !== revision)
          // A slot still running the old revision is used last: starting elsewhere first means no gap.
          .sort((left, right) => Number(workload.instances.has(left.index)) - Number(workload.instances.has(right.index)) || load(left) - load(right))
        for (const slot of candidates.slice(0, Math.max(0, desiredReplicas(workload) - current))) yield* startInstance(workload, slot)
        if (!isComplete(workload)) return
        for (const [slotIndex, instance] of [...workload.instances]) if (instance.revision !== revision) stopInstance(workload, slotIndex)
        if (workload.announcedRevision !== revision) {
          workload.announcedRevision = revision
          emit(workload.recovering ? "restarted" : "started", workload.spec.name, revision)
        } else if (workload.recovering) {
          emit("restarted", workload.spec.name, revision)
        }
        workload.recovering = false
      })

    const reconcileAll = Effect.suspend(() => Effect.forEach([...workloads.values()], reconcile, { discard: true }))

    const failRevision = (workload: Workload, revision: number, reason: string) =>
      Effect.gen(function* () {
        if (workload.failedRevision === revision) return
        workload.failedRevision = revision
        workload.failure = reason
        workload.lastError = reason
        for (const [slotIndex, instance] of [...workload.instances]) if (instance.revision === revision) stopInstance(workload, slotIndex)
        emit("failed", workload.spec.name, revision, reason)
        yield* Effect.logWarning("workload failed to start").pipe(Effect.annotateLogs({ workload: workload.spec.name, revision, reason }))
      })

    const onMessage = (slot: Slot, message: WorkerToNode) =>
      Effect.gen(function* () {
        switch (message.type) {
          case "ready":
            slot.state = "ready"
            slot.readyAt = Date.now()
            yield* Effect.logInfo("sandbox process ready").pipe(Effect.annotateLogs({ slot: slot.index, pid: message.pid }))
            return yield* reconcileAll
          case "started": {
            const workload = workloads.get(message.name)
            const instance = workload?.instances.get(slot.index)
            if (workload === undefined || instance === undefined || instance.revision !== message.revision) {
              // Undeployed or superseded while it started.
              if (workload === undefined) send(slot, { type: "stop", name: message.name })
              return
            }
            if (instance.startedOnce && instance.phase === "running") {
              emit("restarted", message.name, message.revision)
              return
            }
            instance.phase = "running"
            instance.startedOnce = true
            return yield* reconcile(workload)
          }
          case "startFailed": {
            const workload = workloads.get(message.name)
            const instance = workload?.instances.get(slot.index)
            if (workload === undefined || instance === undefined || instance.revision !== message.revision) return
            workload.instances.delete(slot.index)
            return yield* failRevision(workload, message.revision, message.reason)
          }
          case "isolateLost": {
            const workload = workloads.get(message.name)
            if (workload === undefined) return
            slot.lostIsolates.set(message.name, Date.now())
            workload.restarts++
            workload.lastError = message.reason
            emit("crashed", message.name, workload.instances.get(slot.index)?.revision, message.reason)
            return
          }
          case "heartbeat": {
            slot.active = message.active
            for (const stats of message.stats) {
              const previous = slot.stats.get(stats.name)
              const workload = workloads.get(stats.name)
              if (workload !== undefined && stats.lastError !== undefined && stats.lastError !== previous?.lastError) workload.lastError = stats.lastError
            }
            slot.stats = new Map(message.stats.map((stats) => [stats.name, stats]))
            return
          }
          case "stopped":
            return
        }
      })

    const onExit = (slot: Slot, description: string) =>
      Effect.gen(function* () {
        const wasHealthy = slot.state === "ready" && Date.now() - slot.readyAt >= healthyAfter
        slot.state = "down"
        slot.process = undefined
        if (stopping) return
        yield* Effect.logWarning("sandbox process died").pipe(Effect.annotateLogs({ slot: slot.index, cause: description }))
        const reason = `sandbox process ${slot.index} died (${description})`
        // A process reports the isolate it lost just before a catastrophic abort; without such a
        // report, whatever was running an invocation or starting is suspect.
        const recentlyLost = [...slot.lostIsolates].filter(([, at]) => Date.now() - at < recentLossMs).map(([name]) => name)
        const suspects = new Set(recentlyLost.length > 0 ? recentlyLost : slot.active)
        for (const workload of workloads.values()) {
          const instance = workload.instances.get(slot.index)
          if (instance === undefined) continue
          if (instance.phase === "starting" && recentlyLost.length === 0) suspects.add(workload.spec.name)
          workload.instances.delete(slot.index)
          workload.restarts++
          workload.lastError = reason
          workload.recovering = true
          emit("crashed", workload.spec.name, instance.revision, reason)
          if (!suspects.has(workload.spec.name)) continue
          workload.kills++
          if (workload.kills >= quarantineAfter && workload.quarantined === undefined) {
            workload.quarantined = `quarantined: its sandbox process died ${workload.kills} times while running it (last: ${description}); deploy a new revision to try again`
            emit("quarantined", workload.spec.name, workload.spec.revision, workload.quarantined)
            yield* Effect.logError("workload quarantined").pipe(Effect.annotateLogs({ workload: workload.spec.name, cause: description }))
          }
        }
        slot.deaths = wasHealthy ? 1 : slot.deaths + 1
        yield* scheduleRespawn(slot)
        yield* reconcileAll
      })

    // The n-th consecutive death waits the schedule's n-th delay before the process is started again.
    const scheduleRespawn = (slot: Slot) =>
      Effect.gen(function* () {
        const driver = yield* Schedule.driver(respawnSchedule)
        const waitNth = Effect.gen(function* () {
          for (let death = 0; death < slot.deaths; death++) yield* driver.next(undefined)
        })
        yield* Effect.forkIn(waitNth.pipe(Effect.ignore, Effect.andThen(Queue.offer(commands, { type: "respawn", slot: slot.index }))), scope)
      })

    const handle = (command: Command): Effect.Effect<void> =>
      Effect.gen(function* () {
        switch (command.type) {
          case "apply": {
            rejections.delete(command.spec.name)
            const existing = workloads.get(command.spec.name)
            if (existing !== undefined && existing.spec.revision === command.spec.revision && existing.failedRevision !== command.spec.revision) {
              if (existing.spec.replicas === command.spec.replicas) return
              // The same revision with another replica count (a cluster moved instances to or from this node).
              existing.spec = command.spec
              return yield* reconcile(existing)
            }
            const workload: Workload = existing ?? {
              spec: command.spec,
              code: command.code,
              instances: new Map(),
              failedRevision: undefined,
              failure: undefined,
              quarantined: undefined,
              kills: 0,
              restarts: 0,
              lastError: undefined,
              announcedRevision: undefined,
              recovering: false
            }
            workload.spec = command.spec
            workload.code = command.code
            workload.failedRevision = undefined
            workload.failure = undefined
            workload.quarantined = undefined
            workload.kills = 0
            workloads.set(command.spec.name, workload)
            emit("deployed", command.spec.name, command.spec.revision)
            return yield* reconcile(workload)
          }
          case "remove": {
            const workload = workloads.get(command.name)
            const rejected = rejections.get(command.name)
            rejections.delete(command.name)
            if (workload === undefined) {
              if (rejected !== undefined) emit("undeployed", command.name, rejected.revision)
              return
            }
            for (const slotIndex of [...workload.instances.keys()]) stopInstance(workload, slotIndex)
            workloads.delete(command.name)
            emit("undeployed", command.name, workload.spec.revision)
            return
          }
          case "reject": {
            rejections.set(command.name, { revision: command.revision, reason: command.reason, at: new Date().toISOString() })
            emit("failed", command.name, command.revision, command.reason)
            return yield* Effect.logWarning("deployment rejected").pipe(Effect.annotateLogs({ workload: command.name, reason: command.reason }))
          }
          case "message": {
            const slot = slots[command.slot]
            if (command.generation !== slot.generation || slot.state === "down") return
            return yield* onMessage(slot, command.message)
          }
          case "output":
            return yield* Effect.logInfo(command.line).pipe(Effect.annotateLogs({ sandbox: command.slot }))
          case "exit": {
            const slot = slots[command.slot]
            if (command.generation !== slot.generation || slot.state === "down") return
            return yield* onExit(slot, command.description)
          }
          case "respawn": {
            const slot = slots[command.slot]
            if (stopping || slot.state !== "down") return
            return yield* launch(slot)
          }
          case "startTimeout": {
            const workload = workloads.get(command.name)
            const instance = workload?.instances.get(command.slot)
            if (workload === undefined || instance === undefined || instance.token !== command.token || instance.phase !== "starting") return
            workload.instances.delete(command.slot)
            send(slots[command.slot], { type: "stop", name: command.name })
            return yield* failRevision(workload, instance.revision, `sandbox process ${command.slot} did not report it started within ${Duration.format(startTimeout)}`)
          }
        }
      })

    const reportOf = (workload: Workload): WorkloadReport => {
      const revision = workload.spec.revision
      const rejection = rejections.get(workload.spec.name)
      let running = 0
      let servingRevision: number | undefined
      const stats: Array<WorkloadStats> = []
      for (const [slotIndex, instance] of workload.instances) {
        if (instance.revision === revision && instance.phase === "running") running++
        if (instance.revision !== revision && instance.phase === "running") servingRevision = instance.revision
        const slotStats = slots[slotIndex].stats.get(workload.spec.name)
        if (slotStats !== undefined) stats.push(slotStats)
      }
      const failure = rejection?.reason ?? workload.quarantined ?? (workload.failedRevision === revision ? workload.failure : undefined)
      const complete = workload.announcedRevision === revision && running > 0
      const state = failure !== undefined ? "failed" : complete ? "running" : "pending"
      const waiting = slots.some((slot) => slot.state === "ready") ? "starting" : "waiting for a sandbox process"
      const spec = workload.spec
      return {
        spec,
        status: {
          name: spec.name,
          revision: rejection?.revision ?? revision,
          state,
          reason: failure ?? (state === "pending" ? (workload.recovering ? `restarting after a crash: ${waiting}` : waiting) : undefined),
          servingRevision: state === "running" ? undefined : (servingRevision ?? (rejection !== undefined && running > 0 ? revision : undefined)),
          node: options.nodeName,
          replicas: { desired: spec.replicas, running },
          triggers: [...spec.triggers],
          job: describeJob(spec),
          schedule: describeSchedule(spec),
          restarts: workload.restarts,
          lastError: workload.lastError,
          invocations: stats.reduce((total, entry) => total + entry.invocations, 0),
          errors: stats.reduce((total, entry) => total + entry.errors, 0),
          p50Ms: worstOf(stats.map((entry) => entry.p50Ms)),
          p99Ms: worstOf(stats.map((entry) => entry.p99Ms)),
          cpuTimeMs: stats.reduce((total, entry) => total + entry.cpuTimeNs, 0) / 1e6,
          heapBytes: stats.reduce((total, entry) => total + entry.heapBytes, 0),
          deployedAt: spec.deployedAt
        }
      }
    }

    const rejectionReport = (name: string, rejection: Rejection): WorkloadReport => ({
      spec: undefined,
      status: {
        name,
        revision: rejection.revision ?? 0,
        state: "failed",
        reason: rejection.reason,
        node: options.nodeName,
        replicas: { desired: 0, running: 0 },
        triggers: [],
        restarts: 0,
        lastError: rejection.reason,
        invocations: 0,
        errors: 0,
        p50Ms: 0,
        p99Ms: 0,
        cpuTimeMs: 0,
        heapBytes: 0,
        deployedAt: rejection.at
      }
    })

    const reportByName = (name: string): WorkloadReport | undefined => {
      const workload = workloads.get(name)
      if (workload !== undefined) return reportOf(workload)
      const rejection = rejections.get(name)
      return rejection === undefined ? undefined : rejectionReport(name, rejection)
    }

    yield* Effect.forkIn(
      Effect.forever(
        Queue.take(commands).pipe(
          Effect.flatMap((command) => handle(command).pipe(Effect.catchAllCause((cause) => Effect.logError("supervisor command failed", Cause.pretty(cause)))))
        )
      ),
      scope
    )

    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        stopping = true
        const running = slots.flatMap((slot) => (slot.process === undefined ? [] : [slot.process]))
        for (const process of running) process.send({ type: "shutdown" })
        const allExited = Effect.promise(() => Promise.all(running.map((process) => process.exited)))
        yield* allExited.pipe(
          Effect.timeout("5 seconds"),
          Effect.catchAll(() => Effect.sync(() => running.forEach((process) => process.kill())).pipe(Effect.andThen(allExited)))
        )
      })
    )

    for (const slot of slots) yield* Queue.offer(commands, { type: "respawn", slot: slot.index })

    const ask = <A>(read: () => A): Effect.Effect<A> => Effect.sync(read)
    return {
      apply: (spec, code) => Queue.offer(commands, { type: "apply", spec, code }).pipe(Effect.asVoid),
      remove: (name) => Queue.offer(commands, { type: "remove", name }).pipe(Effect.asVoid),
      reject: (name, revision, reason) => Queue.offer(commands, { type: "reject", name, revision, reason }).pipe(Effect.asVoid),
      list: ask(() => {
        const names = new Set([...workloads.keys(), ...rejections.keys()])
        return [...names].sort().map((name) => reportByName(name)!)
      }),
      get: (name) => ask(() => reportByName(name)),
      processes: ask(() =>
        slots.map((slot) => ({
          index: slot.index,
          pid: slot.state === "down" ? undefined : slot.process?.pid,
          workloads: [...workloads.values()].filter((workload) => workload.instances.has(slot.index)).map((workload) => workload.spec.name)
        }))
      )
    } satisfies Supervisor
  })

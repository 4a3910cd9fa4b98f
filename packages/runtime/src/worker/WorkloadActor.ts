import type { DeploymentSpec } from "../DeploymentSpec.ts"
import type { ConfigWatcher } from "./ConfigWatcher.ts"
import { type Failure, failure, failureText, timeoutFailure } from "./Failure.ts"
import type { HostServices, WorkloadScope } from "./HostServices.ts"
import { Invocation } from "./Invocation.ts"
import { LatencyWindow } from "./LatencyWindow.ts"
import type { LogPublisher } from "./LogPublisher.ts"
import { Mailbox, type MailboxItem } from "./Mailbox.ts"
import { bytesOf } from "./MessageParts.ts"
import { Permissions } from "./Permissions.ts"
import { type GuestCall, type GuestOutcome, type HeaderPairs, type InvocationKind, invocationKind, type Sandbox } from "./Sandbox.ts"
import type { SparePool } from "./SparePool.ts"
import type { Deadline, Watchdog } from "./Watchdog.ts"
import type { WorkloadStats } from "./WorkerProtocol.ts"

export type Outcome = { readonly ok: true; readonly body: Uint8Array } | { readonly ok: false; readonly failure: Failure }

/** One message for the workload, with what to do with its outcome (reply, ack, nak …). */
export interface ActorItem extends MailboxItem {
  readonly kind: InvocationKind
  readonly subject: string
  readonly reply: string | undefined
  readonly data: Uint8Array
  readonly headers: HeaderPairs | undefined
  /** Called when the invocation starts (a job message extends its ack deadline). */
  readonly started?: () => void
  /** Called exactly once, also when the item never ran (stop). */
  readonly complete: (outcome: Outcome) => void
}

export interface ActorEnvironment {
  readonly node: string
  readonly pool: SparePool
  readonly watchdog: Watchdog
  readonly services: HostServices
  readonly config: ConfigWatcher
  readonly logs: LogPublisher
  /** The isolate of a workload was lost; the actor is already recreating it. */
  readonly isolateLost: (name: string, reason: string) => void
}

const maximumRestartDelayMs = 5000
const empty = new Uint8Array(0)

/**
 * A running workload: a bounded mailbox, at most `spec.concurrency` invocations in flight (1 keeps
 * arrival order), one warm sandbox reused across invocations and recreated (with backoff when it
 * keeps dying) when it is lost to a time or memory limit, and the figures for heartbeats.
 */
export class WorkloadActor implements WorkloadScope {
  readonly spec: DeploymentSpec
  readonly name: string
  readonly revision: number
  readonly permissions: Permissions
  readonly #code: string
  readonly #environment: ActorEnvironment
  readonly #mailbox: Mailbox<ActorItem>
  readonly #invocations = new Map<number, Invocation>()
  readonly #latency = new LatencyWindow()
  #sandbox: Sandbox | undefined
  /** The config text the current sandbox has. */
  #sandboxConfig = ""
  #configText = "{}"
  #configPending = false
  #unsubscribeConfig: () => void = () => undefined
  #nextInvocation = 1
  #inFlight = 0
  #consecutiveLosses = 0
  #stopping = false
  #stopped: Promise<void> | undefined
  #whenIdle: (() => void) | undefined
  #invocationCount = 0
  #errorCount = 0
  #lastError: string | undefined
  #lostCpuTimeNs = 0
  #lastActive = 0
  #ranSinceStats = false
  #pumpScheduled = false

  private constructor(spec: DeploymentSpec, code: string, environment: ActorEnvironment) {
    this.spec = spec
    this.name = spec.name
    this.revision = spec.revision
    this.permissions = new Permissions(spec.allowPublish, spec.allowSubscribe)
    this.#code = code
    this.#environment = environment
    this.#mailbox = new Mailbox(spec.mailbox)
  }

  /** Loads the workload into a sandbox; rejects with a LoadError when the module cannot run. */
  static async start(spec: DeploymentSpec, code: string, environment: ActorEnvironment): Promise<WorkloadActor> {
    const actor = new WorkloadActor(spec, code, environment)
    const configKey = spec.configKey ?? spec.name
    actor.#unsubscribeConfig = environment.config.subscribe(configKey, (text) => actor.#configChanged(text))
    try {
      actor.#configText = await environment.config.current(configKey)
      actor.#sandbox = await actor.#loadSandbox()
    } catch (error) {
      actor.#unsubscribeConfig()
      throw error
    }
    return actor
  }

  invocation(id: number): Invocation | undefined {
    return this.#invocations.get(id)
  }

  /** Queues an item; false when the mailbox is full or the workload is stopping. */
  offer(item: ActorItem): boolean {
    if (this.#stopping || !this.#mailbox.offer(item)) return false
    this.#schedulePump()
    return true
  }

  /** True if an invocation ran within the last `milliseconds` (heartbeats name these to blame a crash). */
  activeWithin(milliseconds: number): boolean {
    return this.#inFlight > 0 || performance.now() - this.#lastActive < milliseconds
  }

  stats(): WorkloadStats {
    const { p50, p99 } = this.#latency.percentiles()
    if (this.#ranSinceStats) this.#sandbox?.refreshHeapBytes()
    this.#ranSinceStats = false
    return {
      name: this.name,
      revision: this.revision,
      invocations: this.#invocationCount,
      errors: this.#errorCount,
      p50Ms: p50,
      p99Ms: p99,
      cpuTimeNs: this.#lostCpuTimeNs + (this.#sandbox?.cpuTimeNs ?? 0),
      heapBytes: this.#sandbox?.heapBytes ?? 0,
      lastError: this.#lastError
    }
  }

  /**
   * Stops taking items, lets in-flight invocations finish (the watchdog bounds them) and disposes
   * the sandbox. Queued items go to `handOver` (a replacing revision) or fail as "unavailable".
   */
  stop(handOver?: (item: ActorItem) => boolean): Promise<void> {
    if (this.#stopped !== undefined) return this.#stopped
    this.#stopping = true
    this.#unsubscribeConfig()
    for (const item of this.#mailbox.drain()) {
      if (item.kind === invocationKind.config) continue
      if (handOver?.(item) !== true) item.complete({ ok: false, failure: failure("unavailable", "the workload is stopping") })
    }
    const idle = this.#inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.#whenIdle = resolve))
    this.#stopped = idle.then(() => {
      this.#sandbox?.dispose()
      this.#sandbox = undefined
    })
    return this.#stopped
  }

  async #loadSandbox(): Promise<Sandbox> {
    const sandbox = this.#environment.pool.take(this.spec.memoryMiB)
    // Host calls made while the module evaluates (top-level await) are charged to invocation 0.
    const startup = new Invocation(0, performance.now() + this.spec.timeoutMs, undefined)
    this.#invocations.set(0, startup)
    try {
      await sandbox.load({
        name: this.name,
        node: this.#environment.node,
        code: this.#code,
        hostCall: this.#environment.services.hostCallFor(this),
        timeoutMs: this.spec.timeoutMs
      })
      const configText = this.#configText
      await sandbox.setConfig(configText, this.spec.timeoutMs)
      this.#sandboxConfig = configText
      return sandbox
    } catch (error) {
      sandbox.dispose()
      throw error
    } finally {
      startup.end()
      this.#invocations.delete(0)
    }
  }

  /** Items that arrive together (one socket read, or finishing together) start with one isolate call. */
  #schedulePump(): void {
    if (this.#pumpScheduled) return
    this.#pumpScheduled = true
    queueMicrotask(this.#pump)
  }

  readonly #pump = (): void => {
    this.#pumpScheduled = false
    const sandbox = this.#sandbox
    if (sandbox === undefined) return
    const calls: GuestCall[] = []
    const settles: Array<(result: GuestOutcome) => void> = []
    while (this.#inFlight < this.spec.concurrency) {
      const item = this.#mailbox.take()
      if (item === undefined) break
      const id = this.#nextInvocation++
      calls.push([id, item.kind, item.subject, item.reply ?? "", item.data, item.headers])
      settles.push(this.#start(sandbox, item, id))
    }
    if (calls.length === 1) sandbox.invoke(...calls[0]).then(settles[0])
    else if (calls.length > 1) sandbox.invokeAll(calls, (index, outcome) => settles[index](outcome))
  }

  /** Records an invocation about to run and returns what settles it with the guest's outcome. */
  #start(sandbox: Sandbox, item: ActorItem, id: number): (result: GuestOutcome) => void {
    const startedAt = performance.now()
    const invocation = new Invocation(id, startedAt + this.spec.timeoutMs, item.reply)
    this.#invocations.set(id, invocation)
    this.#inFlight++
    item.started?.()
    let finished = false
    const finish = (outcome: Outcome): void => {
      if (finished) return
      finished = true
      this.#environment.watchdog.unwatch(deadline)
      invocation.end()
      this.#invocations.delete(id)
      this.#inFlight--
      this.#mailbox.release(item)
      this.#record(item, outcome, performance.now() - startedAt)
      item.complete(outcome)
      if (this.#inFlight === 0 && this.#whenIdle !== undefined) this.#whenIdle()
      else this.#schedulePump()
    }
    // Past its deadline the invocation may be spinning (before or after an await): only disposal stops that.
    const deadline: Deadline = {
      at: invocation.deadline,
      expire: () => {
        finish({ ok: false, failure: timeoutFailure(this.spec.timeoutMs) })
        this.#lose(sandbox, `timeout: an invocation exceeded ${this.spec.timeoutMs} ms`)
      }
    }
    this.#environment.watchdog.watch(deadline)
    return (result) => {
      if (result.ok) return finish({ ok: true, body: bytesOf(result.body) })
      finish(result)
      // A guest that caught its own allocation failure still holds a full heap: recycle it too.
      if (sandbox.isDisposed || result.failure.code === "memory_limit") this.#lose(sandbox, failureText(result.failure))
    }
  }

  #record(item: ActorItem, outcome: Outcome, milliseconds: number): void {
    this.#invocationCount++
    this.#lastActive = performance.now()
    this.#ranSinceStats = true
    this.#latency.record(milliseconds)
    if (outcome.ok) {
      this.#consecutiveLosses = 0
      return
    }
    const code = outcome.failure.code
    if (code !== "timeout" && code !== "memory_limit" && code !== "isolate_lost") this.#consecutiveLosses = 0
    this.#errorCount++
    this.#lastError = failureText(outcome.failure)
    const what = item.kind === invocationKind.config ? "onConfig" : `message on '${item.subject}'`
    this.#environment.logs.log(this.name, this.revision, "error", `${what} failed: ${this.#lastError}`)
  }

  /** Disposes a sandbox that hit a limit (once) and starts its replacement. */
  #lose(sandbox: Sandbox, reason: string): void {
    if (this.#sandbox !== sandbox) return
    this.#sandbox = undefined
    sandbox.dispose()
    this.#lostCpuTimeNs += sandbox.cpuTimeNs
    this.#environment.logs.log(this.name, this.revision, "error", `isolate lost, recreating it: ${reason}`)
    this.#environment.isolateLost(this.name, reason)
    if (!this.#stopping) this.#restart()
  }

  #restart(): void {
    this.#consecutiveLosses++
    const delay = this.#consecutiveLosses <= 1 ? 0 : Math.min(maximumRestartDelayMs, 100 * 2 ** (this.#consecutiveLosses - 2))
    setTimeout(() => {
      if (this.#stopping) return
      this.#loadSandbox().then(
        (sandbox) => {
          if (this.#stopping) return sandbox.dispose()
          this.#sandbox = sandbox
          if (this.#sandboxConfig !== this.#configText) this.#configChanged(this.#configText)
          this.#schedulePump()
        },
        (error: unknown) => {
          this.#environment.logs.log(this.name, this.revision, "error", `could not restart: ${error instanceof Error ? error.message : String(error)}`)
          this.#restart()
        }
      )
    }, delay)
  }

  /** New config reaches the guest at once; onConfig callbacks then run as a (coalesced) invocation. */
  #configChanged(text: string): void {
    this.#configText = text
    const sandbox = this.#sandbox
    if (sandbox === undefined) return
    this.#sandboxConfig = text
    sandbox.setConfig(text, this.spec.timeoutMs).then(
      (callbacks) => {
        if (callbacks === 0 || this.#configPending || this.#stopping) return
        this.#configPending = true
        this.#mailbox.offer(
          {
            kind: invocationKind.config,
            subject: "",
            reply: undefined,
            data: empty,
            headers: undefined,
            started: () => (this.#configPending = false),
            complete: () => undefined
          },
          true
        )
        this.#schedulePump()
      },
      () => undefined
    )
  }
}

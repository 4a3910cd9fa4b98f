import ivm from "isolated-vm"
import { classifyGuestError, classifyIsolateError, failure, type Failure } from "./Failure.ts"
import { preludeSource } from "./Prelude.ts"

/** The one host function a guest can reach; it must resolve to an envelope and never reject. */
export type HostCall = (operation: unknown, invocation: unknown, ...rest: unknown[]) => Promise<unknown>

/** Header pairs in arrival order (repeated names allowed): never an object the guest could key with `__proto__`. */
export type HeaderPairs = ReadonlyArray<readonly [string, string]>

export type GuestOutcome =
  | { readonly ok: true; readonly body: string | Uint8Array | undefined }
  | { readonly ok: false; readonly failure: Failure }

/** One invocation of a batch: the arguments `dispatch` takes, in its order. */
export type GuestCall = readonly [
  invocation: number,
  kind: InvocationKind,
  subject: string,
  reply: string,
  data: Uint8Array,
  headers: HeaderPairs | undefined
]

/** Receives the outcome of the batch's call at `index`, exactly once per call. */
export type SettleOutcome = (index: number, outcome: GuestOutcome) => void

/** What `dispatch` runs in the guest: a message for the handler, or the onConfig callbacks. */
export const invocationKind = { message: 0, config: 1 } as const
export type InvocationKind = (typeof invocationKind)[keyof typeof invocationKind]

export interface LoadOptions {
  readonly name: string
  readonly node: string
  /** The workload's bundled ES module. */
  readonly code: string
  readonly hostCall: HostCall
  /** Budget for evaluating the module's top level. */
  readonly timeoutMs: number
}

/** A workload module that cannot run: the message names file:line:column when V8 gives one. */
export class LoadError extends Error {
  override readonly name = "LoadError"
}

type CatastrophicHandler = (owner: string | undefined, message: string) => void

/**
 * V8's code cache for the prelude, produced by the first sandbox of the process: later ones skip
 * parsing and compiling it (~0.3 ms each). Only ever produced here from our own source, never
 * taken from outside (CVE-2022-39266).
 */
let preludeCodeCache: ivm.ExternalCopy<ArrayBuffer> | undefined

const guestResultOptions = { arguments: { copy: true }, result: { promise: true, copy: true } } as const

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/** "TypeError: boom (echo.js:3:9)": the first line of a guest stack plus where it was thrown. */
const describeLoadError = (error: unknown, filename: string): string => {
  if (!(error instanceof Error)) return String(error)
  const headline = error.message.startsWith(error.name) ? error.message : `${error.name}: ${error.message}`
  const frame = error.stack?.split("\n").find((line) => line.includes(filename))
  const location = frame?.match(/\(?([^\s()]+:\d+:\d+)\)?\s*$/)?.[1]
  return location === undefined || headline.includes(location) ? headline : `${headline} (${location})`
}

const entrySource = 'import * as workload from "nex:workload";\nglobalThis.__nexBind(workload);\n'

/** What `dispatchAll` reports for a call that had not finished when the batch returned. */
const stillRunning = 4

const isolateFailure = (error: unknown): GuestOutcome => ({ ok: false, failure: classifyIsolateError(messageOf(error)) })

const outcomeOf = (result: unknown): GuestOutcome => {
  if (Array.isArray(result)) {
    const [code, value] = result as [unknown, unknown]
    if (code === 0) return { ok: true, body: undefined }
    if (code === 1 && typeof value === "string") return { ok: true, body: value }
    if (code === 2 && value instanceof Uint8Array) return { ok: true, body: value }
    if (code === 3 && typeof value === "string") return { ok: false, failure: classifyGuestError(value) }
  }
  return { ok: false, failure: failure("internal_error", "the guest dispatcher returned an unexpected value") }
}

/**
 * One isolate with one context running the prelude; `load` binds it to a workload (host-call
 * Reference, module, handler). The host keeps References to guest functions; the guest gets only
 * the host-call Reference, hidden in the prelude's closure.
 */
export class Sandbox {
  readonly memoryMiB: number
  readonly #isolate: ivm.Isolate
  readonly #context: ivm.Context
  #dispatch: ivm.Reference | undefined
  #dispatchAll: ivm.Reference | undefined
  #outcomeOf: ivm.Reference | undefined
  #setConfig: ivm.Reference | undefined
  #owner: string | undefined
  #cpuTimeNs = 0
  #heapBytes = 0

  /** A blank sandbox (isolate, context, prelude): what the spare pool keeps ready. Synchronous, ~1 ms. */
  constructor(memoryMiB: number, onCatastrophicError: CatastrophicHandler) {
    this.memoryMiB = memoryMiB
    this.#isolate = new ivm.Isolate({
      memoryLimit: memoryMiB,
      onCatastrophicError: (message) => onCatastrophicError(this.#owner, message)
    })
    this.#context = this.#isolate.createContextSync()
    const prelude = this.#isolate.compileScriptSync(preludeSource, {
      filename: "nex-prelude.js",
      ...(preludeCodeCache === undefined ? { produceCachedData: true } : { cachedData: preludeCodeCache })
    })
    // compileScriptSync sets cachedData on the script when produceCachedData is asked for; its typings omit it.
    preludeCodeCache ??= (prelude as ivm.Script & ivm.CachedDataResult).cachedData
    prelude.runSync(this.#context)
    prelude.release()
  }

  get owner(): string | undefined {
    return this.#owner
  }

  get isDisposed(): boolean {
    return this.#isolate.isDisposed
  }

  /**
   * Installs the host bridge, then compiles, links and evaluates the workload module, including
   * any top-level await. The whole load must finish within `timeoutMs`, or the isolate is disposed.
   */
  async load(options: LoadOptions): Promise<void> {
    this.#owner = options.name
    let timedOut = false
    const deadline = setTimeout(() => {
      timedOut = true
      this.dispose()
    }, options.timeoutMs)
    try {
      await this.#load(options)
    } catch (error) {
      if (timedOut) throw new LoadError(`the module did not finish evaluating within ${options.timeoutMs} ms`)
      if (error instanceof LoadError) throw error
      throw new LoadError(describeLoadError(error, `${options.name}.js`))
    } finally {
      clearTimeout(deadline)
    }
  }

  // Steps that run no workload code use the synchronous APIs (each async hop through ivm's thread
  // pool costs ~0.1-0.2 ms); evaluating the module runs workload code, so it stays asynchronous.
  async #load(options: LoadOptions): Promise<void> {
    const filename = `${options.name}.js`
    const install = this.#context.global.getSync("__nexInstall", { reference: true }) as ivm.Reference
    const exported = install.applySync(undefined, [new ivm.Reference(options.hostCall), options.name, options.node], {
      result: { reference: true },
      timeout: options.timeoutMs
    }) as ivm.Reference
    install.release()
    this.#dispatch = exported.getSync(0, { reference: true }) as ivm.Reference
    this.#setConfig = exported.getSync(1, { reference: true }) as ivm.Reference
    const bindingState = exported.getSync(2, { reference: true }) as ivm.Reference
    const whenBound = exported.getSync(3, { reference: true }) as ivm.Reference
    this.#dispatchAll = exported.getSync(4, { reference: true }) as ivm.Reference
    this.#outcomeOf = exported.getSync(5, { reference: true }) as ivm.Reference
    exported.release()

    const workload = this.#isolate.compileModuleSync(options.code, { filename })
    const entry = this.#isolate.compileModuleSync(entrySource, { filename: "nex-entry.js" })
    try {
      workload.instantiateSync(this.#context, (specifier) => {
        throw new Error(`cannot import '${specifier}': a workload must be bundled into one module`)
      })
      entry.instantiateSync(this.#context, (specifier) => {
        if (specifier === "nex:workload") return workload
        throw new Error(`cannot import '${specifier}'`)
      })
      // Resolves early when the module uses top-level await; whenBound waits for the rest.
      await entry.evaluate({ timeout: options.timeoutMs })
    } finally {
      entry.release()
      workload.release()
    }
    // bindingState reads two prelude variables (no workload code), so it can run synchronously.
    let state = bindingState.applySync(undefined, [], { result: { copy: true } })
    if (state === "pending") state = await whenBound.apply(undefined, [], { result: { promise: true, copy: true }, timeout: options.timeoutMs })
    bindingState.release()
    whenBound.release()
    if (state !== "ready") throw new LoadError(String(state))
  }

  /**
   * Runs one invocation; never rejects. It carries no isolated-vm `timeout`: arming one costs ~65 µs
   * per call (measured: 89 vs 25 µs p50 per warm call), so the caller's watchdog enforces the
   * deadline by disposing the isolate.
   */
  invoke(
    invocation: number,
    kind: InvocationKind,
    subject: string,
    reply: string,
    data: Uint8Array,
    headers: HeaderPairs | undefined
  ): Promise<GuestOutcome> {
    const dispatch = this.#dispatch
    if (dispatch === undefined || this.#isolate.isDisposed) {
      return Promise.resolve({ ok: false, failure: failure("isolate_lost", "the sandbox is not loaded") })
    }
    return dispatch.apply(undefined, [invocation, kind, subject, reply, data, headers], guestResultOptions).then(outcomeOf, this.#failureOf)
  }

  /**
   * Runs several invocations with one isolate call (each hop costs tens of µs): calls that finish
   * while the batch settles come back together; each one still running is then awaited on its own,
   * so a slow call never holds back the others' outcomes. Never throws; no timeout, as `invoke`.
   */
  invokeAll(calls: ReadonlyArray<GuestCall>, settle: SettleOutcome): void {
    const dispatchAll = this.#dispatchAll
    const awaitOutcome = this.#outcomeOf
    if (dispatchAll === undefined || awaitOutcome === undefined || this.#isolate.isDisposed) {
      for (let index = 0; index < calls.length; index++) settle(index, { ok: false, failure: failure("isolate_lost", "the sandbox is not loaded") })
      return
    }
    dispatchAll.apply(undefined, [calls], guestResultOptions).then(
      (results: unknown) => {
        const list = Array.isArray(results) ? results : []
        for (let index = 0; index < calls.length; index++) {
          const result: unknown = list[index]
          if (!(Array.isArray(result) && result[0] === stillRunning)) {
            settle(index, outcomeOf(result))
            continue
          }
          awaitOutcome.apply(undefined, [calls[index][0]], guestResultOptions).then(
            (late) => settle(index, outcomeOf(late)),
            (error: unknown) => settle(index, this.#failureOf(error))
          )
        }
      },
      (error: unknown) => {
        const lost = this.#failureOf(error)
        for (let index = 0; index < calls.length; index++) settle(index, lost)
      }
    )
  }

  /**
   * Why a call into the isolate was rejected. A rejection that names no known cause (a call
   * waiting on a guest promise can get a bare null) once the isolate is disposed means it was lost.
   */
  readonly #failureOf = (error: unknown): GuestOutcome => {
    const outcome = isolateFailure(error)
    if (outcome.ok || outcome.failure.code !== "internal_error" || !this.#isolate.isDisposed) return outcome
    return { ok: false, failure: failure("isolate_lost", error == null ? "the isolate was disposed" : messageOf(error)) }
  }

  /** Hands the workload its new config (JSON text); resolves to the number of onConfig callbacks. */
  async setConfig(text: string, timeoutMs: number): Promise<number> {
    if (this.#setConfig === undefined || this.#isolate.isDisposed) return 0
    const callbacks = await this.#setConfig.apply(undefined, [text], { arguments: { copy: true }, result: { copy: true }, timeout: timeoutMs })
    return typeof callbacks === "number" ? callbacks : 0
  }

  /** CPU time this isolate used, kept after disposal. */
  get cpuTimeNs(): number {
    if (!this.#isolate.isDisposed) this.#cpuTimeNs = Number(this.#isolate.cpuTime)
    return this.#cpuTimeNs
  }

  /** Heap plus external memory at the last `refreshHeapBytes`. */
  get heapBytes(): number {
    return this.#heapBytes
  }

  /** Asynchronous so a busy isolate never blocks the event loop. */
  refreshHeapBytes(): void {
    if (this.#isolate.isDisposed) return
    this.#isolate.getHeapStatistics().then(
      (statistics) => (this.#heapBytes = statistics.used_heap_size + statistics.externally_allocated_size),
      () => undefined
    )
  }

  /** Stops any running code at once; pending invocations fail with "isolate_lost". */
  dispose(): void {
    if (this.#isolate.isDisposed) return
    this.#cpuTimeNs = Number(this.#isolate.cpuTime)
    this.#isolate.dispose()
  }
}

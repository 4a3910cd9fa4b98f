import { Sandbox } from "./Sandbox.ts"

/**
 * Blank sandboxes (isolate + context + prelude) made ahead of time per memory limit, so a start
 * or a restart after a lost isolate skips the ~1 ms of isolate construction. Construction runs on
 * the main thread, so the pool refills one sandbox per event-loop turn.
 */
export class SparePool {
  readonly #spares = new Map<number, Sandbox[]>()
  readonly #create: (memoryMiB: number) => Sandbox
  readonly #targetSize: number
  #refillScheduled = false
  #closed = false

  constructor(create: (memoryMiB: number) => Sandbox, targetSize: number, warmMemoryMiB: ReadonlyArray<number> = []) {
    this.#create = create
    this.#targetSize = targetSize
    for (const memoryMiB of warmMemoryMiB) this.#spares.set(memoryMiB, [])
    this.#scheduleRefill()
  }

  /** A blank sandbox with this memory limit: a spare when one is ready, else a new one. */
  take(memoryMiB: number): Sandbox {
    let spares = this.#spares.get(memoryMiB)
    if (spares === undefined) {
      spares = []
      this.#spares.set(memoryMiB, spares)
    }
    const spare = spares.pop()
    this.#scheduleRefill()
    return spare ?? this.#create(memoryMiB)
  }

  /** Spares ready now, over all memory limits. */
  get size(): number {
    let size = 0
    for (const spares of this.#spares.values()) size += spares.length
    return size
  }

  close(): void {
    this.#closed = true
    for (const spares of this.#spares.values()) for (const spare of spares.splice(0)) spare.dispose()
  }

  #scheduleRefill(): void {
    if (this.#refillScheduled || this.#closed || this.#targetSize === 0) return
    this.#refillScheduled = true
    setImmediate(this.#refillOne)
  }

  readonly #refillOne = (): void => {
    this.#refillScheduled = false
    if (this.#closed) return
    for (const [memoryMiB, spares] of this.#spares) {
      if (spares.length >= this.#targetSize) continue
      try {
        spares.push(this.#create(memoryMiB))
      } catch {
        // Out of isolates or memory: take() will report the error when a sandbox is really needed.
        return
      }
      this.#scheduleRefill()
      return
    }
  }
}

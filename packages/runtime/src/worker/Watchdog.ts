/** A wall-clock deadline; `expire` runs once when it passes unless the deadline was unwatched first. */
export interface Deadline {
  /** `performance.now()` milliseconds. */
  readonly at: number
  readonly expire: () => void
}

/**
 * The process-wide CPU watchdog: isolated-vm's `timeout` does not cover code that runs after a guest
 * awaited something, so every in-flight invocation also has a deadline here, checked every
 * `intervalMs`. The timer only runs while something is watched.
 */
export class Watchdog {
  readonly #deadlines = new Set<Deadline>()
  readonly #intervalMs: number
  #timer: NodeJS.Timeout | undefined

  constructor(intervalMs = 10) {
    this.#intervalMs = intervalMs
  }

  watch(deadline: Deadline): void {
    this.#deadlines.add(deadline)
    if (this.#timer === undefined) {
      this.#timer = setInterval(this.#tick, this.#intervalMs)
      this.#timer.unref()
    }
  }

  unwatch(deadline: Deadline): void {
    this.#deadlines.delete(deadline)
  }

  get size(): number {
    return this.#deadlines.size
  }

  close(): void {
    this.#deadlines.clear()
    this.#stop()
  }

  readonly #tick = (): void => {
    if (this.#deadlines.size === 0) return this.#stop()
    const now = performance.now()
    for (const deadline of this.#deadlines) {
      if (now < deadline.at) continue
      this.#deadlines.delete(deadline)
      deadline.expire()
    }
  }

  #stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }
}

/**
 * Host-side record of one running invocation: what its host calls are charged to. Host calls
 * naming an ended invocation are refused, so guest code cannot keep working for free after its
 * reply (or its deadline); timers it set are cancelled when it ends.
 */
export class Invocation {
  readonly id: number
  /** `performance.now()` milliseconds. */
  readonly deadline: number
  /** The reply subject of the message, which the workload may publish to without a permission. */
  readonly reply: string | undefined
  logLines = 0
  #ended = false
  readonly #onEnd = new Set<() => void>()

  constructor(id: number, deadline: number, reply: string | undefined) {
    this.id = id
    this.deadline = deadline
    this.reply = reply
  }

  get ended(): boolean {
    return this.#ended
  }

  /** Milliseconds left before the deadline (0 when passed or ended). */
  remainingMs(): number {
    return this.#ended ? 0 : Math.max(0, Math.floor(this.deadline - performance.now()))
  }

  /** Runs `callback` when the invocation ends; returns a function that cancels that. */
  onEnd(callback: () => void): () => void {
    if (this.#ended) {
      callback()
      return () => undefined
    }
    this.#onEnd.add(callback)
    return () => this.#onEnd.delete(callback)
  }

  end(): void {
    if (this.#ended) return
    this.#ended = true
    for (const callback of this.#onEnd) callback()
    this.#onEnd.clear()
  }
}

/**
 * Keeps the event loop polling its sockets, without sleeping, for a short window after each
 * `touch` (the broker touches it after a client's read of at most one message). A sequential client sends its next request about 100 µs after the reply;
 * a thread asleep by then pays for being woken, and on a VM whose idle CPUs halt at once that is
 * about 40 µs a hop, nearly half the round trip. The cost is CPU: up to one core while work keeps
 * arriving within the window, none once it stops.
 */
export class BusyPoll {
  private readonly windowMs: number
  private readonly pauses: Array<() => boolean> = []
  private until = 0
  private polling = false
  /** Loop turns spent polling; tests read it to see the loop kept going. */
  turns = 0

  constructor(windowMicros: number) {
    this.windowMs = windowMicros / 1000
  }

  get enabled(): boolean {
    return this.windowMs > 0
  }

  get active(): boolean {
    return this.polling
  }

  /**
   * Stops polling while `predicate` holds. A thread that never sleeps keeps its CPU from the
   * threads it is waiting for: a thread-pool fdatasync woken onto that CPU waits for the poller's
   * time slice to end (sequential durable publishes went from 250 to 670 µs when it did).
   */
  pauseWhile(predicate: () => boolean): void {
    // A layer started again on the same server registers the same predicate again.
    if (!this.pauses.includes(predicate)) this.pauses.push(predicate)
  }

  /** Work was done: poll for the next `window` from now. */
  touch(): void {
    if (this.windowMs <= 0) return
    this.until = performance.now() + this.windowMs
    if (this.polling || this.paused()) return
    this.polling = true
    setImmediate(this.step)
  }

  /** Ends the current window at once (shutdown). */
  stop(): void {
    this.until = 0
  }

  private paused(): boolean {
    for (let index = 0; index < this.pauses.length; index++) if (this.pauses[index]()) return true
    return false
  }

  // A pending immediate makes libuv poll for I/O with a zero timeout, so each turn is one
  // non-blocking epoll and the loop never parks the thread.
  private readonly step = (): void => {
    this.turns++
    if (performance.now() < this.until && !this.paused()) setImmediate(this.step)
    else this.polling = false
  }
}

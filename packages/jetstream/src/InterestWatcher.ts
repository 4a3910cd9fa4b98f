/** Something waiting for a subscriber to appear on a subject. */
export interface InterestWaiter {
  readonly watchedSubject: string
  interestAppeared(): void
}

/** Waiters older than this are checked only every `slowEvery` ticks. */
const freshForMs = 1000
const slowEvery = 20

/**
 * Notices when a push consumer's deliver subject gains a subscriber. The broker has no
 * subscription events, so this polls the (cached) subject index every few milliseconds while
 * anyone is waiting; nats.js v3 subscribes right after creating the consumer, so new waiters are
 * polled often and long-idle ones (a durable nobody is bound to) rarely.
 */
export class InterestWatcher {
  private readonly waiters = new Map<InterestWaiter, number>()
  private timer: ReturnType<typeof setInterval> | undefined
  private ticks = 0
  private readonly hasInterest: (subject: string) => boolean
  private readonly intervalMs: number

  constructor(hasInterest: (subject: string) => boolean, intervalMs = 5) {
    this.hasInterest = hasInterest
    this.intervalMs = intervalMs
  }

  watch(waiter: InterestWaiter): void {
    if (!this.waiters.has(waiter)) this.waiters.set(waiter, Date.now())
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.poll(), this.intervalMs)
      this.timer.unref()
    }
  }

  unwatch(waiter: InterestWaiter): void {
    this.waiters.delete(waiter)
    if (this.waiters.size === 0) this.stop()
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  private poll(): void {
    const slowTurn = ++this.ticks % slowEvery === 0
    const freshSince = Date.now() - freshForMs
    for (const [waiter, since] of [...this.waiters]) {
      if (since < freshSince && !slowTurn) continue
      if (this.hasInterest(waiter.watchedSubject)) {
        this.waiters.delete(waiter)
        waiter.interestAppeared()
      }
    }
    if (this.waiters.size === 0) this.stop()
  }
}

import { subjectMatches } from "@nex/protocol"

/** Something waiting for a subscriber to appear on a subject. */
export interface InterestWaiter {
  readonly watchedSubject: string
  interestAppeared(): void
}

/**
 * Notices when a push consumer's deliver subject gains a subscriber, from the broker's
 * subscription events: nothing runs while nobody subscribes, however many consumers wait.
 */
export class InterestWatcher {
  private readonly waiters = new Set<InterestWaiter>()
  private readonly hasInterest: (subject: string) => boolean
  private readonly stopListening: () => void

  /** `onSubscription` registers a listener for new subscriptions and returns its removal. */
  constructor(hasInterest: (subject: string) => boolean, onSubscription: (listener: (subject: string) => void) => () => void) {
    this.hasInterest = hasInterest
    this.stopListening = onSubscription((subject) => this.subscribed(subject))
  }

  watch(waiter: InterestWaiter): void {
    // A subscription may already be there (legacy clients subscribe before creating the consumer).
    if (this.hasInterest(waiter.watchedSubject)) {
      setImmediate(() => waiter.interestAppeared())
      return
    }
    this.waiters.add(waiter)
  }

  unwatch(waiter: InterestWaiter): void {
    this.waiters.delete(waiter)
  }

  stop(): void {
    this.waiters.clear()
    this.stopListening()
  }

  private subscribed(subject: string): void {
    if (this.waiters.size === 0) return
    for (const waiter of [...this.waiters]) {
      if (subjectMatches(subject, waiter.watchedSubject)) {
        this.waiters.delete(waiter)
        waiter.interestAppeared()
      }
    }
  }
}

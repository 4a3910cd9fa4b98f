/** Something a subscription delivers to: a socket connection or an in-process client. */
export interface Delivery {
  readonly cid: number
  /**
   * Delivers one message, `[start, end)` of `message` (all of it by default), lent only for the call;
   * returns false when the message was not taken (closed, echo off, denied).
   */
  deliver(subscription: Subscription, subject: string, reply: string | undefined, headerSize: number, message: Uint8Array, start?: number, end?: number): boolean
}

/** One SUB: the subject index stores these and routes messages to their owner. */
export class Subscription {
  readonly subject: string
  readonly queue: string | undefined
  readonly sid: string
  readonly owner: Delivery
  /** Auto-unsubscribe bound (UNSUB sid max); 0 means none. */
  max = 0
  delivered = 0
  readonly isWildcard: boolean

  constructor(owner: Delivery, subject: string, queue: string | undefined, sid: string) {
    this.owner = owner
    this.subject = subject
    this.queue = queue
    this.sid = sid
    this.isWildcard = hasWildcard(subject)
  }
}

const hasWildcard = (subject: string): boolean => {
  for (let start = 0; start <= subject.length; ) {
    let end = subject.indexOf(".", start)
    if (end === -1) end = subject.length
    if (end - start === 1) {
      const code = subject.charCodeAt(start)
      if (code === 42 || code === 62) return true // '*' or '>'
    }
    start = end + 1
  }
  return false
}

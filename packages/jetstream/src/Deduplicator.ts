interface Entry {
  readonly id: string
  readonly seq: number
  readonly at: number
}

/** Remembers `Nats-Msg-Id`s for the stream's duplicate window (milliseconds). */
export class Deduplicator {
  private windowMs: number
  private readonly entries = new Map<string, Entry>()
  /** In arrival order, so expiry pops from the front. */
  private order: Entry[] = []
  private head = 0

  constructor(windowMs: number) {
    this.windowMs = windowMs
  }

  setWindow(windowMs: number): void {
    this.windowMs = windowMs
    this.expire(Date.now())
  }

  /** The sequence stored under `id` within the window, if any. */
  find(id: string, now = Date.now()): number | undefined {
    this.expire(now)
    return this.entries.get(id)?.seq
  }

  remember(id: string, seq: number, at = Date.now()): void {
    if (this.windowMs <= 0) return
    const entry = { id, seq, at }
    this.entries.set(id, entry)
    this.order.push(entry)
  }

  clear(): void {
    this.entries.clear()
    this.order = []
    this.head = 0
  }

  private expire(now: number): void {
    const cutoff = now - this.windowMs
    const order = this.order
    while (this.head < order.length && order[this.head].at <= cutoff) {
      const entry = order[this.head++]
      if (this.entries.get(entry.id) === entry) this.entries.delete(entry.id)
    }
    if (this.head > 1024 && this.head * 2 > order.length) {
      this.order = order.slice(this.head)
      this.head = 0
    }
  }
}

/** An item that may name a serialization key: items with the same key run one at a time, in order. */
export interface MailboxItem {
  readonly serialKey?: string | undefined
}

/**
 * A bounded FIFO with optional per-key serialization. `take` returns the next item allowed to
 * start (skipping items whose key is busy, which wait in their key's lane); `release` frees the
 * key of an item that finished.
 */
export class Mailbox<Item extends MailboxItem> {
  readonly capacity: number
  #queue: Item[] = []
  #head = 0
  /** Items whose key was busy when they reached the front, per key, in arrival order. */
  readonly #waiting = new Map<string, Item[]>()
  /** Items released from a lane: their key is already marked busy for them. */
  readonly #ready: Item[] = []
  readonly #busyKeys = new Set<string>()
  #size = 0

  constructor(capacity: number) {
    this.capacity = capacity
  }

  /** Items accepted and not yet taken. */
  get size(): number {
    return this.#size
  }

  /** Queues an item unless the mailbox is full; `force` bypasses the bound (internal items). */
  offer(item: Item, force = false): boolean {
    if (!force && this.#size >= this.capacity) return false
    this.#queue.push(item)
    this.#size++
    return true
  }

  /** The next item that may start now, or undefined. */
  take(): Item | undefined {
    const released = this.#ready.shift()
    if (released !== undefined) {
      this.#size--
      return released
    }
    while (this.#head < this.#queue.length) {
      const item = this.#queue[this.#head]
      this.#queue[this.#head] = undefined as unknown as Item
      this.#head++
      this.#compact()
      const key = item.serialKey
      if (key === undefined) {
        this.#size--
        return item
      }
      if (this.#busyKeys.has(key)) {
        const lane = this.#waiting.get(key)
        if (lane === undefined) this.#waiting.set(key, [item])
        else lane.push(item)
        continue
      }
      this.#busyKeys.add(key)
      this.#size--
      return item
    }
    return undefined
  }

  /** Marks a taken item finished: the next item waiting for its key becomes ready. */
  release(item: Item): void {
    const key = item.serialKey
    if (key === undefined) return
    const lane = this.#waiting.get(key)
    const next = lane?.shift()
    if (lane !== undefined && lane.length === 0) this.#waiting.delete(key)
    if (next === undefined) this.#busyKeys.delete(key)
    else this.#ready.push(next)
  }

  /** Removes and returns every queued item (for a stop). */
  drain(): Item[] {
    const items = [...this.#ready, ...this.#queue.slice(this.#head)]
    for (const lane of this.#waiting.values()) items.push(...lane)
    this.#ready.length = 0
    this.#queue = []
    this.#head = 0
    this.#waiting.clear()
    this.#size = 0
    return items
  }

  #compact(): void {
    if (this.#head === this.#queue.length) {
      this.#queue = []
      this.#head = 0
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head)
      this.#head = 0
    }
  }
}

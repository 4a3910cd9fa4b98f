/**
 * A string-keyed Map holding at most `capacity` keys: adding a key when full drops the oldest
 * added one. First in, first out through a ring of the keys, because taking a Map's first key
 * gets slow after many deletes (its iterator skips the holes they leave).
 */
export class BoundedMap<V> {
  readonly capacity: number
  private readonly entries = new Map<string, V>()
  private readonly ring: string[]
  private cursor = 0

  constructor(capacity: number) {
    this.capacity = Math.max(1, capacity)
    this.ring = new Array<string>(this.capacity).fill("")
  }

  get size(): number {
    return this.entries.size
  }

  get(key: string): V | undefined {
    return this.entries.get(key)
  }

  has(key: string): boolean {
    return this.entries.has(key)
  }

  /** Stores `value` under a key the caller knows is absent, evicting the oldest key when full. */
  add(key: string, value: V): void {
    const cursor = this.cursor
    if (this.entries.size >= this.capacity) this.entries.delete(this.ring[cursor])
    this.ring[cursor] = key
    this.cursor = cursor + 1 === this.capacity ? 0 : cursor + 1
    this.entries.set(key, value)
  }

  /** Replaces the value of a key the caller knows is present; its place in the eviction order stays. */
  replace(key: string, value: V): void {
    this.entries.set(key, value)
  }

  values(): IterableIterator<V> {
    return this.entries.values()
  }
}

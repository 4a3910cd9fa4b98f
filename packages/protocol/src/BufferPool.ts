/**
 * A small free list of large buffers, so hot paths reuse memory instead of allocating a fresh
 * ArrayBuffer each time: V8 counts every new backing store as external memory, and a steady
 * stream of them triggers full collections however little of it stays alive.
 *
 * Whoever gives a buffer back must be sure nothing still reads or writes it. The pool takes back
 * only whole buffers it allocated itself: never a slice of Node's shared allocation pool.
 */
export class BufferPool {
  private readonly capacity: number
  private readonly minimumSize: number
  private readonly maximumSize: number
  private readonly spare: Buffer[] = []
  private readonly allocated = new WeakSet<ArrayBufferLike>()

  /** Keeps up to `capacity` buffers of `minimumSize` to `maximumSize` bytes; fresh ones are powers of two. */
  constructor(options: { readonly capacity: number; readonly minimumSize: number; readonly maximumSize: number }) {
    this.capacity = options.capacity
    this.minimumSize = options.minimumSize
    this.maximumSize = options.maximumSize
  }

  /** A buffer of at least `size` bytes, with unspecified contents. */
  take(size: number): Buffer {
    const spare = this.spare
    for (let index = spare.length - 1; index >= 0; index--) {
      const buffer = spare[index]
      if (buffer.length < size) continue
      spare[index] = spare[spare.length - 1]
      spare.pop()
      return buffer
    }
    const buffer = Buffer.allocUnsafeSlow(size <= this.minimumSize ? this.minimumSize : size > this.maximumSize ? size : nextPowerOfTwo(size))
    this.allocated.add(buffer.buffer)
    return buffer
  }

  /** Hands `memory` (the whole of a buffer take() returned) back for reuse; memory the pool has no room for, or did not allocate, is left to the collector. */
  give(memory: ArrayBufferLike): void {
    const spare = this.spare
    if (memory.byteLength > this.maximumSize || spare.length >= this.capacity || !this.allocated.has(memory)) return
    for (let index = 0; index < spare.length; index++) if (spare[index].buffer === memory) return
    spare.push(Buffer.from(memory))
  }

  /** Buffers waiting for reuse (for tests). */
  get spareCount(): number {
    return this.spare.length
  }
}

const nextPowerOfTwo = (value: number): number => 2 ** Math.ceil(Math.log2(value))

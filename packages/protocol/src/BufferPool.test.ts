import { describe, expect, it } from "vitest"
import { BufferPool } from "./BufferPool.ts"

describe("BufferPool", () => {
  const pool = () => new BufferPool({ capacity: 2, minimumSize: 1024, maximumSize: 8192 })

  it("hands out fresh buffers of at least the minimum size, rounded up to a power of two", () => {
    const buffers = pool()
    expect(buffers.take(10).length).toBe(1024)
    expect(buffers.take(3000).length).toBe(4096)
    // Larger than the pool keeps: exactly the size asked for.
    expect(buffers.take(10_000).length).toBe(10_000)
  })

  it("reuses a given-back buffer that is large enough, and only that", () => {
    const buffers = pool()
    const small = buffers.take(1024)
    const large = buffers.take(8192)
    buffers.give(small.buffer)
    buffers.give(large.buffer)
    expect(buffers.take(5000).buffer).toBe(large.buffer)
    expect(buffers.take(2000).buffer).not.toBe(small.buffer)
    expect(buffers.take(1000).buffer).toBe(small.buffer)
    expect(buffers.spareCount).toBe(0)
  })

  it("takes back only memory it allocated, once, up to its capacity and maximum size", () => {
    const buffers = pool()
    // Node's allocUnsafe hands out slices of a shared slab: giving one back must not pool the slab.
    buffers.give(Buffer.allocUnsafe(100).buffer)
    buffers.give(new ArrayBuffer(2048))
    buffers.give(buffers.take(10_000).buffer)
    expect(buffers.spareCount).toBe(0)
    const first = buffers.take(1024)
    buffers.give(first.buffer)
    buffers.give(first.buffer)
    expect(buffers.spareCount).toBe(1)
    for (let index = 0; index < 5; index++) buffers.give(buffers.take(8193 + index).buffer)
    expect(buffers.spareCount).toBe(1)
    const more = [buffers.take(1024), buffers.take(1024), buffers.take(1024)]
    for (const buffer of more) buffers.give(buffer.buffer)
    expect(buffers.spareCount).toBe(2)
  })
})

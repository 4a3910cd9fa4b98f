import { describe, expect, it } from "vitest"
import { BoundedMap } from "./BoundedMap.ts"

describe("BoundedMap", () => {
  it("holds at most its capacity, dropping the oldest added key", () => {
    const map = new BoundedMap<number>(3)
    for (let index = 0; index < 5; index++) map.add(`k${index}`, index)
    expect(map.size).toBe(3)
    expect(map.has("k0")).toBe(false)
    expect(map.has("k1")).toBe(false)
    expect([...map.values()]).toEqual([2, 3, 4])
  })

  it("keeps a replaced key's place in the eviction order", () => {
    const map = new BoundedMap<string>(2)
    map.add("a", "first")
    map.add("b", "first")
    map.replace("a", "second")
    expect(map.get("a")).toBe("second")
    map.add("c", "first")
    expect(map.has("a")).toBe(false)
    expect(map.get("b")).toBe("first")
    expect(map.get("c")).toBe("first")
  })

  it("treats a capacity below one as one", () => {
    const map = new BoundedMap<number>(0)
    map.add("a", 1)
    map.add("b", 2)
    expect(map.size).toBe(1)
    expect(map.get("b")).toBe(2)
  })
})

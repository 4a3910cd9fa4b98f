import { describe, expect, it } from "vitest"
import { noLimits } from "./MessageStore.ts"
import { openMemoryStore } from "./MemoryStore.ts"
import { timerDelay } from "./timerDelay.ts"

describe("timerDelay", () => {
  it("caps delays at setTimeout's limit and never goes negative", () => {
    expect(timerDelay(-5)).toBe(0)
    expect(timerDelay(1500)).toBe(1500)
    expect(timerDelay(40 * 24 * 3600 * 1000)).toBe(2 ** 31 - 1)
  })

  it("lets a stream keep messages for longer than 24.8 days without a timer overflow", async () => {
    const warnings: string[] = []
    const onWarning = (warning: Error) => warnings.push(warning.name)
    process.on("warning", onWarning)
    try {
      const store = openMemoryStore({ limits: { ...noLimits, maxAgeMs: 90 * 24 * 3600 * 1000 } })
      store.append("kept", undefined, new Uint8Array(1))
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(warnings).not.toContain("TimeoutOverflowWarning")
      expect(store.state().messages).toBe(1)
      await store.close()
    } finally {
      process.off("warning", onWarning)
    }
  })
})

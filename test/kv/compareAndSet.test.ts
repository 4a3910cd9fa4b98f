import { Kvm } from "@nats-io/kv"
import { connect } from "@nats-io/transport-node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { compareAndSetLoad } from "../support/compareAndSetLoad.ts"
import { startNex, type Target } from "../support/index.ts"

describe("KV compare-and-set under load", () => {
  let node: Target

  beforeAll(async () => {
    node = await startNex()
  })

  afterAll(async () => {
    await node?.stop()
  })

  it.each(["file", "memory"] as const)("refuses no update that carries the right revision (%s bucket)", async (storage) => {
    const connection = await connect({ servers: node.url })
    try {
      const kv = await new Kvm(connection).create(`CAS_${storage}`, { storage })
      const result = await compareAndSetLoad(kv, { keys: 256, maxUpdates: 20_000, timeMs: 3000 })
      expect({ wrongLastSequence: result.wrongLastSequence, otherErrors: result.otherErrors }).toEqual({ wrongLastSequence: 0, otherErrors: 0 })
      expect(result.updates).toBeGreaterThan(1000)

      const current = await kv.get("cas.0")
      if (current === null) throw new Error("cas.0 is missing")
      await expect(kv.update("cas.0", new Uint8Array(1), current.revision - 1)).rejects.toMatchObject({ code: 10071 })
    } finally {
      await connection.close()
    }
  }, 20_000)
})

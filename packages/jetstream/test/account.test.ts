import { jetstream, jetstreamManager, JetStreamApiError } from "@nats-io/jetstream"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type RunningJetStream, startJetStream } from "./harness.ts"

const errorCode = async (promise: Promise<unknown>) => {
  try {
    await promise
    return undefined
  } catch (error) {
    if (error instanceof JetStreamApiError) return error.code
    throw error
  }
}

describe("account limits and monitoring", () => {
  let node: RunningJetStream
  beforeAll(async () => {
    node = await startJetStream({ maxMemory: 10_000, monitoring: true })
  })
  afterAll(async () => {
    await node.close()
  })

  it("reserves max_bytes and refuses publishes once memory is full", async () => {
    const nc = await node.connect()
    const jsm = await jetstreamManager(nc)
    const js = jetstream(nc)
    expect(await errorCode(jsm.streams.add({ name: "HUGE", subjects: ["huge"], storage: "memory" as never, max_bytes: 20_000 }))).toBe(10028)
    await jsm.streams.add({ name: "SMALL", subjects: ["small"], storage: "memory" as never })
    const account = await jsm.getAccountInfo()
    expect(account.limits.max_memory).toBe(10_000)
    let refused: number | undefined
    for (let index = 0; index < 20 && refused === undefined; index++) refused = await errorCode(js.publish("small", new Uint8Array(1000)))
    expect(refused).toBe(10023)
    expect((await jsm.getAccountInfo()).memory).toBeGreaterThanOrEqual(10_000)
  })

  it("reports in /varz and /jsz", async () => {
    const varz = (await (await fetch(`${node.monitoring}/varz`)).json()) as Record<string, any>
    expect(varz.jetstream.config.max_memory).toBe(10_000)
    expect(varz.jetstream.stats).toMatchObject({ accounts: 1, api: { total: expect.any(Number) } })
    const jsz = (await (await fetch(`${node.monitoring}/jsz?streams=true&consumers=true`)).json()) as Record<string, any>
    expect(jsz).toMatchObject({ streams: 1, consumers: 0, config: { store_dir: node.storeDir } })
    expect(jsz.account_details[0].stream_detail[0]).toMatchObject({ name: "SMALL", state: { messages: expect.any(Number) } })
  })
})

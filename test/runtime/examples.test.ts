import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { counterExample } from "../../examples/counter.ts"
import { greeterExample } from "../../examples/greeter.ts"
import { ordersExample } from "../../examples/orders.ts"
import { reportExample } from "../../examples/report.ts"
import { hasNatsServer, startNatsServer, type Target } from "../support/index.ts"
import { type RunningRuntime, startSandboxedRuntime } from "./runtimeHarness.ts"

const transcript = async (example: (servers: string, print: (line: string) => void) => Promise<void>, servers: string): Promise<Array<string>> => {
  const lines: Array<string> = []
  await example(servers, (line) => lines.push(line))
  return lines
}

describe.skipIf(!hasNatsServer)("examples/ against a node with real sandboxes (nats-server -js)", () => {
  let server: Target
  let node: Omit<RunningRuntime, "sandboxes">

  beforeAll(async () => {
    server = await startNatsServer({ jetstream: true })
    node = await startSandboxedRuntime(server.url)
  })
  afterAll(async () => {
    await node?.stop()
    await server?.stop()
  })

  it("greeter answers, then greets with the greeting set in KV", async () => {
    expect(await transcript(greeterExample, server.url)).toEqual(["greeter revision 1 is running on test-node", "Hello, world!", "Hi, world!"])
  })

  it("orders writes a receipt artifact for a published order", async () => {
    expect(await transcript(ordersExample, server.url)).toEqual([
      "orders revision 1 consumes ORDERS on test-node",
      "published order 123 as ORDERS #1",
      "receipt for order 123: 1 line(s), total 7"
    ])
  })

  it("report summarises an object and stores the summary", async () => {
    const lines = await transcript(reportExample, server.url)
    expect(lines.slice(0, 2)).toEqual(["report revision 1 is running on test-node", "4 rows, total 262.25, north 140"])
    expect(lines[2]).toMatch(/^summary artifact: report\/reports\/2026-q3\.csv\.summary\.json \(\d+ bytes\)$/)
  })

  it("counter counts 50 concurrent increments of one key exactly", async () => {
    expect(await transcript(counterExample, server.url)).toEqual([
      "counter revision 1 is running on test-node",
      "50 requests saw counts 1..50, each once: true",
      "stored count: 50"
    ])
  })
})

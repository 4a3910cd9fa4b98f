import { afterEach, describe, expect, it } from "vitest"
import { type GuestCall, type GuestOutcome, invocationKind, Sandbox } from "../../src/worker/Sandbox.ts"

// Answers by subject: "text" a string, "bytes" the request, "throw" an error, "wait" after a host call
// the test releases, "spin" loops forever after an await.
const workload = `
export default async (message, ctx) => {
  if (message.subject === "text") return "hello " + message.text();
  if (message.subject === "bytes") return message.data;
  if (message.subject === "throw") throw new TypeError("boom");
  if (message.subject === "wait") return (await ctx.kv("gate").get("open")) === null ? "released" : "unexpected";
  if (message.subject === "spin") { await undefined; for (;;) {} }
  return undefined;
};
`

const encoder = new TextEncoder()

const callOf = (invocation: number, subject: string, text = ""): GuestCall => [invocation, invocationKind.message, subject, "", encoder.encode(text), undefined]

/** Runs a batch, recording each outcome by index in the order they settle. */
const runBatch = (sandbox: Sandbox, calls: ReadonlyArray<GuestCall>) => {
  const settled: Array<{ readonly index: number; readonly outcome: GuestOutcome }> = []
  let resolveAll: () => void = () => undefined
  const all = new Promise<void>((resolve) => (resolveAll = resolve))
  sandbox.invokeAll(calls, (index, outcome) => {
    settled.push({ index, outcome })
    if (settled.length === calls.length) resolveAll()
  })
  return { settled, all }
}

const waitUntil = async (condition: () => boolean, timeoutMs = 2000): Promise<void> => {
  const giveUpAt = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() > giveUpAt) throw new Error("condition not met in time")
    await new Promise((resolve) => setImmediate(resolve))
  }
}

describe("Sandbox.invokeAll", () => {
  let sandbox: Sandbox | undefined
  let openGate: () => void = () => undefined

  const loadSandbox = async (): Promise<Sandbox> => {
    const gate = new Promise<void>((resolve) => (openGate = resolve))
    sandbox = new Sandbox(32, () => undefined)
    await sandbox.load({
      name: "batch",
      node: "test",
      code: workload,
      hostCall: async () => {
        await gate
        return { ok: true, value: null }
      },
      timeoutMs: 2000
    })
    return sandbox
  }

  afterEach(() => sandbox?.dispose())

  it("settles every call of a batch with its own outcome, once", async () => {
    const loaded = await loadSandbox()
    const { settled, all } = runBatch(loaded, [callOf(1, "text", "a"), callOf(2, "bytes", "xyz"), callOf(3, "throw"), callOf(4, "none")])
    await all
    const byIndex = new Map(settled.map(({ index, outcome }) => [index, outcome]))
    expect(settled).toHaveLength(4)
    expect(byIndex.get(0)).toEqual({ ok: true, body: "hello a" })
    expect(byIndex.get(1)).toEqual({ ok: true, body: encoder.encode("xyz") })
    expect(byIndex.get(2)).toMatchObject({ ok: false, failure: { code: "user_error", detail: "TypeError: boom" } })
    expect(byIndex.get(3)).toEqual({ ok: true, body: undefined })
  })

  it("does not hold back finished calls behind one that waits on the host", async () => {
    const loaded = await loadSandbox()
    const { settled, all } = runBatch(loaded, [callOf(1, "wait"), callOf(2, "text", "b")])
    await waitUntil(() => settled.length === 1)
    expect(settled[0]).toEqual({ index: 1, outcome: { ok: true, body: "hello b" } })
    openGate()
    await all
    expect(settled[1]).toEqual({ index: 0, outcome: { ok: true, body: "released" } })
  })

  it("fails every unfinished call as isolate_lost when the sandbox is disposed", async () => {
    const loaded = await loadSandbox()
    const waiting = runBatch(loaded, [callOf(1, "wait"), callOf(2, "text", "c")])
    await waitUntil(() => waiting.settled.length === 1)
    const spinning = runBatch(loaded, [callOf(3, "spin"), callOf(4, "text", "d")])
    loaded.dispose()
    await Promise.all([waiting.all, spinning.all])
    expect(waiting.settled[1]).toMatchObject({ index: 0, outcome: { ok: false, failure: { code: "isolate_lost" } } })
    for (const { outcome } of spinning.settled) expect(outcome).toMatchObject({ ok: false, failure: { code: "isolate_lost" } })
    const late = runBatch(loaded, [callOf(5, "text")])
    await late.all
    expect(late.settled[0].outcome).toMatchObject({ ok: false, failure: { code: "isolate_lost" } })
  })
})

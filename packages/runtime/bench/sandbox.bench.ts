import { readFileSync } from "node:fs"
import { parseArgs } from "node:util"
import { percentile } from "../../../bench/statistics.ts"
import { invocationKind, Sandbox } from "../src/worker/Sandbox.ts"

const usage = `npx node --no-node-snapshot packages/runtime/bench/sandbox.bench.ts [--quick]

Measures a sandbox's cold start inside one process, without NATS or IPC: isolate + context +
prelude + module + first call, from nothing and from a spare sandbox (what the spare pool keeps).
The runtime's figures end to end (cold start through a sandbox host process, deploy to first
reply, warm request/reply and job throughput against plain clients, idle RSS, config changes)
are in \`npm run bench -- --only runtime\`.`

const { values: options } = parseArgs({ options: { quick: { type: "boolean", default: false }, help: { type: "boolean", default: false } } })
if (options.help) {
  console.log(usage)
  process.exit(0)
}
if (!process.execArgv.includes("--no-node-snapshot")) {
  console.error("run with --no-node-snapshot (this process hosts isolates)")
  process.exit(2)
}

const coldRuns = options.quick ? 50 : 300
const echoSource = "export default async (msg, ctx) => msg.text().length > 0 ? { echo: msg.text(), name: ctx.name } : 'empty'"
const noHostCall = async (): Promise<unknown> => ({ ok: true, value: null })
const ignoreCatastrophe = (): void => undefined
const payload = new TextEncoder().encode("hello")

const summary = (samples: Array<number>): string => {
  const sorted = samples.sort((a, b) => a - b)
  return `p50 ${percentile(sorted, 0.5).toFixed(2)} ms, p99 ${percentile(sorted, 0.99).toFixed(2)} ms`
}

/** isolate + context + prelude (unless `spare` is given) + module + first invocation. */
const coldStart = async (spare?: Sandbox): Promise<{ milliseconds: number; sandbox: Sandbox }> => {
  const startedAt = performance.now()
  const sandbox = spare ?? new Sandbox(32, ignoreCatastrophe)
  await sandbox.load({ name: "bench", node: "bench", code: echoSource, hostCall: noHostCall, timeoutMs: 5000 })
  const outcome = await sandbox.invoke(1, invocationKind.message, "bench", "", payload, undefined, 5000)
  if (!outcome.ok) throw new Error(`cold start failed: ${outcome.failure.code}`)
  return { milliseconds: performance.now() - startedAt, sandbox }
}

for (let warmup = 0; warmup < 20; warmup++) (await coldStart()).sandbox.dispose()
const fresh: number[] = []
for (let run = 0; run < coldRuns; run++) {
  const { milliseconds, sandbox } = await coldStart()
  fresh.push(milliseconds)
  sandbox.dispose()
}
const blank: number[] = []
const pooled: number[] = []
for (let run = 0; run < coldRuns; run++) {
  const madeAt = performance.now()
  const spare = new Sandbox(32, ignoreCatastrophe)
  blank.push(performance.now() - madeAt)
  const { milliseconds, sandbox } = await coldStart(spare)
  pooled.push(milliseconds)
  sandbox.dispose()
}

const isolatedVmVersion = JSON.parse(readFileSync(new URL(import.meta.resolve("isolated-vm/package.json")), "utf8")).version
console.log(`sandbox cold start in one process (isolated-vm ${isolatedVmVersion}, Node ${process.versions.node}), ${coldRuns} runs
  from nothing            ${summary(fresh)}
  from a spare sandbox    ${summary(pooled)}   (making the spare: ${summary(blank)})`)

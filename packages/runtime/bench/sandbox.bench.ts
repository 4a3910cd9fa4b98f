import { readFileSync } from "node:fs"
import { parseArgs } from "node:util"
import { connect, type NatsConnection } from "@nats-io/transport-node"
import { eventually } from "../../../test/support/eventually.ts"
import { hasNatsServer, startNatsServer } from "../../../test/support/natsServer.ts"
import { spawnProcess } from "../../../test/support/process.ts"
import { invocationKind, Sandbox } from "../src/worker/Sandbox.ts"
import { specFor, WorkerProcess } from "../test/worker/WorkerProcess.ts"

const usage = `npx node --no-node-snapshot packages/runtime/bench/sandbox.bench.ts [--quick]

Measures the sandbox host: cold start in-process (isolate + prelude + module + first call) and
through a worker process (start message → first reply), warm request/reply through a workload
against a plain @nats-io responder in the same run, and RSS with many idle workloads.`

const { values: options } = parseArgs({ options: { quick: { type: "boolean", default: false }, help: { type: "boolean", default: false } } })
if (options.help) {
  console.log(usage)
  process.exit(0)
}
if (!process.execArgv.includes("--no-node-snapshot")) {
  console.error("run with --no-node-snapshot (this process hosts isolates)")
  process.exit(2)
}
if (!hasNatsServer) {
  console.error("nats-server is not installed")
  process.exit(2)
}

const quick = options.quick
const coldRuns = quick ? 50 : 300
const workerColdRuns = quick ? 20 : 100
const warmRequests = quick ? 2000 : 10_000
const idleWorkloads = quick ? 200 : 1000

const echoSource = "export default async (msg, ctx) => msg.text().length > 0 ? { echo: msg.text(), name: ctx.name } : 'empty'"
const log = (line: string): void => void process.stderr.write(`${line}\n`)

const percentile = (samples: ReadonlyArray<number>, fraction: number): number => {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]
}
const milliseconds = (value: number): string => `${value.toFixed(2)} ms`
const summary = (samples: ReadonlyArray<number>): string => `p50 ${milliseconds(percentile(samples, 0.5))}, p99 ${milliseconds(percentile(samples, 0.99))}`

const repositoryRoot = new URL("../../..", import.meta.url).pathname
const plainResponderSource = `
import { connect } from "@nats-io/transport-node"
const connection = await connect({ servers: process.argv[1] })
connection.subscribe("plain", { callback: (_error, message) => message.respond(JSON.stringify({ echo: message.string(), name: "plain" })) })
await connection.flush()
console.log("ready")
`

const noHostCall = async (): Promise<unknown> => ({ ok: true, value: null })
const ignoreCatastrophe = (): void => undefined
const payload = new TextEncoder().encode("hello")

/** isolate + context + prelude (unless `spare` is given) + module + first invocation. */
const coldStart = async (spare?: Sandbox): Promise<{ milliseconds: number; sandbox: Sandbox }> => {
  const startedAt = performance.now()
  const sandbox = spare ?? new Sandbox(32, ignoreCatastrophe)
  await sandbox.load({ name: "bench", node: "bench", code: echoSource, hostCall: noHostCall, timeoutMs: 5000 })
  const outcome = await sandbox.invoke(1, invocationKind.message, "bench", "", payload, undefined, 5000)
  if (!outcome.ok) throw new Error(`cold start failed: ${outcome.failure.code}`)
  return { milliseconds: performance.now() - startedAt, sandbox }
}

const measureColdStart = async (): Promise<{ fresh: number[]; pooled: number[]; blank: number[] }> => {
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
  return { fresh, pooled, blank }
}

const sequentialRequests = async (client: NatsConnection, subject: string, count: number): Promise<{ latencies: number[]; perSecond: number }> => {
  for (let warmup = 0; warmup < 200; warmup++) await client.request(subject, "hello", { timeout: 5000 })
  const latencies: number[] = []
  const startedAt = performance.now()
  for (let index = 0; index < count; index++) {
    const sentAt = performance.now()
    await client.request(subject, "hello", { timeout: 5000 })
    latencies.push(performance.now() - sentAt)
  }
  return { latencies, perSecond: count / ((performance.now() - startedAt) / 1000) }
}

const concurrentRequests = async (client: NatsConnection, subject: string, count: number, inFlight: number): Promise<number> => {
  let next = 0
  const startedAt = performance.now()
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) {
        next++
        await client.request(subject, "hello", { timeout: 5000 })
      }
    })
  )
  return count / ((performance.now() - startedAt) / 1000)
}

const residentMiB = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((entry) => entry.startsWith("VmRSS:"))
  return Number(line?.match(/(\d+)/)?.[1] ?? 0) / 1024
}

const server = await startNatsServer({ jetstream: true })
const workers: WorkerProcess[] = []
try {
  log("cold start in process …")
  const cold = await measureColdStart()

  log("cold start through a worker process …")
  const worker = await WorkerProcess.start(server.url, "bench")
  workers.push(worker)
  const client = await connect({ servers: server.url })
  const workerCold: number[] = []
  for (let run = 0; run < workerColdRuns; run++) {
    const name = `cold-${run}`
    const startedAt = performance.now()
    await worker.deploy(specFor(name, echoSource, { triggers: [`cold.${run}`] }), echoSource)
    await client.request(`cold.${run}`, "hello", { timeout: 5000 })
    workerCold.push(performance.now() - startedAt)
    worker.send({ type: "stop", name })
  }

  log("warm request/reply …")
  await worker.deploy(specFor("warm", echoSource, { triggers: ["warm"], concurrency: 16 }), echoSource)
  // The reference answers the same JSON from its own process, as the workload does.
  const responder = spawnProcess(process.execPath, ["--input-type=module", "-e", plainResponderSource, server.url], { cwd: repositoryRoot })
  await eventually(() => {
    if (!responder.output().includes("ready")) throw new Error("responder not ready")
  })
  const plain = await sequentialRequests(client, "plain", warmRequests)
  const workload = await sequentialRequests(client, "warm", warmRequests)
  const plainConcurrent = await concurrentRequests(client, "plain", warmRequests, 16)
  const workloadConcurrent = await concurrentRequests(client, "warm", warmRequests, 16)
  await responder.stop()

  log(`${idleWorkloads} idle workloads in one process …`)
  const idleWorker = await WorkerProcess.start(server.url, "bench-idle")
  workers.push(idleWorker)
  await new Promise((resolve) => setTimeout(resolve, 500))
  const baseline = residentMiB(idleWorker.child.pid ?? 0)
  const deployStartedAt = performance.now()
  for (let batch = 0; batch < idleWorkloads; batch += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, idleWorkloads - batch) }, (_, offset) => {
        const index = batch + offset
        return idleWorker.deploy(specFor(`idle-${index}`, echoSource, { triggers: [`idle.${index}`] }), echoSource)
      })
    )
  }
  const deployMs = performance.now() - deployStartedAt
  for (let index = 0; index < idleWorkloads; index += 100) {
    await Promise.all(Array.from({ length: Math.min(100, idleWorkloads - index) }, (_, offset) => client.request(`idle.${index + offset}`, "x", { timeout: 5000 })))
  }
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const loaded = residentMiB(idleWorker.child.pid ?? 0)
  await client.close()

  const ratio = (ours: number, reference: number): string => `${(ours / reference).toFixed(2)}×`
  console.log(`
sandbox host (isolated-vm ${JSON.parse(readFileSync(new URL(import.meta.resolve("isolated-vm/package.json")), "utf8")).version}, Node ${process.versions.node})

cold start, in process (isolate + context + prelude + module + first call), ${coldRuns} runs
  from nothing            ${summary(cold.fresh)}
  from a spare sandbox    ${summary(cold.pooled)}   (making the spare: ${summary(cold.blank)})
cold start through a worker (start message → started → first reply over NATS), ${workerColdRuns} runs
  ${summary(workerCold)}

warm request/reply, ${warmRequests} sequential requests (100 B)
  workload                ${summary(workload.latencies)}, ${workload.perSecond.toFixed(0)} req/s
  plain @nats-io responder ${summary(plain.latencies)}, ${plain.perSecond.toFixed(0)} req/s
  ratio (workload / plain) p50 ${ratio(percentile(workload.latencies, 0.5), percentile(plain.latencies, 0.5))}, throughput ${ratio(workload.perSecond, plain.perSecond)}
  16 in flight            workload ${workloadConcurrent.toFixed(0)} req/s, plain ${plainConcurrent.toFixed(0)} req/s (${ratio(workloadConcurrent, plainConcurrent)})

${idleWorkloads} idle workloads in one process (each started and called once)
  RSS ${baseline.toFixed(1)} MiB → ${loaded.toFixed(1)} MiB: ${(((loaded - baseline) * 1024) / idleWorkloads).toFixed(0)} KiB per workload
  started in ${(deployMs / 1000).toFixed(2)} s (${(deployMs / idleWorkloads).toFixed(2)} ms each, 50 at a time)
`)
} finally {
  await Promise.all(workers.map((worker) => worker.stop()))
  await server.stop()
}

import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { hasNatsServer } from "../test/support/natsServer.ts"
import { type BenchServer, type ServerName, startBenchServer } from "./BenchServer.ts"
import { type MemoryRow, type MetricSamples, renderMemory, renderResults, samplesOf } from "./report.ts"
import { measureRuntime } from "./runtime/measureRuntime.ts"
import { renderRuntime } from "./runtime/runtimeReport.ts"
import { runtimeBudget } from "./runtime/RuntimeScenario.ts"
import type { Budget, Figure, Scenario } from "./Scenario.ts"
import { buildGoBench, goClient } from "./scenarios/goClient.ts"
import { idleConnections } from "./scenarios/idleConnections.ts"
import { jetstreamConsume } from "./scenarios/jetstreamConsume.ts"
import { jetstreamScaleScenarios } from "./scenarios/jetstreamScale.ts"
import { jetstreamPublish } from "./scenarios/jetstreamPublish.ts"
import { kvCompareAndSet } from "./scenarios/kvCompareAndSet.ts"
import { kvOperations } from "./scenarios/kvOperations.ts"
import { kvKeys } from "./scenarios/kvKeys.ts"
import { kvWatchFanout } from "./scenarios/kvWatchFanout.ts"
import { kvWatchReplay } from "./scenarios/kvWatchReplay.ts"
import { objectConcurrentPuts, objectTransfer } from "./scenarios/objectTransfer.ts"
import { publishOnly } from "./scenarios/publishOnly.ts"
import { publishSubscribe } from "./scenarios/publishSubscribe.ts"
import { requestReply } from "./scenarios/requestReply.ts"
import { runtimeScenarios } from "./scenarios/runtime.ts"
import { stalledSubscriber } from "./scenarios/stalledSubscriber.ts"

const usage = `npm run bench -- [--quick] [--only id[,id...]] [--runs N]

Measures nex against nats-server, interleaved in one run, and prints the median of each figure.
The runtime-* scenarios measure workloads on a nex node against a plain client in the same run
(or against their target) and print a table of their own.
  --quick   a short smoke run (small budgets, one run)
  --only    run only scenarios whose id contains one of the given words (e.g. --only pubsub,req)
  --runs    runs per scenario and server (default 3; --quick: 1)`

const { values: options } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    runs: { type: "string" },
    help: { type: "boolean", default: false }
  }
})
if (options.help) {
  console.log(usage)
  process.exit(0)
}

const budget: Budget = options.quick
  ? { messages: 50_000, timeMs: 1000, idleConnections: 200 }
  : { messages: 1_000_000, timeMs: 5000, idleConnections: 1000 }
const runs = options.runs !== undefined ? Math.max(1, Number(options.runs)) : options.quick ? 1 : 3
const onlyTerms = options.only?.split(",").map((term) => term.trim()).filter((term) => term !== "") ?? []
const selected = (id: string): boolean => onlyTerms.length === 0 || onlyTerms.some((term) => id.includes(term))
const log = (line: string): void => void process.stderr.write(`${line}\n`)

const workDirectory = mkdtempSync(join(tmpdir(), "nex-bench-"))
const servers: BenchServer[] = []
const idleRss = new Map<ServerName, number>()
const failedToStart = new Map<ServerName, string>()

const stopAll = async (): Promise<void> => {
  await Promise.all(servers.map((server) => server.stop()))
  rmSync(workDirectory, { recursive: true, force: true })
}
process.once("SIGINT", () => void stopAll().then(() => process.exit(130)))

const startServers = async (): Promise<void> => {
  const names: ServerName[] = hasNatsServer ? ["nex", "nats-server"] : ["nex"]
  if (!hasNatsServer) failedToStart.set("nats-server", "not installed")
  for (const name of names) {
    try {
      const server = await startBenchServer(name)
      servers.push(server)
      idleRss.set(name, server.rssBytes())
      log(`${name}: pid ${server.pid} on ${server.url}`)
    } catch (error) {
      const reason = error instanceof Error ? error.message.split("\n")[0] : String(error)
      failedToStart.set(name, reason)
      log(`${name}: failed to start (${reason})`)
    }
  }
}

const scenarioList = async (): Promise<Scenario[]> => {
  const scenarios: Scenario[] = [
    publishOnly(16, "16B"),
    publishOnly(1024, "1KiB"),
    publishSubscribe(1, "pubsub", "pub->sub 16 B"),
    publishSubscribe(4, "fanout", "fan-out 1->4 16 B"),
    requestReply(1, "req-seq", "request/reply sequential"),
    requestReply(64, "req-64", "request/reply 64 in flight"),
    idleConnections,
    stalledSubscriber,
    jetstreamPublish("file", 1),
    jetstreamPublish("file", 256),
    jetstreamPublish("file", 1, "interval"),
    jetstreamPublish("file", 256, "interval"),
    jetstreamPublish("memory", 1),
    jetstreamPublish("memory", 256),
    jetstreamConsume,
    ...jetstreamScaleScenarios,
    kvOperations("put", 1),
    kvOperations("put", 64),
    kvOperations("get", 1),
    kvOperations("get", 64),
    kvOperations("put", 1, "memory"),
    kvOperations("put", 64, "memory"),
    kvOperations("put", 1, "file-interval"),
    kvOperations("put", 64, "file-interval"),
    kvCompareAndSet(256),
    kvCompareAndSet(256, "file-interval"),
    kvWatchFanout(8),
    kvKeys,
    kvWatchReplay(1),
    kvWatchReplay(10),
    objectTransfer(16),
    objectTransfer(16, { nexSync: "interval" }),
    objectTransfer(options.quick ? 64 : 1024, { measureMemory: true }),
    objectConcurrentPuts(4, options.quick ? 16 : 256),
    // A quarter of a GiB takes seconds per run on each server; a quick run leaves it out.
    ...(options.quick ? [] : [objectTransfer(256)])
  ]
  if (selected("go-pubsub")) {
    const build = await buildGoBench(workDirectory)
    if ("binary" in build) scenarios.push(goClient(build.binary))
    else log(`go-pubsub: skipped, ${build.skipped}`)
  }
  return scenarios.filter((scenario) => selected(scenario.id))
}

/** Runs `scenario` once on `server`, or on a new server of the same kind when the scenario asks. */
const runOnce = async (scenario: Scenario, server: BenchServer): Promise<ReadonlyArray<Figure>> => {
  if (!scenario.freshServer) return scenario.run(server, budget)
  const fresh = await startBenchServer(server.name)
  try {
    return await scenario.run(fresh, budget)
  } finally {
    await fresh.stop()
  }
}

/** Runs every scenario `runs` times on each live server, alternating which server goes first. */
const measure = async (scenarios: ReadonlyArray<Scenario>): Promise<MetricSamples[]> => {
  const samples = new Map<string, MetricSamples>()
  for (const scenario of scenarios) {
    for (let run = 0; run < runs; run++) {
      const order = run % 2 === 0 ? servers : [...servers].reverse()
      for (const server of order) {
        if (!server.isRunning()) {
          log(`${scenario.id} on ${server.name}: server is no longer running`)
          continue
        }
        try {
          const figures = await runOnce(scenario, server)
          for (const figure of figures) {
            const entry = samplesOf(samples, scenario.title, figure, (): MetricSamples => ({
              scenario: scenario.title,
              metric: figure.metric,
              unit: figure.unit,
              higherIsBetter: figure.higherIsBetter,
              values: { nex: [], "nats-server": [] }
            }))
            entry.values[server.name].push(figure.value)
          }
          log(`${scenario.id} run ${run + 1}/${runs} on ${server.name}: ${figures.map((figure) => `${figure.metric} ${figure.value.toFixed(1)} ${figure.unit}`).join(", ")}`)
        } catch (error) {
          log(`${scenario.id} run ${run + 1}/${runs} on ${server.name}: failed (${error instanceof Error ? error.message : String(error)})`)
        }
      }
    }
  }
  return [...samples.values()]
}

try {
  await startServers()
  if (servers.length === 0) throw new Error("no server to measure")
  const scenarios = await scenarioList()
  log(`scenarios: ${scenarios.map((scenario) => scenario.id).join(", ")}; ${runs} run(s) each; ${options.quick ? "quick" : "full"} budget`)
  const samples = await measure(scenarios)
  const selectedRuntimeScenarios = runtimeScenarios.filter((scenario) => selected(scenario.id))
  const runtimeSamples = await measureRuntime(selectedRuntimeScenarios, runs, runtimeBudget(options.quick), log)
  const memory: MemoryRow[] = (["nex", "nats-server"] as const).map((name) => {
    const server = servers.find((candidate) => candidate.name === name)
    return { server: name, pid: server?.pid, idleBytes: idleRss.get(name) ?? Number.NaN, afterBytes: server?.rssBytes() ?? Number.NaN }
  })
  console.log("")
  for (const [name, reason] of failedToStart) console.log(`${name}: failed to start (${reason})`)
  console.log(renderResults(samples))
  console.log("")
  console.log(renderMemory(memory))
  if (runtimeSamples.length > 0) console.log(`\n${renderRuntime(runtimeSamples, selectedRuntimeScenarios)}`)
} finally {
  await stopAll()
}

/**
 * Benchmarks of the JetStream message stores. Run: `npx node packages/jetstream/bench/store.bench.ts`
 * (add `--quick` for a smaller run). Prints our figures and, where one exists, nats-server's from
 * the same run.
 *
 *   1. append rate, 128 B, 256 concurrent publishers each awaiting its append's durability, per sync policy;
 *      reference: nats-server JetStream async publish, 128 B, 256 in flight, over loopback.
 *      Then one publisher under sync "always", against write + fdatasync alone (its floor).
 *   2. nextMatching scan of 1,000,000 1 KiB messages on 100,000 subjects: unfiltered vs a filter
 *      matching 99 % of them.
 *   3. reopen of that store: after a clean close, after SIGKILL (automatic checkpoints), and with
 *      no checkpoint at all (whole-log replay).
 *   4. RSS per distinct subject (1,000,000 subjects vs 1, in child processes).
 */
import { spawnSync } from "node:child_process"
import { closeSync, fdatasync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { jetstream, jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { startNatsServer, hasNatsServer } from "../../../test/support/index.ts"
import { durabilityWaiter } from "../src/store/durabilityWaiter.ts"
import { compileFilter, type FileMessageStore, type FileStoreOptions, openFileStore, type SyncPolicy } from "../src/store/index.ts"

const quick = process.argv.includes("--quick")
const [command, ...commandArguments] = process.argv.slice(2).filter((argument) => argument !== "--quick")
const scale = quick ? 10 : 1
const largeCount = 1_000_000 / scale
const subjectCount = 100_000 / scale
const matchingSubjects = subjectCount * 0.99

const format = (value: number): string => Math.round(value).toLocaleString("en-US")
const line = (label: string, value: string): void => console.log(`  ${label.padEnd(58)} ${value}`)

const workDirectory = command === undefined ? mkdtempSync(join(tmpdir(), "nex-store-bench-")) : ""

const subjectOf = (index: number): string => {
  const subject = index % subjectCount
  return subject < matchingSubjects ? `a.${subject}` : `b.${subject}`
}

/** Appends `total` 128-byte messages from 256 concurrent publishers, each awaiting its ack. */
const appendRate = async (sync: SyncPolicy, total: number): Promise<number> => {
  const directory = join(workDirectory, `append-${sync}`)
  const store = await openFileStore(directory, { sync })
  const durability = durabilityWaiter(store)
  const payload = new Uint8Array(128).fill(120)
  let issued = 0
  const started = performance.now()
  const publisher = async (): Promise<void> => {
    while (issued < total) {
      issued++
      const result = store.append("bench.append", undefined, payload)
      if (!result.ok) throw new Error(result.description)
      await durability.until(result.seq)
    }
  }
  await Promise.all(Array.from({ length: 256 }, publisher))
  const rate = total / ((performance.now() - started) / 1000)
  await store.close()
  rmSync(directory, { recursive: true, force: true })
  return rate
}

/** Median µs of one append of 128 bytes under sync "always", awaiting its durability before the next. */
const sequentialAppendMedian = async (count: number): Promise<number> => {
  const directory = join(workDirectory, "append-sequential")
  const store = await openFileStore(directory, { sync: "always" })
  const durability = durabilityWaiter(store)
  const payload = new Uint8Array(128).fill(120)
  const samples = new Float64Array(count)
  for (let index = 0; index < count; index++) {
    const started = performance.now()
    const result = store.append("bench.append", undefined, payload)
    if (!result.ok) throw new Error(result.description)
    await durability.until(result.seq)
    samples[index] = performance.now() - started
  }
  await store.close()
  rmSync(directory, { recursive: true, force: true })
  return samples.sort()[count >> 1] * 1000
}

/**
 * Median µs to write one 163-byte record (a 128 B message) and fdatasync it through the thread
 * pool, as the log does: at the end of the file, or into zeros written and synced beforehand.
 */
const fdatasyncMedian = async (count: number, intoZeros: boolean): Promise<number> => {
  const path = join(workDirectory, "fdatasync")
  const descriptor = openSync(path, "w")
  const record = Buffer.alloc(163, 1)
  if (intoZeros) {
    writeSync(descriptor, Buffer.alloc(record.length * count))
    fdatasyncSync(descriptor)
  }
  const samples = new Float64Array(count)
  for (let index = 0; index < count; index++) {
    const started = performance.now()
    writeSync(descriptor, record, 0, record.length, index * record.length)
    await new Promise<void>((resolve, reject) => fdatasync(descriptor, (error) => (error ? reject(error) : resolve())))
    samples[index] = performance.now() - started
  }
  closeSync(descriptor)
  rmSync(path)
  return samples.sort()[count >> 1] * 1000
}

/** nats-server's JetStream publish rate through the official client, 256 publishes in flight. */
const natsServerPublishRate = async (total: number): Promise<number | undefined> => {
  if (!hasNatsServer) return undefined
  const server = await startNatsServer({ jetstream: true })
  const connection = await connect({ servers: server.url })
  try {
    const manager = await jetstreamManager(connection)
    await manager.streams.add({ name: "BENCH", subjects: ["bench.>"] })
    const client = jetstream(connection)
    const payload = new Uint8Array(128).fill(120)
    let issued = 0
    const started = performance.now()
    const publisher = async (): Promise<void> => {
      while (issued < total) {
        issued++
        await client.publish("bench.publish", payload)
      }
    }
    await Promise.all(Array.from({ length: 256 }, publisher))
    return total / ((performance.now() - started) / 1000)
  } finally {
    await connection.close()
    await server.stop()
  }
}

const fillOptions: FileStoreOptions = { sync: "never" }

/**
 * Waits until everything appended is durable and then a turn of the event loop, as appends
 * arriving from the network would: a loop that only awaits promises starves timers and I/O
 * (checkpoints, syncs).
 */
const settleBatch = async (store: FileMessageStore): Promise<void> => {
  await durabilityWaiter(store).until(store.state().lastSeq)
  await new Promise((resolve) => setImmediate(resolve))
}

const fill = async (directory: string, options: FileStoreOptions): Promise<void> => {
  const store = await openFileStore(directory, options)
  const payload = new Uint8Array(1024).fill(97)
  for (let index = 0; index < largeCount; index++) {
    const result = store.append(subjectOf(index), undefined, payload)
    if (!result.ok) throw new Error(result.description)
    if (index % 10_000 === 9_999) await settleBatch(store)
  }
  await store.flush()
  return store.close()
}

/** Child process: fills a store and dies by SIGKILL without closing it. */
const fillAndDie = async (directory: string, withCheckpoints: boolean): Promise<void> => {
  const store = await openFileStore(directory, { ...fillOptions, checkpointBytes: withCheckpoints ? undefined : Number.POSITIVE_INFINITY })
  const payload = new Uint8Array(1024).fill(97)
  for (let index = 0; index < largeCount; index++) {
    const result = store.append(subjectOf(index), undefined, payload)
    if (!result.ok) throw new Error(result.description)
    if (index % 10_000 === 9_999) await settleBatch(store)
  }
  // Let the last batch reach the page cache, as an acknowledged publish would have.
  await new Promise((resolve) => setImmediate(resolve))
  await new Promise((resolve) => setImmediate(resolve))
  process.kill(process.pid, "SIGKILL")
}

/** Child process: RSS growth for `count` messages on `distinct` subjects (`count` or 1). */
const measureRss = async (directory: string, count: number, distinct: number): Promise<void> => {
  const collect = (globalThis as { gc?: () => void }).gc!
  const store = await openFileStore(directory, { sync: "never" })
  collect()
  const before = process.memoryUsage()
  const payload = new Uint8Array(16)
  const only = "sensor.0000000.temp"
  for (let index = 0; index < count; index++) {
    // Both runs build the same strings, so the garbage (and the young generation) is alike.
    const subject = `sensor.${index.toString().padStart(7, "0")}.temp`
    const result = store.append(distinct === 1 ? only : subject, undefined, payload)
    if (!result.ok) throw new Error(result.description)
    if (index % 50_000 === 49_999) await settleBatch(store)
  }
  await store.flush()
  collect()
  collect()
  const after = process.memoryUsage()
  console.log(
    JSON.stringify({
      rss: after.rss - before.rss,
      arrays: after.arrayBuffers - before.arrayBuffers,
      subjects: store.state().numSubjects
    })
  )
  process.exit(0)
}

const child = (args: ReadonlyArray<string>, exposeGc = false): { status: number | null; signal: string | null; output: string } => {
  const flags = [...(exposeGc ? ["--expose-gc"] : []), import.meta.filename, ...args, ...(quick ? ["--quick"] : [])]
  const result = spawnSync(process.execPath, flags, {
    encoding: "utf8",
    timeout: 600_000
  })
  return { status: result.status, signal: result.signal, output: result.stdout + result.stderr }
}

const timeReopen = async (directory: string): Promise<{ ms: number; replayed: number; checkpoint: boolean; messages: number }> => {
  const started = performance.now()
  const store = await openFileStore(directory)
  const ms = performance.now() - started
  const messages = store.state().messages
  const first = store.get(store.state().firstSeq)
  if (first === undefined) throw new Error("reopened store does not serve its first message")
  const report = { ms, replayed: store.recovery.replayedRecords, checkpoint: store.recovery.checkpointLoaded, messages }
  await store.close()
  return report
}

const main = async (): Promise<void> => {
  console.log(`store benchmarks${quick ? " (quick)" : ""}, work directory ${workDirectory}`)

  console.log("\n1. append, 128 B, 256 concurrent publishers awaiting durable")
  const appendTotal = quick ? 20_000 : 200_000
  const rates = new Map<SyncPolicy, number>()
  for (const sync of ["always", "interval", "never"] as const) {
    rates.set(sync, await appendRate(sync, appendTotal))
    line(`sync ${sync}`, `${format(rates.get(sync)!)} msgs/s`)
  }
  const sequentialTotal = quick ? 1000 : 5000
  line("sync always, one publisher awaiting each append, median", `${(await sequentialAppendMedian(sequentialTotal)).toFixed(0)} µs`)
  line("  write + fdatasync at the end of a file, median", `${(await fdatasyncMedian(sequentialTotal, false)).toFixed(0)} µs`)
  line("  write + fdatasync into zeros laid down before, median", `${(await fdatasyncMedian(sequentialTotal, true)).toFixed(0)} µs`)
  const reference = await natsServerPublishRate(quick ? 10_000 : 50_000)
  if (reference !== undefined) {
    line("nats-server 2.9 JS publish over loopback (reference)", `${format(reference)} msgs/s`)
    line("store sync always / nats-server end-to-end", `${(rates.get("always")! / reference).toFixed(1)}x`)
  }

  console.log(`\n2. scan of ${format(largeCount)} x 1 KiB messages on ${format(subjectCount)} subjects`)
  const large = join(workDirectory, "large")
  let started = performance.now()
  await fill(large, fillOptions)
  line("fill (sync never, then flush and close)", `${format(largeCount / ((performance.now() - started) / 1000))} msgs/s`)
  const store = await openFileStore(large)
  const scan = (filter: ReturnType<typeof compileFilter> | undefined): { rate: number; count: number } => {
    const begin = performance.now()
    let count = 0
    for (let message = store.nextMatching(0, filter); message !== undefined; message = store.nextMatching(message.seq + 1, filter)) count++
    return { rate: count / ((performance.now() - begin) / 1000), count }
  }
  scan(undefined)
  const unfiltered = scan(undefined)
  const filtered = scan(compileFilter("a.*"))
  const filteredSeqs = (() => {
    const filter = compileFilter("a.*")
    const begin = performance.now()
    let count = 0
    for (let seq = store.nextMatchingSeq(0, filter); seq !== undefined; seq = store.nextMatchingSeq(seq + 1, filter)) count++
    return count / ((performance.now() - begin) / 1000)
  })()
  line("unfiltered nextMatching (loads every message)", `${format(unfiltered.rate)} msgs/s (${format(unfiltered.count)})`)
  line(`filter "a.*" matching 99 % (loads matches only)`, `${format(filtered.rate)} msgs/s (${format(filtered.count)})`)
  line("filtered / unfiltered (target >= 0.8)", `${(filtered.rate / unfiltered.rate).toFixed(2)}x`)
  line(`filter "a.*", sequences only (nextMatchingSeq)`, `${format(filteredSeqs)} seqs/s`)
  let begin = performance.now()
  const pending = store.numPending(1, "a.*")
  line("numPending(1, \"a.*\")", `${(performance.now() - begin).toFixed(2)} ms (${format(pending)})`)
  begin = performance.now()
  const pendingMiddle = store.numPending(Math.floor(largeCount / 2), "a.*")
  line("numPending(middle, \"a.*\")", `${(performance.now() - begin).toFixed(2)} ms (${format(pendingMiddle)})`)
  await store.close()

  console.log(`\n3. reopen of ${format(largeCount)} x 1 KiB messages (target <= 2000 ms)`)
  const clean = await timeReopen(large)
  line("after a clean close (checkpoint)", `${clean.ms.toFixed(0)} ms, replayed ${format(clean.replayed)} records`)
  for (const withCheckpoints of [true, false]) {
    const directory = join(workDirectory, `killed-${withCheckpoints}`)
    const outcome = child(["fill-and-die", directory, String(withCheckpoints)])
    if (outcome.signal !== "SIGKILL") throw new Error(`fill child did not die by SIGKILL: ${outcome.output}`)
    const killed = await timeReopen(directory)
    if (killed.messages !== largeCount) throw new Error(`expected ${largeCount} messages after SIGKILL, got ${killed.messages}`)
    line(
      withCheckpoints ? "after SIGKILL (automatic checkpoints, tail replay)" : "after SIGKILL with no checkpoint (whole-log replay)",
      `${killed.ms.toFixed(0)} ms, replayed ${format(killed.replayed)} records`
    )
    rmSync(directory, { recursive: true, force: true })
  }
  rmSync(large, { recursive: true, force: true })

  console.log("\n4. index memory per distinct subject (target <= 100 B)")
  const rssCount = quick ? 100_000 : 1_000_000
  const measure = (distinct: number): { rss: number; arrays: number } => {
    const directory = join(workDirectory, `rss-${distinct}`)
    const outcome = child(["rss", directory, String(rssCount), String(distinct)], true)
    rmSync(directory, { recursive: true, force: true })
    return JSON.parse(outcome.output.trim().split("\n").pop()!) as { rss: number; arrays: number }
  }
  const many = measure(rssCount)
  const one = measure(1)
  line(`RSS growth, ${format(rssCount)} messages on ${format(rssCount)} subjects`, `${format(many.rss / 1e6)} MB`)
  line(`RSS growth, ${format(rssCount)} messages on 1 subject`, `${format(one.rss / 1e6)} MB`)
  line("RSS per distinct subject (includes V8 heap sizing noise)", `${((many.rss - one.rss) / rssCount).toFixed(1)} B`)
  line("index arrays per distinct subject (ArrayBuffer bytes)", `${((many.arrays - one.arrays) / rssCount).toFixed(1)} B`)
  line("index arrays per message (1 subject)", `${(one.arrays / rssCount).toFixed(1)} B`)
}

try {
  if (command === "fill-and-die") await fillAndDie(commandArguments[0], commandArguments[1] === "true")
  else if (command === "rss") await measureRss(commandArguments[0], Number(commandArguments[1]), Number(commandArguments[2]))
  else await main()
} finally {
  if (command === undefined) rmSync(workDirectory, { recursive: true, force: true })
}

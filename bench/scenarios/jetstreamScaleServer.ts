import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { setTimeout as sleep } from "node:timers/promises"
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream"
import { connect, type NatsConnection } from "@nats-io/transport-node"
import { natsServerBinary } from "../../test/support/natsServer.ts"
import { nexBundle, repoRoot } from "../../test/support/nexNode.ts"
import { freePort } from "../../test/support/ports.ts"
import { type Spawned, spawnProcess, waitForPort } from "../../test/support/process.ts"
import { tempDir } from "../../test/support/tempdir.ts"
import { residentBytes, type ServerName } from "../BenchServer.ts"

// A node recovering a large store may open its port later than startNex's 10 s wait allows.
const startTimeoutMs = 120_000

/** A JetStream server process on a store directory and port of our choosing, so it can be restarted on both. */
export interface ScaleServer {
  readonly name: ServerName
  readonly url: string
  readonly pid: number
  /** Resident set size in bytes, or NaN once the process is gone. */
  readonly rssBytes: () => number
  /** User plus system CPU time the process has used, in seconds. */
  readonly cpuSeconds: () => number
  /** Sends `signal` to this process (by PID) and waits for it to exit. */
  readonly stop: (signal?: NodeJS.Signals) => Promise<void>
}

let clockTicksPerSecond: number | undefined

const readCpuSeconds = (pid: number): number => {
  clockTicksPerSecond ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim())
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  // The command name in parentheses may hold spaces; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond
}

const spawnServer = (name: ServerName, storeDir: string, port: number): Spawned => {
  if (name === "nex") {
    // The bundle, as `npm start` runs it; bench/run.ts rebuilds it before any scenario runs.
    // Without the workload runtime, as every JetStream scenario: an idle runtime costs the node
    // about 0.4 % of a core on its own, which the idle-consumers scenario would count.
    const args = [nexBundle, "up", "--host", "127.0.0.1", "--port", String(port), "--store", storeDir, "--http-port", "0", "--no-runtime"]
    return spawnProcess(process.execPath, args, { cwd: repoRoot })
  }
  if (natsServerBinary === undefined) throw new Error("n/a: nats-server is not installed")
  return spawnProcess(natsServerBinary, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir])
}

/** Starts `name` with JetStream on `storeDir` and `port`, resolving once the port accepts connections. */
export const startScaleServer = async (name: ServerName, storeDir: string, port: number): Promise<ScaleServer> => {
  const spawned = spawnServer(name, storeDir, port)
  const pid = spawned.child.pid
  try {
    if (pid === undefined) throw new Error("no pid")
    await waitForPort(port, startTimeoutMs)
  } catch (error) {
    await spawned.stop("SIGKILL")
    throw new Error(`${name} did not start: ${spawned.output()}`, { cause: error })
  }
  return {
    name,
    url: `nats://127.0.0.1:${port}`,
    pid,
    rssBytes: () => residentBytes(pid),
    cpuSeconds: () => readCpuSeconds(pid),
    stop: spawned.stop
  }
}

export interface ScaleContext {
  readonly server: ScaleServer
  readonly connection: NatsConnection
  readonly manager: JetStreamManager
  readonly storeDir: string
  readonly port: number
}

/**
 * Runs `use` against a server of the given kind started for this run alone, on a temp store that
 * is removed afterwards. `use` may stop the server and start another on the same store and port,
 * returning it through `replace` so that it is the one stopped at the end.
 */
export const withScaleServer = async <A>(
  name: ServerName,
  use: (context: ScaleContext, replace: (server: ScaleServer) => void) => Promise<A>
): Promise<A> => {
  const store = tempDir(`${name}-scale-`)
  const port = await freePort()
  let current: ScaleServer | undefined
  try {
    current = await startScaleServer(name, store.path, port)
    const connection = await connect({ servers: current.url })
    try {
      const manager = await jetstreamManager(connection)
      return await use({ server: current, connection, manager, storeDir: store.path, port }, (server) => (current = server))
    } finally {
      if (!connection.isClosed()) await connection.close()
    }
  } finally {
    await current?.stop("SIGTERM")
    store.remove()
  }
}

/** Lets a server finish the work a burst of requests left behind before its CPU or memory is read. */
export const settle = (): Promise<void> => sleep(1000)

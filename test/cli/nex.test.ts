import { type ChildProcess, spawn } from "node:child_process"
import { writeFileSync } from "node:fs"
import { createServer, type Server } from "node:net"
import { join } from "node:path"
import { afterEach, beforeAll, describe, expect, it } from "vitest"
import { buildCli } from "../../scripts/build-cli.ts"
import { eventually, freePort, nexEntry, repoRoot, tempDir } from "../support/index.ts"

const nexBin = join(repoRoot, "packages", "cli", "bin", "nex.js")

interface NexProcess {
  readonly child: ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  readonly exited: Promise<number | null>
  /** The JSON log lines printed so far. */
  readonly logs: () => Array<Record<string, unknown>>
}

const started = new Set<ChildProcess>()
const cleanups: Array<() => void> = []

const runNex = (entry: string, args: ReadonlyArray<string>): NexProcess => {
  const store = tempDir("nex-up-")
  cleanups.push(store.remove)
  const child = spawn(process.execPath, [entry, "up", "--store", store.path, ...args], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] })
  started.add(child)
  let stdout = ""
  let stderr = ""
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)))
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    logs: () =>
      stdout
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>)
  }
}

const waitUntilReady = async (node: NexProcess): Promise<Record<string, unknown>> =>
  eventually(
    () => {
      if (node.child.exitCode !== null) throw new Error(`nex up exited: ${node.stderr()}`)
      const ready = node.logs().find((line) => line.message === "node ready")
      expect(ready).toBeDefined()
      return ready!
    },
    { timeout: 15_000 }
  )

const exitWithin = async (node: NexProcess, milliseconds = 15_000): Promise<number | null> => {
  const timer = setTimeout(() => node.child.kill("SIGKILL"), milliseconds)
  try {
    return await node.exited
  } finally {
    clearTimeout(timer)
  }
}

const occupy = (port: number): Promise<Server> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(port, "127.0.0.1", () => resolve(server))
  })

beforeAll(() => buildCli(), 60_000)

afterEach(() => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
  started.clear()
  cleanups.splice(0).forEach((cleanup) => cleanup())
})

describe("nex up", () => {
  it("logs one JSON line when ready, serves monitoring, and stops cleanly on SIGTERM", async () => {
    const [port, httpPort] = [await freePort(), await freePort()]
    const node = runNex(nexEntry, ["--host", "127.0.0.1", "--port", String(port), "--http-port", String(httpPort)])
    const ready = await waitUntilReady(node)
    expect(ready).toMatchObject({ level: "info", url: `nats://127.0.0.1:${port}`, monitoring: `http://127.0.0.1:${httpPort}` })
    const health = await fetch(`http://127.0.0.1:${httpPort}/healthz`)
    expect(health.status).toBe(200)
    node.child.kill("SIGTERM")
    expect(await exitWithin(node)).toBe(0)
    expect(node.logs().map((line) => line.message)).toContain("node stopping")
    expect(node.stderr()).toBe("")
  })

  it("runs from the bundled bin launcher and stops on SIGINT", async () => {
    const port = await freePort()
    const node = runNex(nexBin, ["--port", String(port), "--http-port", "0"])
    const ready = await waitUntilReady(node)
    expect(ready.url).toBe(`nats://127.0.0.1:${port}`)
    expect(ready).not.toHaveProperty("monitoring")
    node.child.kill("SIGINT")
    expect(await exitWithin(node)).toBe(0)
  })

  it("lets flags override the config file", async () => {
    const directory = tempDir("nex-up-config-")
    cleanups.push(directory.remove)
    const configFile = join(directory.path, "node.config.ts")
    const [configPort, flagPort] = [await freePort(), await freePort()]
    writeFileSync(configFile, `export default { server: { port: ${configPort}, serverName: "from-config" }, monitoring: { port: 0 } }\n`)
    const node = runNex(nexEntry, ["--config", configFile, "--port", String(flagPort)])
    expect((await waitUntilReady(node)).url).toBe(`nats://127.0.0.1:${flagPort}`)
    node.child.kill("SIGTERM")
    expect(await exitWithin(node)).toBe(0)
  })

  it("says in one line that the port is in use, and exits 1", async () => {
    const port = await freePort()
    const blocker = await occupy(port)
    try {
      const node = runNex(nexEntry, ["--port", String(port), "--http-port", "0"])
      expect(await exitWithin(node)).toBe(1)
      expect(node.stderr()).toBe(`nex up: 127.0.0.1:${port} is already in use (is another node running? use --port)\n`)
    } finally {
      blocker.close()
    }
  })

  it("names the file and field of an invalid config, and exits 1", async () => {
    const directory = tempDir("nex-up-config-")
    cleanups.push(directory.remove)
    const configFile = join(directory.path, "bad.config.ts")
    writeFileSync(configFile, 'export default { jetstream: { sync: "sometimes" } }\n')
    const node = runNex(nexEntry, ["--config", configFile])
    expect(await exitWithin(node)).toBe(1)
    expect(node.stderr()).toBe(`nex up: ${configFile}: jetstream.sync: expected one of "always", "interval", "never"\n`)
  })

  it("rejects a bad --port value in one line naming the flag", async () => {
    const node = runNex(nexEntry, ["--port", "70000"])
    expect(await exitWithin(node)).toBe(1)
    expect(node.stderr()).toBe('nex up: --port: expected a number from 0 to 65535, got "70000"\n')
  })
})

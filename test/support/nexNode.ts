import { join } from "node:path"
import type { Target } from "./natsServer.ts"
import { freePort } from "./ports.ts"
import { spawnProcess, waitForPort } from "./process.ts"
import { tempDir } from "./tempdir.ts"

export const repoRoot = join(import.meta.dirname, "..", "..")
export const nexEntry = join(repoRoot, "packages", "cli", "src", "nex.ts")
/** The esbuild bundle `npm install` builds: what `npm start` runs. */
export const nexBundle = join(repoRoot, "packages", "cli", "dist", "nex.mjs")

export interface NexNodeOptions {
  readonly httpPort?: boolean
  /** A config file for `--config` (a nex.config.ts-style module). */
  readonly configFile?: string
  readonly args?: ReadonlyArray<string>
  readonly env?: NodeJS.ProcessEnv
  /** Run the bundle instead of the TypeScript source (benchmarks measure what users run). */
  readonly bundled?: boolean
  /** Keep JetStream data here (not removed on stop), e.g. to restart a node on the same store. */
  readonly storeDir?: string
  /** Reuse a port, e.g. when restarting a node. */
  readonly port?: number
  /** Start the workload runtime too (off by default: most tests need only the broker and JetStream). */
  readonly runtime?: boolean
}

/** Starts `nex up` in its own process on a free loopback port, with a temp store. */
export const startNex = async (options: NexNodeOptions = {}): Promise<Target> => {
  const port = options.port ?? (await freePort())
  const httpPort = options.httpPort ? await freePort() : undefined
  const store = options.storeDir === undefined ? tempDir("nex-node-") : { path: options.storeDir, remove: () => {} }
  const args = [options.bundled ? nexBundle : nexEntry, "up", "--host", "127.0.0.1", "--port", String(port), "--store", store.path]
  args.push("--http-port", String(httpPort ?? 0))
  if (options.configFile !== undefined) args.push("--config", options.configFile)
  if (options.runtime !== true) args.push("--no-runtime")
  args.push(...(options.args ?? []))
  const process = spawnProcess(globalThis.process.execPath, args, { env: options.env, cwd: repoRoot })
  try {
    await waitForPort(port)
    if (httpPort !== undefined) await waitForPort(httpPort)
  } catch (error) {
    await process.stop("SIGKILL")
    store.remove()
    throw new Error(`nex up did not start: ${process.output()}`, { cause: error })
  }
  return {
    name: "nex",
    port,
    url: `nats://127.0.0.1:${port}`,
    httpPort,
    process,
    stop: async () => {
      await process.stop("SIGTERM")
      store.remove()
    }
  }
}

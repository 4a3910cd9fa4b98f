import { existsSync } from "node:fs"
import { freePort } from "./ports.ts"
import { spawnProcess, type Spawned, waitForPort } from "./process.ts"
import { tempDir } from "./tempdir.ts"

/** Debian's nats-server, the reference every differential test compares against. */
export const natsServerBinary = ["/usr/sbin/nats-server", "/usr/bin/nats-server"].find((path) => existsSync(path))
export const hasNatsServer = natsServerBinary !== undefined

export interface Target {
  readonly name: "nex" | "nats-server"
  readonly port: number
  readonly url: string
  readonly httpPort?: number | undefined
  readonly process: Spawned
  readonly stop: () => Promise<void>
}

export interface NatsServerOptions {
  readonly jetstream?: boolean
  readonly httpPort?: boolean
  /** Extra command-line arguments, e.g. ["--user", "a", "--pass", "b"]. */
  readonly args?: ReadonlyArray<string>
}

/** Starts nats-server on a free loopback port (with -js and a temp store when asked). */
export const startNatsServer = async (options: NatsServerOptions = {}): Promise<Target> => {
  if (natsServerBinary === undefined) throw new Error("nats-server is not installed (apt-get install nats-server)")
  const port = await freePort()
  const httpPort = options.httpPort ? await freePort() : undefined
  const store = tempDir("nats-server-")
  const args = ["-a", "127.0.0.1", "-p", String(port)]
  if (httpPort !== undefined) args.push("-m", String(httpPort))
  if (options.jetstream) args.push("-js", "-sd", store.path)
  args.push(...(options.args ?? []))
  const process = spawnProcess(natsServerBinary, args)
  try {
    await waitForPort(port)
    if (httpPort !== undefined) await waitForPort(httpPort)
  } catch (error) {
    await process.stop("SIGKILL")
    store.remove()
    throw new Error(`nats-server did not start: ${process.output()}`, { cause: error })
  }
  return {
    name: "nats-server",
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

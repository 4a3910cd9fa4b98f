import { connect } from "@nats-io/transport-node"
import { eventually } from "./eventually.ts"
import { natsServerBinary } from "./natsServer.ts"
import { freePort } from "./ports.ts"
import { spawnProcess, type Spawned, waitForPort } from "./process.ts"
import { tempDir } from "./tempdir.ts"

export interface ClusterServer {
  readonly name: string
  readonly port: number
  readonly url: string
  readonly clusterPort: number
  readonly storeDir: string
  process: Spawned
}

export interface NatsCluster {
  readonly servers: ReadonlyArray<ClusterServer>
  /** Every client URL, comma separated (what `nex up --nats` takes). */
  readonly urls: string
  /** Kills one server at once (SIGKILL), as a crash would. */
  readonly kill: (index: number) => Promise<void>
  readonly stop: () => Promise<void>
}

const argumentsOf = (server: Omit<ClusterServer, "process">, routes: string) => [
  "-a", "127.0.0.1",
  "-p", String(server.port),
  "--cluster", `nats://127.0.0.1:${server.clusterPort}`,
  "--cluster_name", "c",
  "--routes", routes,
  "--server_name", server.name,
  "-js", "-sd", server.storeDir
]

/** Resolves once JetStream answers $JS.API.INFO through `url`, i.e. the cluster elected a meta leader. */
const waitForJetStream = async (url: string, timeout: number): Promise<void> => {
  const connection = await connect({ servers: url, name: "cluster probe" })
  try {
    await eventually(
      async () => {
        const reply = await connection.request("$JS.API.INFO", "", { timeout: 1000 })
        const body = reply.json<{ error?: { description: string } }>()
        if (body.error !== undefined) throw new Error(body.error.description)
      },
      { timeout, interval: 200 }
    )
  } finally {
    await connection.close()
  }
}

/** Starts `size` nats-server processes (Debian's) clustered on loopback ports, with clustered JetStream. */
export const startNatsCluster = async (size = 3, options: { readonly timeout?: number } = {}): Promise<NatsCluster> => {
  if (natsServerBinary === undefined) throw new Error("nats-server is not installed (apt-get install nats-server)")
  const binary = natsServerBinary
  const store = tempDir("nats-cluster-")
  const layout: Array<Omit<ClusterServer, "process">> = []
  for (let index = 0; index < size; index++) {
    const port = await freePort()
    layout.push({ name: `n${index + 1}`, port, url: `nats://127.0.0.1:${port}`, clusterPort: await freePort(), storeDir: `${store.path}/n${index + 1}` })
  }
  const routes = layout.map((server) => `nats://127.0.0.1:${server.clusterPort}`).join(",")
  const servers: Array<ClusterServer> = layout.map((server) => ({ ...server, process: spawnProcess(binary, argumentsOf(server, routes)) }))
  const stop = async () => {
    await Promise.all(servers.map((server) => server.process.stop("SIGKILL")))
    store.remove()
  }
  try {
    await Promise.all(servers.map((server) => waitForPort(server.port)))
    await waitForJetStream(servers[0].url, options.timeout ?? 20_000)
  } catch (error) {
    const output = servers.map((server) => `${server.name}: ${server.process.output().slice(-2000)}`).join("\n")
    await stop()
    throw new Error(`the nats-server cluster did not start:\n${output}`, { cause: error })
  }
  return {
    servers,
    urls: servers.map((server) => server.url).join(","),
    kill: (index) => servers[index].process.stop("SIGKILL"),
    stop
  }
}

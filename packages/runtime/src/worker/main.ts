import { connect } from "@nats-io/transport-node"
import { periodClaim } from "./PeriodClaim.ts"
import { SandboxHost } from "./SandboxHost.ts"
import type { NodeToWorker, WorkerEnvironment, WorkerToNode } from "./WorkerProtocol.ts"

/**
 * The sandbox host process: forked by the node with `--no-node-snapshot` and an advanced-serialization
 * IPC channel. It connects to NATS itself, runs the workloads the node starts, heartbeats each
 * second that its figures changed, and exits 0 after a "shutdown". A catastrophic isolate error
 * (V8 lost control: the isolate's thread is parked forever) is reported, then the process
 * aborts: `process.exit` would hang.
 */
const warn = (message: string): void => void process.stderr.write(`nex sandbox ${process.pid}: ${message}\n`)

if (process.send === undefined) {
  warn("must be started by the node (child_process.fork with an IPC channel)")
  process.exit(2)
}

const environment = process.env as Partial<WorkerEnvironment>
const url = environment.NEX_NATS_URL
const node = environment.NEX_NODE_NAME ?? "node"
if (url === undefined || url === "") {
  warn("NEX_NATS_URL is not set")
  process.exit(2)
}

const send = (message: WorkerToNode): void => {
  if (process.connected) process.send?.(message)
}

let aborting = false
const abortAfterMs = 100
const onCatastrophicError = (owner: string | undefined, message: string): void => {
  if (aborting) return
  aborting = true
  warn(`catastrophic isolate error in ${owner ?? "a spare isolate"}: ${message}; aborting`)
  send({ type: "isolateLost", name: owner ?? "", reason: `catastrophic: ${message}` })
  // Gives the report and in-flight replies of other workloads a moment, then ends at once.
  setTimeout(() => process.abort(), abortAfterMs)
}

process.on("unhandledRejection", (reason) => warn(`unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`))

const connection = await connect({
  servers: url.split(",").map((server) => server.trim()),
  user: environment.NEX_NATS_USER,
  pass: environment.NEX_NATS_PASSWORD,
  token: environment.NEX_NATS_TOKEN,
  name: `nex-sandbox ${node} ${process.pid}`,
  maxReconnectAttempts: -1
}).catch((error: unknown) => {
  warn(`cannot connect to ${url}: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})

const periodClaimOption = environment.NEX_CLUSTER === "1" ? { periodClaim: periodClaim(connection, node) } : {}
const host = await SandboxHost.start({ connection, node, send, onCatastrophicError, onWarning: warn, ...periodClaimOption })

// Sent only when it changed: an idle host's is the same every second, and each one costs the
// node's main thread an IPC read and a supervisor command.
let lastHeartbeat = ""
const heartbeat = setInterval(() => {
  const beat = host.heartbeat()
  const text = JSON.stringify(beat)
  if (text === lastHeartbeat) return
  lastHeartbeat = text
  send(beat)
}, 1000)

const shutdown = async (): Promise<void> => {
  clearInterval(heartbeat)
  await host.shutdown()
  process.exit(0)
}

process.on("message", (message: NodeToWorker) => {
  if (aborting) return
  if (message.type === "shutdown") void shutdown()
  else void host.handle(message)
})
// The node is gone (or closed the channel): nothing will ever stop these workloads otherwise.
process.on("disconnect", () => void shutdown())
process.on("SIGTERM", () => void shutdown())

send({ type: "ready", pid: process.pid })

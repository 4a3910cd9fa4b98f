import { type ChildProcess, fork } from "node:child_process"
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import type { DeploymentSpec, DeploymentSpecInput } from "../../src/DeploymentSpec.ts"
import type { NodeToWorker, WorkerToNode } from "../../src/worker/WorkerProtocol.ts"

export const workerEntry = join(import.meta.dirname, "..", "..", "src", "worker", "main.ts")

/** A workload module from fixtures/ as the string the node would send. */
export const fixture = (name: string): string => readFileSync(join(import.meta.dirname, "fixtures", `${name}.js`), "utf8")

/** A deployment spec with the required bookkeeping fields filled in. */
export const specFor = (name: string, code: string, overrides: Partial<DeploymentSpecInput> = {}): DeploymentSpecInput => ({
  name,
  revision: 1,
  bundle: { sha256: createHash("sha256").update(code).digest("hex"), size: Buffer.byteLength(code) },
  deployedAt: new Date().toISOString(),
  ...overrides
})

type Exit = { readonly code: number | null; readonly signal: NodeJS.Signals | null }
type Started = Extract<WorkerToNode, { type: "started" | "startFailed" }>

/** A sandbox host process forked as the node forks it, with its IPC messages recorded. */
export class WorkerProcess {
  readonly child: ChildProcess
  readonly messages: WorkerToNode[] = []
  readonly exited: Promise<Exit>
  #output = ""
  #listeners = new Set<() => void>()

  private constructor(natsUrl: string, node: string) {
    this.child = fork(workerEntry, [], {
      execArgv: ["--no-node-snapshot"],
      serialization: "advanced",
      env: { NEX_NATS_URL: natsUrl, NEX_NODE_NAME: node },
      stdio: ["ignore", "pipe", "pipe", "ipc"]
    })
    this.child.stdout?.on("data", (chunk: Buffer) => (this.#output += chunk.toString()))
    this.child.stderr?.on("data", (chunk: Buffer) => (this.#output += chunk.toString()))
    this.child.on("message", (message: WorkerToNode) => {
      this.messages.push(message)
      for (const listener of this.#listeners) listener()
    })
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal })))
  }

  static async start(natsUrl: string, node = "test-node"): Promise<WorkerProcess> {
    const worker = new WorkerProcess(natsUrl, node)
    await worker.waitFor((message) => message.type === "ready", 15_000)
    return worker
  }

  get output(): string {
    return this.#output
  }

  get isRunning(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  send(message: NodeToWorker): void {
    this.child.send(message)
  }

  /** Sends `start` and resolves with the worker's answer for that revision. */
  async startWorkload(spec: DeploymentSpecInput, code: string): Promise<Started> {
    const revision = spec.revision
    const seen = this.messages.length
    this.send({ type: "start", spec: spec as DeploymentSpec, code })
    return (await this.waitFor(
      (message) => (message.type === "started" || message.type === "startFailed") && message.name === spec.name && message.revision === revision,
      15_000,
      seen
    )) as Started
  }

  /** Starts a workload and fails unless it started. */
  async deploy(spec: DeploymentSpecInput, code: string): Promise<void> {
    const answer = await this.startWorkload(spec, code)
    if (answer.type !== "started") throw new Error(`${spec.name} did not start: ${answer.reason}`)
  }

  /** The first message (from index `from`) that matches, waiting up to `timeout` ms. */
  waitFor(predicate: (message: WorkerToNode) => boolean, timeout = 5000, from = 0): Promise<WorkerToNode> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.messages.slice(from).find(predicate)
        if (found === undefined) return false
        cleanup()
        resolve(found)
        return true
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`no matching message from the worker within ${timeout} ms; got ${JSON.stringify(this.messages.map((m) => m.type))}\n${this.#output}`))
      }, timeout)
      const cleanup = () => {
        clearTimeout(timer)
        this.#listeners.delete(listener)
      }
      const listener = () => void check()
      this.#listeners.add(listener)
      check()
    })
  }

  /** Asks for a shutdown and waits for the exit; kills the process (by its PID) if it does not exit in time. */
  async stop(): Promise<Exit> {
    if (this.isRunning) {
      if (this.child.connected) this.send({ type: "shutdown" })
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000)
      const exit = await this.exited
      clearTimeout(timer)
      return exit
    }
    return this.exited
  }
}

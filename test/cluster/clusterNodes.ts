import type { NatsConnection } from "@nats-io/transport-node"
import { Api, subjects } from "@nex/runtime"
import { join } from "node:path"
import { eventually, nexEntry, repoRoot, spawnProcess, type Spawned } from "../support/index.ts"

export const nodeConfig = join(import.meta.dirname, "fixtures", "node.config.ts")

/** Where each replica of the workload runs, and its state, as `nex info` reports it. */
export const replicaStatuses = async (connection: NatsConnection, name: string, timeout = 5000): Promise<ReadonlyArray<Api.ReplicaStatus>> => {
  const reply = Api.InfoResponse.parse((await connection.request(subjects.api.info, JSON.stringify({ name }), { timeout })).json())
  return reply.status.placements ?? []
}

export interface ClusterNodeProcess {
  readonly name: string
  readonly process: Spawned
}

/** Starts `nex up --nats <urls> --name <name>` (one sandbox process) and waits until it logs "node ready". */
export const startClusterNode = async (nats: string, name: string, args: ReadonlyArray<string> = []): Promise<ClusterNodeProcess> => {
  const process = spawnProcess(globalThis.process.execPath, [nexEntry, "up", "--nats", nats, "--name", name, "--config", nodeConfig, ...args], { cwd: repoRoot })
  try {
    await eventually(() => {
      if (process.child.exitCode !== null) throw new Error(`nex up exited with ${process.child.exitCode}`)
      if (!process.output().includes('"message":"node ready"')) throw new Error("not ready yet")
    }, { timeout: 20_000, interval: 100 })
  } catch (error) {
    await process.stop("SIGKILL")
    throw new Error(`nex up --nats did not start: ${process.output()}`, { cause: error })
  }
  return { name, process }
}

export interface LoadResult {
  readonly sent: number
  readonly failures: ReadonlyArray<string>
}

/** Requests `subject` about `perSecond` times a second, without waiting for answers, until stopped. */
export const steadyLoad = (connection: NatsConnection, subject: string, perSecond: number) => {
  const tickMs = 20
  const failures: Array<string> = []
  const pending = new Set<Promise<void>>()
  let sent = 0
  const timer = setInterval(() => {
    for (let index = 0; index < (perSecond * tickMs) / 1000; index++) {
      sent++
      const started = Date.now()
      const request: Promise<void> = connection.request(subject, "", { timeout: 2000 }).then(
        () => undefined,
        (error: Error) => void failures.push(`${error.message} after ${Date.now() - started}ms`)
      )
      pending.add(request)
      void request.finally(() => pending.delete(request))
    }
  }, tickMs)
  return {
    sent: () => sent,
    stop: async (): Promise<LoadResult> => {
      clearInterval(timer)
      await Promise.all(pending)
      return { sent, failures }
    }
  }
}

/** Which nodes answer `subject` (a workload answering with its node's name), over `count` requests. */
export const answering = async (connection: NatsConnection, subject: string, count: number): Promise<Set<string>> => {
  const answers = new Set<string>()
  for (let index = 0; index < count; index++) answers.add((await connection.request(subject, "", { timeout: 2000 })).string())
  return answers
}

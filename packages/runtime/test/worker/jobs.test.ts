import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream"
import { connect, type Msg, type NatsConnection } from "@nats-io/transport-node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { eventually } from "../../../../test/support/eventually.ts"
import { hasNatsServer, startNatsServer, type Target } from "../../../../test/support/natsServer.ts"
import { fixture, specFor, WorkerProcess } from "./WorkerProcess.ts"

interface Done {
  readonly id: string
  readonly attempt: number
  readonly subject: string
}

describe.skipIf(!hasNatsServer)("jobs and schedules", () => {
  let server: Target
  let worker: WorkerProcess
  let client: NatsConnection
  let manager: JetStreamManager
  const done: Done[] = []

  beforeAll(async () => {
    server = await startNatsServer({ jetstream: true })
    client = await connect({ servers: server.url })
    manager = await jetstreamManager(client)
    await manager.streams.add({ name: "JOBS", subjects: ["jobs.>"] })
    client.subscribe("jobs-done", {
      callback: (_error, message) => {
        done.push(message.json())
      }
    })
    worker = await WorkerProcess.start(server.url)
    await worker.deploy(
      specFor("worker-jobs", fixture("jobs"), { job: { stream: "JOBS", filter: "jobs.>", maxAttempts: 3 }, allowPublish: ["jobs-done"] }),
      fixture("jobs")
    )
  })

  afterAll(async () => {
    await client?.close()
    await worker?.stop()
    await server?.stop()
  })

  const consumerSettled = async (): Promise<void> =>
    eventually(async () => {
      const info = await manager.consumers.info("JOBS", "nex-worker-jobs")
      expect(info.num_pending).toBe(0)
      expect(info.num_ack_pending).toBe(0)
    })

  it("consumes a job message once and acks it", async () => {
    await jetstream(client).publish("jobs.ok.1", "first")
    await eventually(() => expect(done.filter((entry) => entry.id === "first")).toHaveLength(1))
    await consumerSettled()
    const info = await manager.consumers.info("JOBS", "nex-worker-jobs")
    expect(info.num_redelivered).toBe(0)
    expect(done.filter((entry) => entry.id === "first")).toEqual([{ id: "first", attempt: 1, subject: "jobs.ok.1" }])
  })

  it("naks a failing message and succeeds on a later attempt", async () => {
    await jetstream(client).publish("jobs.flaky.1", "flaky")
    await eventually(() => expect(done.filter((entry) => entry.id === "flaky")).toHaveLength(1), { timeout: 10_000 })
    expect(done.find((entry) => entry.id === "flaky")?.attempt).toBe(3)
    await consumerSettled()
  })

  it("terminates after maxAttempts and copies the message to NEX_DEAD_LETTERS", async () => {
    const ack = await jetstream(client).publish("jobs.bad.1", "doomed", { headers: undefined })
    await eventually(
      async () => {
        const letter = await manager.streams.getMessage("NEX_DEAD_LETTERS", { last_by_subj: "$NEX.deadletters.worker-jobs" })
        expect(letter?.string()).toBe("doomed")
        expect(letter?.header.get("Nex-Workload")).toBe("worker-jobs")
        expect(letter?.header.get("Nex-Error")).toBe("user_error: bad job doomed")
        expect(letter?.header.get("Nex-Subject")).toBe("jobs.bad.1")
        expect(letter?.header.get("Nex-Sequence")).toBe(String(ack.seq))
        expect(letter?.header.get("Nex-Attempts")).toBe("3")
      },
      { timeout: 10_000, interval: 100 }
    )
    await consumerSettled()
    expect(done.filter((entry) => entry.id === "doomed")).toHaveLength(0)
  })

  it("invokes the handler on its schedule with an empty message", async () => {
    const ticks: Msg[] = []
    const subscription = client.subscribe("ticks", {
      callback: (_error, message) => {
        ticks.push(message)
      }
    })
    await client.flush()
    await worker.deploy(specFor("ticker", fixture("tick"), { schedule: { everyMs: 100 }, allowPublish: ["ticks"] }), fixture("tick"))
    await eventually(() => expect(ticks.length).toBeGreaterThanOrEqual(3), { timeout: 3000 })
    expect(ticks[0].json()).toEqual({ subject: "$NEX.schedule.ticker", count: 1, size: 0 })
    expect(ticks.map((tick) => (tick.json() as { count: number }).count).slice(0, 3)).toEqual([1, 2, 3])
    subscription.unsubscribe()
  })

  it("refuses an impossible cron expression and a job on a missing stream", async () => {
    const cron = await worker.startWorkload(specFor("never", fixture("tick"), { schedule: { cron: "0 0 30 2 *" } }), fixture("tick"))
    expect(cron.type === "startFailed" && cron.reason).toContain("never fires")
    const stream = await worker.startWorkload(specFor("orphan", fixture("jobs"), { job: { stream: "NOPE" } }), fixture("jobs"))
    expect(stream.type === "startFailed" && stream.reason).toContain("job stream 'NOPE' does not exist")
  })
})

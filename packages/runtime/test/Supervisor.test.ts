import { Effect, Exit, Logger, LogLevel, Schedule, Scope } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { eventually } from "../../../test/support/eventually.ts"
import type { WorkloadEvent } from "../src/api.ts"
import { DeploymentSpec, type DeploymentSpecInput } from "../src/DeploymentSpec.ts"
import { makeSupervisor, type Supervisor, type SupervisorOptions } from "../src/Supervisor.ts"
import { scriptedLauncher, type ScriptedLauncherOptions } from "./support/ScriptedLauncher.ts"

const spec = (name: string, revision: number, overrides: Partial<DeploymentSpecInput> = {}): DeploymentSpec =>
  DeploymentSpec.parse({
    name,
    revision,
    bundle: { sha256: "a".repeat(64), size: 10 },
    triggers: [`${name}.>`],
    deployedAt: new Date().toISOString(),
    ...overrides
  })

const scopes: Array<Scope.CloseableScope> = []
afterEach(async () => {
  for (const scope of scopes.splice(0)) await Effect.runPromise(Scope.close(scope, Exit.void))
})

const start = async (launcherOptions: ScriptedLauncherOptions = {}, overrides: Partial<SupervisorOptions> = {}) => {
  const launcher = scriptedLauncher(launcherOptions)
  const events: Array<WorkloadEvent> = []
  const scope = Effect.runSync(Scope.make())
  scopes.push(scope)
  const supervisor: Supervisor = await Effect.runPromise(
    makeSupervisor({
      nodeName: "n1",
      sandboxProcesses: 2,
      environment: { NEX_NATS_URL: "nats://127.0.0.1:1", NEX_NODE_NAME: "n1" },
      respawnSchedule: Schedule.spaced("20 millis"),
      publishEvent: (event) => events.push(event),
      ...overrides
    }).pipe(Scope.extend(scope), Effect.provide(launcher.layer), Logger.withMinimumLogLevel(LogLevel.None))
  )
  const status = async (name: string) => (await Effect.runPromise(supervisor.get(name)))?.status
  const kinds = (name: string) => events.filter((event) => event.name === name).map((event) => `${event.kind}:${event.revision}`)
  await eventually(() => expect(launcher.launched.length).toBe(overrides.sandboxProcesses ?? 2))
  return { launcher, supervisor, events, status, kinds, run: <A>(effect: Effect.Effect<A>) => Effect.runPromise(effect) }
}

describe("Supervisor", () => {
  it("places replicas on different sandbox processes and reports them running", async () => {
    const { launcher, supervisor, status, kinds, run } = await start()
    await run(supervisor.apply(spec("greeter", 1, { replicas: 2 }), "code"))
    await eventually(async () => expect((await status("greeter"))?.state).toBe("running"))
    expect(launcher.current(0).starts()).toEqual([{ name: "greeter", revision: 1 }])
    expect(launcher.current(1).starts()).toEqual([{ name: "greeter", revision: 1 }])
    expect((await status("greeter"))?.replicas).toEqual({ desired: 2, running: 2 })
    expect(kinds("greeter")).toEqual(["deployed:1", "started:1"])
  })

  it("scales the same revision up and down without a new deploy (a cluster moving instances)", async () => {
    const { launcher, supervisor, status, kinds, run } = await start()
    await run(supervisor.apply(spec("greeter", 1, { replicas: 1 }), "code"))
    await eventually(async () => expect((await status("greeter"))?.replicas).toEqual({ desired: 1, running: 1 }))
    await run(supervisor.apply(spec("greeter", 1, { replicas: 2 }), "code"))
    await eventually(async () => expect((await status("greeter"))?.replicas).toEqual({ desired: 2, running: 2 }))
    await run(supervisor.apply(spec("greeter", 1, { replicas: 1 }), "code"))
    await eventually(async () => expect((await status("greeter"))?.replicas).toEqual({ desired: 1, running: 1 }))
    expect([...launcher.current(0).stops(), ...launcher.current(1).stops()]).toEqual(["greeter"])
    expect(kinds("greeter")).toEqual(["deployed:1", "started:1"])
  })

  it("starts a new revision on another process and stops the old one only once the new one answers", async () => {
    const { launcher, supervisor, status, kinds, run } = await start({ autoStart: (message) => message.spec.revision === 1 })
    await run(supervisor.apply(spec("greeter", 1), "v1"))
    await eventually(async () => expect((await status("greeter"))?.state).toBe("running"))
    const [first, second] = [launcher.current(0), launcher.current(1)]
    const old = first.starts().length === 1 ? first : second
    const next = old === first ? second : first

    await run(supervisor.apply(spec("greeter", 2), "v2"))
    await eventually(() => expect(next.starts()).toEqual([{ name: "greeter", revision: 2 }]))
    expect(old.stops()).toEqual([])
    expect(await status("greeter")).toMatchObject({ state: "pending", revision: 2, servingRevision: 1 })

    next.reply({ type: "started", name: "greeter", revision: 2 })
    await eventually(() => expect(old.stops()).toEqual(["greeter"]))
    expect(await status("greeter")).toMatchObject({ state: "running", revision: 2 })
    expect(kinds("greeter")).toEqual(["deployed:1", "started:1", "deployed:2", "started:2"])
  })

  it("keeps the running revision serving when the next one fails to start, and says why", async () => {
    const { launcher, supervisor, status, events, run } = await start({ autoStart: (message) => message.spec.revision === 1 })
    await run(supervisor.apply(spec("greeter", 1), "v1"))
    await eventually(async () => expect((await status("greeter"))?.state).toBe("running"))
    await run(supervisor.apply(spec("greeter", 2), "v2"))
    const target = await eventually(() => {
      const found = launcher.launched.find((process) => process.starts().some((started) => started.revision === 2))
      expect(found).toBeDefined()
      return found!
    })
    target.reply({ type: "startFailed", name: "greeter", revision: 2, reason: "index.ts:3:7: Unexpected \"}\"" })
    await eventually(async () => expect(await status("greeter")).toMatchObject({ state: "failed", revision: 2, servingRevision: 1, reason: "index.ts:3:7: Unexpected \"}\"" }))
    expect(events.at(-1)).toMatchObject({ kind: "failed", revision: 2, reason: "index.ts:3:7: Unexpected \"}\"" })
    expect(launcher.launched.flatMap((process) => process.stops())).toEqual([])
  })

  it("restarts the workloads of a dead process elsewhere and starts the process again", async () => {
    const { launcher, supervisor, status, kinds, run } = await start()
    await run(supervisor.apply(spec("greeter", 1), "code"))
    await eventually(async () => expect((await status("greeter"))?.state).toBe("running"))
    const host = [launcher.current(0), launcher.current(1)].find((process) => process.starts().length === 1)!
    host.die("signal SIGKILL")
    await eventually(() => expect(kinds("greeter")).toEqual(["deployed:1", "started:1", "crashed:1", "restarted:1"]))
    expect(await status("greeter")).toMatchObject({ state: "running", restarts: 1, lastError: `sandbox process ${host.index} died (signal SIGKILL)` })
    await eventually(() => expect(launcher.launched.filter((process) => process.index === host.index)).toHaveLength(2))
  })

  it("quarantines a workload that was running when its process died twice, and spares the others", async () => {
    const { launcher, supervisor, status, kinds, run } = await start()
    await run(supervisor.apply(spec("bomb", 1), "code"))
    await run(supervisor.apply(spec("calm", 1), "code"))
    await eventually(async () => expect((await status("bomb"))?.state).toBe("running"))
    await eventually(async () => expect((await status("calm"))?.state).toBe("running"))
    for (let death = 0; death < 2; death++) {
      const host = await eventually(() => {
        const found = launcher.launched.find((process) => process.alive && process.starts().some((started) => started.name === "bomb") && !process.stops().includes("bomb"))
        expect(found).toBeDefined()
        return found!
      })
      await eventually(async () => expect((await status("bomb"))?.state).toBe("running"))
      host.heartbeat(["bomb"])
      host.die()
    }
    await eventually(async () => expect((await status("bomb"))?.state).toBe("failed"))
    expect((await status("bomb"))?.reason).toMatch(/^quarantined: its sandbox process died 2 times while running it \(last: signal SIGABRT\)/)
    expect(kinds("bomb")).toContain("quarantined:1")
    await eventually(async () => expect((await status("calm"))?.state).toBe("running"))
    const live = launcher.launched.filter((process) => process.alive)
    expect(live.filter((process) => process.starts().some((started) => started.name === "bomb") && !process.stops().includes("bomb"))).toEqual([])
  })

  it("fails a start the sandbox never answers", async () => {
    const { supervisor, status, run } = await start({ autoStart: () => false }, { startTimeout: "100 millis" })
    await run(supervisor.apply(spec("slow", 1), "code"))
    await eventually(async () => expect(await status("slow")).toMatchObject({ state: "failed", reason: expect.stringMatching(/did not report it started within 100ms/) }))
  })

  it("waits longer between restarts of a process that keeps dying", async () => {
    const { launcher } = await start({ autoReady: false }, { sandboxProcesses: 1, respawnSchedule: Schedule.exponential("40 millis") })
    for (let death = 0; death < 3; death++) {
      const process = await eventually(() => launcher.current(0))
      process.die("exit code 1")
    }
    await eventually(() => expect(launcher.launched.filter((process) => process.index === 0)).toHaveLength(4), { timeout: 3000 })
    const launches = launcher.launched.filter((process) => process.index === 0).map((process) => process.launchedAt)
    const gaps = launches.slice(1).map((time, index) => time - launches[index])
    expect(gaps[0]).toBeGreaterThanOrEqual(35)
    expect(gaps[1]).toBeGreaterThanOrEqual(75)
    expect(gaps[2]).toBeGreaterThanOrEqual(155)
  })

  it("stops a removed workload everywhere and reports a rejected spec as failed", async () => {
    const { launcher, supervisor, status, kinds, run } = await start()
    await run(supervisor.apply(spec("greeter", 1, { replicas: 2 }), "code"))
    await eventually(async () => expect((await status("greeter"))?.state).toBe("running"))
    await run(supervisor.remove("greeter"))
    await eventually(() => expect([launcher.current(0).stops(), launcher.current(1).stops()]).toEqual([["greeter"], ["greeter"]]))
    expect(await status("greeter")).toBeUndefined()
    expect(kinds("greeter").at(-1)).toBe("undeployed:1")

    await run(supervisor.reject("broken", 3, "invalid deployment spec: memoryMiB: Too big: expected number to be <=1024"))
    await eventually(async () => expect(await status("broken")).toMatchObject({ state: "failed", revision: 3, reason: "invalid deployment spec: memoryMiB: Too big: expected number to be <=1024" }))
  })
})

import type { NatsConnection } from "@nats-io/transport-node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { eventually, hasNatsServer, nexEntry, startNatsServer, type Target } from "../support/index.ts"
import { nex, startCli } from "./cliRunner.ts"
import { client, type RunningRuntime, startRuntime } from "./runtimeHarness.ts"

const handlers = {
  greeter: () => (message: { subject: string }, context: { log: (text: string) => void }) => {
    context.log(`greeting ${message.subject}`)
    return `Hello, ${message.subject.split(".")[1]}!`
  }
}

describe.skipIf(!hasNatsServer)("nex deploy, ls, info, logs, events, undeploy (fake sandboxes)", () => {
  let server: Target
  let runtime: RunningRuntime
  let connection: NatsConnection
  let serverFlag: Array<string>

  beforeAll(async () => {
    server = await startNatsServer({ jetstream: true })
    serverFlag = ["-s", server.url]
    runtime = await startRuntime(server.url, handlers)
    connection = await client(server.url)
  })
  afterAll(async () => {
    await connection?.close()
    await runtime?.stop()
    await server?.stop()
  })

  it("deploys with progress lines, then lists, describes, tails and removes the workload", async () => {
    const deployed = await nex(["deploy", "workloads/greeter/index.ts", "--name", "greeter", "--trigger", "greet.*", ...serverFlag])
    expect(deployed.stderr).toBe("")
    expect(deployed.code).toBe(0)
    expect(deployed.stdout.trim().split("\n")).toEqual([
      expect.stringMatching(/^bundled workloads\/greeter\/index\.ts \(\d+ B, sha256 [0-9a-f]{12}\)$/),
      expect.stringMatching(/^uploaded bundle [0-9a-f]{12} to nex-bundles$/),
      "stored greeter revision 1 in nex-deployments; waiting for a node to start it",
      "node test-node is starting greeter revision 1",
      "greeter revision 1 is running on node test-node (greet.*)"
    ])
    expect((await connection.request("greet.world", "", { timeout: 2000 })).string()).toBe("Hello, world!")

    const following = startCli(nexEntry, ["logs", "greeter", "-f", ...serverFlag])
    await eventually(() => expect(following.stdout()).toMatch(/info {3}r1 {2}greeting greet\.world\n/), { timeout: 10_000 })
    await connection.request("greet.again", "", { timeout: 2000 })
    await eventually(() => expect(following.stdout()).toMatch(/greeting greet\.again\n/))
    following.child.kill("SIGINT")
    expect((await following.done).code).not.toBeNull()

    const listed = await eventually(async () => {
      const result = await nex(["ls", ...serverFlag])
      expect(result.stdout).toMatch(/^greeter +1 +running +1\/1 +greet\.\* +2 +0 /m)
      return result
    })
    expect(listed.stdout.split("\n")[0]).toMatch(/^NAME +REV +STATE +REPLICAS +TRIGGERS +CALLS +ERRORS +P50 +P99 +RESTARTS +REASON$/)

    const info = await nex(["info", "greeter", ...serverFlag])
    expect(info.code).toBe(0)
    expect(info.stdout).toMatch(/^greeter revision 1 on node test-node: running\n/)
    expect(info.stdout).toMatch(/^ {2}source: +workloads\/greeter\/index\.ts$/m)
    expect(info.stdout).toMatch(/^ {2}triggers: +greet\.\* \(queue nex\.greeter\)$/m)
    expect(info.stdout).toMatch(/^ {4}\S+ {2}started r1$/m)

    const logs = await nex(["logs", "greeter", "--since", "5m", ...serverFlag])
    expect(logs.stdout.trim().split("\n").map((line) => line.replace(/^\S+ {2}/, ""))).toEqual(["info   r1  greeting greet.world", "info   r1  greeting greet.again"])

    const undeployed = await nex(["undeploy", "greeter", ...serverFlag])
    expect(undeployed).toMatchObject({ code: 0, stdout: "undeployed greeter (revision 1); node test-node stopped it\n" })
    const events = await nex(["events", "greeter", ...serverFlag])
    expect(events.stdout.trim().split("\n").map((line) => line.replace(/^\S+ {2}/, ""))).toEqual([
      "greeter  deployed r1  on test-node",
      "greeter  started r1  on test-node",
      "greeter  undeployed r1  on test-node"
    ])
    expect((await nex(["ls", ...serverFlag])).stdout).toBe("no workloads on node test-node\n")
  })

  it("fails with one line and exit code 1", async () => {
    const cases: Array<[ReadonlyArray<string>, string]> = [
      [["deploy", "workloads/greeter/index.ts", "--name", "greeter", "--trigger", "greet.*", "--memory", "4096"], "nex deploy: --memory: expected a number from 8 to 1024"],
      [["deploy", "workloads/greeter/index.ts", "--name", "greeter", "--trigger", "$JS.API.>"], 'nex deploy: greeter: trigger "$JS.API.>" is in the reserved $JS subject space'],
      [["deploy", "test/runtime/fixtures/broken.js", "--name", "broken", "--trigger", "broken"], 'nex deploy: test/runtime/fixtures/broken.js:3:1: Unexpected "}"'],
      [["deploy", "workloads/greeter/index.ts", "--name", "nohandler", "--trigger", "x"], "nex deploy: nohandler revision 1 failed to start on test-node: no test handler registered for nohandler"],
      [["info", "nobody"], "nex info: no workload named nobody on node test-node"],
      [["undeploy", "nobody"], "nex undeploy: no workload named nobody is deployed"],
      [["logs", "greeter", "--since", "yesterday"], 'nex logs: --since: expected a duration like 10m, 1h or 2d, got "yesterday"']
    ]
    const results = await Promise.all(cases.map(([args]) => nex([...args, ...serverFlag])))
    expect(results.map((result) => [result.code, result.stderr])).toEqual(cases.map(([, message]) => [1, `${message}\n`]))
  })

  it("lists a standalone node, a one-node cluster, with nex node ls and info", async () => {
    const [listed, described] = await Promise.all([nex(["node", "ls", ...serverFlag]), nex(["node", "info", "test-node", ...serverFlag])])
    expect(listed.stderr).toBe("")
    expect(listed.stdout.split("\n")[1]).toMatch(/^test-node +test-node-[0-9a-f]{8} +alive +\d+ +64 +- +0\.1\.0 +\ds ago$/)
    expect(described.stdout.split("\n")[0]).toMatch(/^node test-node \(test-node-[0-9a-f]{8}\): alive$/)
  })

  it("says when no node answers", async () => {
    const bare = await startNatsServer({ jetstream: true })
    try {
      const listed = await nex(["ls", "-s", bare.url])
      expect(listed).toMatchObject({ code: 1, stderr: "nex ls: no node answered on $NEX.api.ls (is `nex up` running?)\n" })
      const unreachable = await nex(["ls", "-s", "nats://127.0.0.1:1"])
      expect(unreachable).toMatchObject({ code: 1, stderr: "nex ls: could not connect to nats://127.0.0.1:1: connection refused\n" })
    } finally {
      await bare.stop()
    }
  })
})

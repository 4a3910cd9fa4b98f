import { CliConfig, CommandDescriptor } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { deployCommand, workloadConfigOf } from "./deployCommand.ts"
import { infoCommand } from "./infoCommand.ts"
import { listCommand } from "./listCommand.ts"
import { eventsCommand, logsCommand } from "./streamCommands.ts"
import { undeployCommand } from "./undeployCommand.ts"
import { upCommand } from "./upCommand.ts"

/** A nex subcommand; only its descriptor (what it parses) matters here. */
interface Subcommand {
  readonly descriptor: CommandDescriptor.Command<unknown>
}

/** What @effect/cli hands the command's handler for `argv` (the handler is not run); fails on anything left unparsed. */
const parsed = (command: Subcommand, name: string, argv: ReadonlyArray<string>): Promise<unknown> =>
  CommandDescriptor.parse(command.descriptor, [name, ...argv], CliConfig.defaultConfig).pipe(
    Effect.map((directive) => {
      if (directive._tag !== "UserDefined") throw new Error(`not a command line: ${directive._tag}`)
      if (directive.leftover.length > 0) throw new Error(`left unparsed: ${directive.leftover.join(" ")}`)
      return directive.value
    }),
    Effect.provide(NodeContext.layer),
    Effect.runPromise
  )

// Each case: the same command line with flags before, after and around the positional argument.
const cases: ReadonlyArray<{
  readonly name: string
  readonly command: Subcommand
  readonly orders: ReadonlyArray<ReadonlyArray<string>>
  readonly expected: Record<string, unknown>
}> = [
  {
    name: "deploy",
    command: deployCommand,
    orders: [
      ["--name", "greeter", "--trigger", "greet.*", "--trigger", "hello", "--memory", "64", "-s", "nats://127.0.0.1:4333", "--wait", "0", "workloads/greeter/index.ts"],
      ["workloads/greeter/index.ts", "--name", "greeter", "--trigger", "greet.*", "--trigger", "hello", "--memory", "64", "-s", "nats://127.0.0.1:4333", "--wait", "0"],
      ["--trigger", "greet.*", "--name=greeter", "workloads/greeter/index.ts", "--memory", "64", "--trigger", "hello", "--wait", "0", "-s", "nats://127.0.0.1:4333"]
    ],
    expected: { file: "workloads/greeter/index.ts", name: "greeter", trigger: ["greet.*", "hello"] }
  },
  { name: "info", command: infoCommand, orders: [["-s", "nats://127.0.0.1:4333", "greeter"], ["greeter", "-s", "nats://127.0.0.1:4333"]], expected: { name: "greeter" } },
  { name: "undeploy", command: undeployCommand, orders: [["--server", "nats://127.0.0.1:4333", "greeter"], ["greeter", "--server", "nats://127.0.0.1:4333"]], expected: { name: "greeter" } },
  {
    name: "logs",
    command: logsCommand,
    orders: [["-f", "--since", "10m", "-s", "nats://127.0.0.1:4333", "greeter"], ["greeter", "-f", "--since", "10m", "-s", "nats://127.0.0.1:4333"], ["--since", "10m", "greeter", "-s", "nats://127.0.0.1:4333", "-f"]],
    expected: { name: "greeter", follow: true }
  },
  { name: "events", command: eventsCommand, orders: [["--follow", "-s", "nats://127.0.0.1:4333", "greeter"], ["greeter", "--follow", "-s", "nats://127.0.0.1:4333"]], expected: { follow: true } },
  { name: "ls", command: listCommand, orders: [["-s", "nats://127.0.0.1:4333", "--user", "alice"], ["--user", "alice", "-s", "nats://127.0.0.1:4333"]], expected: {} },
  { name: "up", command: upCommand, orders: [["--no-runtime", "--port", "0", "--store", "data"], ["--port", "0", "--store", "data", "--no-runtime"]], expected: { noRuntime: true } }
]

describe("nex argument order", () => {
  for (const { name, command, orders, expected } of cases) {
    it(`nex ${name} takes flags before or after its arguments`, async () => {
      const [first, ...others] = await Promise.all(orders.map((argv) => parsed(command, name, argv)))
      expect(first).toMatchObject(expected)
      for (const other of others) expect(other).toEqual(first)
    })
  }

  it("nex deploy --tags takes a comma-separated list and names the flag when one is empty", async () => {
    const flags = (tags: string) => parsed(deployCommand, "deploy", ["--name", "gpu-job", "--tags", tags, "job.ts"]) as Promise<Parameters<typeof workloadConfigOf>[0]>
    const config = await Effect.runPromise(workloadConfigOf(await flags("gpu, ssd")))
    expect(config.tags).toEqual(["gpu", "ssd"])
    const refused = await Effect.runPromise(Effect.flip(workloadConfigOf(await flags("gpu,,ssd"))))
    expect(refused.message).toMatch(/^--tags: /)
  })

  it("leaves an unknown flag after the argument unparsed, for the CLI to refuse", async () => {
    await expect(parsed(infoCommand, "info", ["greeter", "--no-such-flag"])).rejects.toThrow("left unparsed: --no-such-flag")
  })
})

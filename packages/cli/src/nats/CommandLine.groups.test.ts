import { describe, expect, it } from "vitest"
import { UsageError } from "./CliError.ts"
import { helpText, parseCommandLine, type ProgramSpec } from "./CommandLine.ts"

const add = {
  name: "add",
  aliases: ["create"],
  summary: "add a stream",
  arguments: [{ name: "stream", required: true, description: "stream" }],
  flags: [
    { long: "storage", kind: "string", choices: ["file", "memory"], choiceAliases: { m: "memory" }, description: "storage" },
    { long: "retention", kind: "string", choices: ["limits", "interest", "workqueue"], description: "retention" },
    { long: "max-msgs", kind: "integer", unlimited: true, description: "max" },
    { long: "max-bytes", kind: "size", unlimited: true, description: "bytes" },
    { long: "max-age", kind: "duration", unlimited: true, description: "age" },
    { long: "allow-direct", kind: "boolean", description: "direct" }
  ],
  examples: []
} as const

const program: ProgramSpec = {
  name: "nats",
  summary: "test program",
  version: "1.0.0",
  globalFlags: [{ long: "server", short: "s", kind: "string", description: "server" }],
  commands: [{ name: "stream", aliases: ["str"], summary: "streams", commands: [add] }]
}

const run = (...argv: Array<string>) => {
  const invocation = parseCommandLine(program, argv)
  if (invocation.kind !== "run") throw new Error(`expected a command, got ${invocation.kind}`)
  return invocation
}

const usageError = (...argv: Array<string>): string => {
  try {
    parseCommandLine(program, argv)
  } catch (error) {
    if (error instanceof UsageError) return error.message
    throw error
  }
  throw new Error(`expected ${argv.join(" ")} to be rejected`)
}

describe("parseCommandLine with subcommands", () => {
  it("finds a subcommand by name or alias and reads choices, sizes, calendar durations and -1", () => {
    const invocation = run("-s", "x", "str", "create", "ORDERS", "--storage", "m", "--max-msgs", "-1", "--max-bytes=10MiB", "--max-age", "1d", "--no-allow-direct")
    expect(invocation.command).toBe(add)
    const parsed = invocation.arguments
    expect(parsed.argument("stream")).toBe("ORDERS")
    expect(parsed.string("storage")).toBe("memory")
    expect(parsed.integer("max-msgs", 0)).toBe(-1)
    expect(parsed.size("max-bytes", 0)).toBe(10 * 1024 * 1024)
    expect(parsed.duration("max-age", 0)).toBe(86_400_000)
    expect(parsed.boolean("allow-direct", true)).toBe(false)
    expect(run("stream", "add", "S").arguments.boolean("allow-direct", true)).toBe(true)
  })

  it("shows a group's help when no subcommand is given", () => {
    expect(parseCommandLine(program, ["stream"])).toMatchObject({ kind: "help", group: { name: "stream" } })
    expect(helpText(program, program.commands[0])).toContain("usage: nats stream [flags] COMMAND [arguments]")
    expect(helpText(program, add)).toContain("usage: nats stream add STREAM [flags]")
  })

  it.each([
    [["stream", "add", "S", "--storage", "foo"], 'invalid value "foo" for --storage: expected file or memory'],
    [["stream", "add", "S", "--retention", "x"], 'invalid value "x" for --retention: expected limits, interest or workqueue'],
    [["stream", "add", "S", "--max-msgs", "-2"], 'invalid value "-2" for --max-msgs: expected a whole number, or -1 for unlimited'],
    [["stream", "add", "S", "--max-bytes", "1XB"], 'invalid size "1XB" for --max-bytes: expected e.g. 512, 1KB, 10MiB or 1GB, or -1 for unlimited'],
    [["stream", "add", "S", "--nope"], "unknown flag --nope for nats stream add"],
    [["stream", "frob"], 'unknown command "frob" for nats stream (try nats stream --help)'],
    [["stream", "add"], "missing STREAM (usage: nats stream add STREAM [flags])"]
  ])("rejects %j", (argv, message) => {
    expect(usageError(...argv)).toBe(message)
  })
})

import { describe, expect, it } from "vitest"
import { UsageError } from "./CliError.ts"
import { helpText, parseCommandLine, type ProgramSpec } from "./CommandLine.ts"

const program: ProgramSpec = {
  name: "nats",
  summary: "test program",
  version: "1.2.3",
  globalFlags: [
    { long: "server", short: "s", kind: "string", description: "server" },
    { long: "timeout", kind: "duration", description: "timeout" }
  ],
  commands: [
    {
      name: "publish",
      aliases: ["pub"],
      summary: "publish",
      arguments: [
        { name: "subject", required: true, description: "subject" },
        { name: "body", required: false, description: "body" }
      ],
      flags: [
        { long: "header", short: "H", kind: "strings", description: "header" },
        { long: "count", kind: "integer", description: "count" },
        { long: "raw", short: "r", kind: "boolean", description: "raw" },
        { long: "quiet", short: "q", kind: "boolean", description: "quiet" }
      ],
      examples: ["nats pub a b"]
    }
  ]
}

const run = (...argv: Array<string>) => {
  const invocation = parseCommandLine(program, argv)
  if (invocation.kind !== "run") throw new Error(`expected a command, got ${invocation.kind}`)
  return invocation.arguments
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

describe("parseCommandLine", () => {
  it("accepts natscli's flag spellings, mixed with arguments and before the command", () => {
    const parsed = run("-s", "nats://a:1", "pub", "greet", "--count=3", "-H", "A:1", "-HB:2", "--header", "C:3", "hello", "-rq", "--timeout", "1m30s")
    expect(parsed.argument("subject")).toBe("greet")
    expect(parsed.argument("body")).toBe("hello")
    expect(parsed.string("server")).toBe("nats://a:1")
    expect(parsed.integer("count", 1)).toBe(3)
    expect(parsed.strings("header")).toEqual(["A:1", "B:2", "C:3"])
    expect(parsed.boolean("raw")).toBe(true)
    expect(parsed.boolean("quiet")).toBe(true)
    expect(parsed.duration("timeout", 0)).toBe(90_000)
  })

  it("treats everything after -- as arguments and falls back to defaults", () => {
    const parsed = run("pub", "--", "greet", "--count")
    expect(parsed.argument("body")).toBe("--count")
    expect(parsed.integer("count", 1)).toBe(1)
    expect(parsed.boolean("raw")).toBe(false)
    expect(parsed.strings("header")).toEqual([])
  })

  it("answers help and version requests", () => {
    expect(parseCommandLine(program, [])).toEqual({ kind: "help", command: undefined })
    expect(parseCommandLine(program, ["pub", "--help"])).toMatchObject({ kind: "help", command: { name: "publish" } })
    expect(parseCommandLine(program, ["--version"])).toEqual({ kind: "version" })
    expect(helpText(program, program.commands[0])).toContain("usage: nats publish SUBJECT [BODY] [flags]")
  })

  it.each([
    [["pub", "greet", "--count", "many"], 'invalid value "many" for --count: expected a whole number'],
    [["pub", "greet", "--timeout", "2x"], 'invalid duration "2x" for --timeout: expected e.g. 500ms, 2s or 1m'],
    [["pub", "greet", "--raw=maybe"], 'invalid value "maybe" for --raw: expected true or false'],
    [["pub", "greet", "--colour"], "unknown flag --colour for nats publish"],
    [["pub", "greet", "-x"], "unknown flag -x for nats publish"],
    [["pub", "greet", "--header"], "--header needs a value"],
    [["pub"], "missing SUBJECT (usage: nats publish SUBJECT [BODY] [flags])"],
    [["pub", "a", "b", "c"], 'unexpected argument "c" (usage: nats publish SUBJECT [BODY] [flags])'],
    [["frob"], 'unknown command "frob" (try nats --help)']
  ])("rejects %j", (argv, message) => {
    expect(usageError(...argv)).toBe(message)
  })
})

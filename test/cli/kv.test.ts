import { afterEach, beforeAll, describe, expect, it } from "vitest"
import { buildCli } from "../../scripts/build-cli.ts"
import { eventually, startNatsServer, useTarget } from "../support/index.ts"
import { jetStreamTargets } from "../support/jetstreamTargets.ts"
import {
  type CommandResult,
  expectOneErrorLine,
  finishWithin,
  killNatsCommands,
  type RunningCommand,
  runNatsCommand,
  startNatsCommand,
  succeeded
} from "../support/natsCommand.ts"

// Times and ages change from run to run; everything else is compared exactly. Local times keep
// their width so that table columns stay aligned.
const normalised = (text: string): string =>
  text
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)/g, "<rfc3339>")
    .replace(/\d\d [A-Z][a-z]{2} \d\d \d\d:\d\d \S+/g, "<rfc822>")
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/g, "<time>".padEnd(19))
    .replace(/\b\d+(\.\d+)?(ms|µs|s)\b/g, "<age>")

/** Interrupts a running watch as Ctrl-C would. */
const interrupt = (command: RunningCommand): Promise<CommandResult> => {
  command.child.kill("SIGINT")
  return finishWithin(command)
}

const statusReport = (bucket: string, rows: ReadonlyArray<string>): string =>
  [`Information for Key-Value Store Bucket ${bucket} created <rfc3339>`, "", "Configuration:", "", ...rows, ""].join("\n")

beforeAll(() => buildCli(), 60_000)
afterEach(killNatsCommands)

describe.each(jetStreamTargets())("nats kv against $name", (target) => {
  const server = useTarget(target)

  const nats = (...args: Array<string>): Promise<CommandResult> => runNatsCommand(["-s", server().url, ...args])
  const natsWithInput = (input: string, ...args: Array<string>): Promise<CommandResult> => runNatsCommand(["-s", server().url, ...args], { input })

  it("runs the seed commands verbatim: add, put, get, watch, del, ls", async () => {
    const added = succeeded(await nats("kv", "add", "config"))
    expect(normalised(added.stdout)).toBe(
      statusReport("config", [
        "          Bucket Name: config",
        "         History Kept: 1",
        "        Values Stored: 0",
        "           Compressed: false",
        "   Backing Store Kind: JetStream",
        "          Bucket Size: 0 B",
        "  Maximum Bucket Size: unlimited",
        "   Maximum Value Size: unlimited",
        "          Maximum Age: unlimited",
        "     JetStream Stream: KV_config",
        "              Storage: File"
      ])
    )
    expect(succeeded(await nats("kv", "put", "config", "db_host", "localhost")).stdout).toBe("localhost\n")
    expect(normalised(succeeded(await nats("kv", "get", "config", "db_host")).stdout)).toBe("config > db_host revision: 1 created @ <rfc822>\n\nlocalhost\n\n")

    const watch = startNatsCommand(["-s", server().url, "kv", "watch", "config"])
    await eventually(() => expect(normalised(watch.stdout())).toBe("[<time>             ] PUT config > db_host: localhost\n"), { timeout: 10_000 })
    succeeded(await nats("kv", "put", "config", "db_port", "5432"))
    await eventually(() => expect(normalised(watch.stdout())).toContain("] PUT config > db_port: 5432\n"))

    expect(succeeded(await nats("kv", "del", "config", "db_host")).stdout).toBe("")
    await eventually(() =>
      expect(normalised(watch.stdout())).toBe(
        "[<time>             ] PUT config > db_host: localhost\n[<time>             ] PUT config > db_port: 5432\n[<time>             ] DELETE config > db_host\n"
      )
    )
    const stopped = await interrupt(watch)
    expect(stopped).toMatchObject({ code: 0, stderr: "" })

    expect(succeeded(await nats("kv", "ls", "config")).stdout).toBe("db_port\n")
    expectOneErrorLine(await nats("kv", "get", "config", "db_host"), "nats: key not found")
  })

  it("kv add takes natscli's flags, is idempotent and refuses a different configuration", async () => {
    const added = succeeded(
      await nats("kv", "add", "sessions", "--history", "5", "--ttl", "1h", "--max-value-size", "1KiB", "--max-bucket-size", "10MiB", "--storage", "memory", "--description", "user sessions", "--replicas", "1")
    )
    expect(normalised(added.stdout)).toBe(
      statusReport("sessions", [
        "          Bucket Name: sessions",
        "         History Kept: 5",
        "        Values Stored: 0",
        "           Compressed: false",
        "   Backing Store Kind: JetStream",
        "          Description: user sessions",
        "          Bucket Size: 0 B",
        "  Maximum Bucket Size: 10 MiB",
        "   Maximum Value Size: 1.0 KiB",
        "          Maximum Age: 1h0m0s",
        "     JetStream Stream: KV_sessions",
        "              Storage: Memory"
      ])
    )
    succeeded(await nats("kv", "add", "sessions", "--history", "5", "--ttl", "1h", "--max-value-size", "1KiB", "--max-bucket-size", "10MiB", "--storage", "memory", "--description", "user sessions"))
    expectOneErrorLine(await nats("kv", "add", "sessions", "--history", "2"), "nats: stream name already in use with a different configuration")
    expectOneErrorLine(await nats("kv", "put", "sessions", "big", "x".repeat(2000)), "nats: message size exceeds maximum allowed")

    const listed = normalised(succeeded(await nats("kv", "ls")).stdout).split("\n")
    expect(listed[1]).toMatch(/^│ +Key-Value Buckets +│$/)
    expect(listed[3]).toBe("│ Bucket   │ Description   │ Created             │ Size  │ Values │ Last Update │")
    expect(listed[5]).toBe("│ sessions │ user sessions │ <time>              │ 0 B   │ 0      │ never       │")
    expect(listed[6]).toMatch(/^│ config   │ +│ <time> +│ \d+ B │ 2      │ <age> +│$/)
    expect(succeeded(await nats("kv", "ls", "--names")).stdout.split("\n").sort()).toEqual(["", "config", "sessions"])
  })

  it("put reads stdin, get --raw and --revision, create only once, update only at the revision given", async () => {
    succeeded(await nats("kv", "add", "values", "--history", "10"))
    // As natscli, put echoes the value argument: an empty line when the value came from stdin.
    expect(succeeded(await natsWithInput("from stdin\n", "kv", "put", "values", "piped")).stdout).toBe("\n")
    expect(succeeded(await nats("kv", "get", "values", "piped", "--raw")).stdout).toBe("from stdin\n")
    // A value with a control character is shown as base64, as natscli does.
    expect(normalised(succeeded(await nats("kv", "get", "values", "piped")).stdout)).toBe("values > piped revision: 1 created @ <rfc822>\n\nZnJvbSBzdGRpbgo=\n\n")

    expect(succeeded(await nats("kv", "create", "values", "color", "red")).stdout).toBe("red\n")
    expectOneErrorLine(await nats("kv", "create", "values", "color", "blue"), "nats: key exists")
    expectOneErrorLine(await nats("kv", "update", "values", "color", "green", "1"), "nats: wrong last sequence: 2")
    expect(succeeded(await nats("kv", "update", "values", "color", "green", "2")).stdout).toBe("green\n")
    expect(succeeded(await nats("kv", "get", "values", "color", "--revision", "2", "--raw")).stdout).toBe("red")
    expect(succeeded(await nats("kv", "get", "values", "color", "--raw")).stdout).toBe("green")
    // After a delete the key may be created again.
    succeeded(await nats("kv", "del", "values", "color"))
    expect(succeeded(await nats("kv", "create", "values", "color", "blue")).stdout).toBe("blue\n")

    const long = "v".repeat(130)
    succeeded(await nats("kv", "put", "values", "long", long))
    expect(normalised(succeeded(await nats("kv", "get", "values", "long")).stdout)).toBe(
      `values > long revision: 6 created @ <rfc822>\n\nShowing first 120 bytes of 130, use --raw for full data\n\n${"v".repeat(120)}\n\n`
    )
  })

  it("history lists every revision; purge needs --force without a terminal and leaves one PURGE marker", async () => {
    const history = normalised(succeeded(await nats("kv", "history", "values", "color")).stdout)
    expect(history).toBe(
      [
        "╭──────────────────────────────────────────────────────────────────╮",
        "│                    History for values > color                    │",
        "├───────┬──────────┬────────┬─────────────────────┬────────┬───────┤",
        "│ Key   │ Revision │ Op     │ Created             │ Length │ Value │",
        "├───────┼──────────┼────────┼─────────────────────┼────────┼───────┤",
        "│ color │        2 │ PUT    │ <time>              │ 3      │ red   │",
        "│ color │        3 │ PUT    │ <time>              │ 5      │ green │",
        "│ color │        4 │ DELETE │ <time>              │ 0      │       │",
        "│ color │        5 │ PUT    │ <time>              │ 4      │ blue  │",
        "╰───────┴──────────┴────────┴─────────────────────┴────────┴───────╯",
        "",
        ""
      ].join("\n")
    )
    expectOneErrorLine(
      await nats("kv", "purge", "values", "color"),
      "nats: will not purge key values > color without confirmation: pass --force (-f) when stdin is not a terminal"
    )
    expect(succeeded(await nats("kv", "purge", "values", "color", "-f")).stdout).toBe("")
    const purged = normalised(succeeded(await nats("kv", "history", "values", "color")).stdout)
    expect(purged).toContain("│ color │        7 │ PURGE │ <time>              │ 0      │       │")
    expect(purged.split("\n").filter((line) => line.startsWith("│ color"))).toHaveLength(1)
    expectOneErrorLine(await nats("kv", "history", "values", "nothing"), "nats: key not found")
  })

  it("watch filters by key pattern, shows deletes and purges, and --count ends it", async () => {
    succeeded(await nats("kv", "add", "tree"))
    for (const [key, value] of [["app.db.host", "h"], ["app.db.port", "1"], ["app.web", "w"], ["other", "o"]]) succeeded(await nats("kv", "put", "tree", key, value))
    succeeded(await nats("kv", "del", "tree", "app.db.port"))
    const star = normalised(succeeded(await nats("kv", "watch", "tree", "app.db.*", "--count", "2")).stdout)
    expect(star).toBe("[<time>             ] PUT tree > app.db.host: h\n[<time>             ] DELETE tree > app.db.port\n")
    const rest = normalised(succeeded(await nats("kv", "watch", "tree", "app.>", "--count", "3")).stdout)
    // Current values come in the order they were last written.
    expect(rest).toBe("[<time>             ] PUT tree > app.db.host: h\n[<time>             ] PUT tree > app.web: w\n[<time>             ] DELETE tree > app.db.port\n")

    const live = startNatsCommand(["-s", server().url, "kv", "watch", "tree", "other", "--count", "3"])
    await eventually(() => expect(live.stdout()).toContain("PUT tree > other: o\n"), { timeout: 10_000 })
    succeeded(await nats("kv", "put", "tree", "other", "o2"))
    succeeded(await nats("kv", "purge", "tree", "other", "-f"))
    const finished = await live.finished
    expect(finished.code).toBe(0)
    expect(normalised(finished.stdout)).toBe("[<time>             ] PUT tree > other: o\n[<time>             ] PUT tree > other: o2\n[<time>             ] PURGE tree > other\n")
    expect(succeeded(await nats("kv", "ls", "tree")).stdout.split("\n").sort()).toEqual(["", "app.db.host", "app.web"])
  })

  it("status reports the bucket; rm needs --force, then every command says the bucket is gone", async () => {
    const status = normalised(succeeded(await nats("kv", "status", "tree")).stdout)
    expect(status).toContain("        Values Stored: 4\n")
    expect(status).toContain("     JetStream Stream: KV_tree\n")
    expect(succeeded(await nats("kv", "info", "tree")).stdout.split("\n").slice(1)).toEqual(succeeded(await nats("kv", "status", "tree")).stdout.split("\n").slice(1))
    expectOneErrorLine(await nats("kv", "rm", "tree"), "nats: will not delete bucket tree without confirmation: pass --force (-f) when stdin is not a terminal")
    expect(succeeded(await nats("kv", "rm", "tree", "-f")).stdout).toBe("")
    for (const args of [["ls", "tree"], ["get", "tree", "a"], ["put", "tree", "a", "b"], ["status", "tree"], ["watch", "tree"], ["rm", "tree", "-f"]]) {
      expectOneErrorLine(await nats("kv", ...args), "nats: bucket not found")
    }
    succeeded(await nats("kv", "rm", "values", "-f"))
    succeeded(await nats("kv", "rm", "config", "-f"))
    succeeded(await nats("kv", "rm", "sessions", "-f"))
    expect(succeeded(await nats("kv", "ls")).stdout).toBe("No Key-Value buckets found\n")
  })
})

describe("nats kv: input errors and servers without JetStream", () => {
  it.each([
    [["kv", "add", "bad.name"], 'nats: invalid bucket name "bad.name": expected letters, digits, - and _ only'],
    [["kv", "add", "b", "--history", "65"], 'nats: invalid value "65" for --history: expected 1 to 64'],
    [["kv", "add", "b", "--storage", "disk"], 'nats: invalid value "disk" for --storage: expected file or memory'],
    [["kv", "add", "b", "--ttl", "soon"], 'nats: invalid duration "soon" for --ttl: expected e.g. 500ms, 2s or 1m'],
    [["kv", "put", "b", "a..b", "v"], 'nats: invalid key "a..b": expected letters, digits and - / _ = . with dots only between tokens'],
    [["kv", "put", "b", "spaced key", "v"], 'nats: invalid key "spaced key": expected letters, digits and - / _ = . with dots only between tokens'],
    [["kv", "watch", "b", "a.>.c"], 'nats: invalid key pattern "a.>.c": expected a key whose tokens may be * or, last, >'],
    [["kv", "update", "b", "k", "v", "latest"], 'nats: invalid revision "latest": expected a whole number of at least 1'],
    [["kv", "get", "b"], "nats: missing KEY (usage: nats kv get BUCKET KEY [flags])"],
    [["kv", "frob"], 'nats: unknown command "frob" for nats kv (try nats kv --help)']
  ])("%j: bad input is one line, exit code 1", async (args, line) => {
    expectOneErrorLine(await runNatsCommand(["-s", "nats://127.0.0.1:1", ...args]), line)
  })

  it("says JetStream is not enabled when the server has none", async () => {
    const plain = await startNatsServer()
    try {
      for (const args of [["kv", "ls"], ["kv", "get", "config", "db_host"], ["kv", "add", "config"]]) {
        expectOneErrorLine(await runNatsCommand(["-s", plain.url, ...args]), "nats: JetStream is not enabled on the server")
      }
    } finally {
      await plain.stop()
    }
  })

  it("nats kv --help lists the subcommands", async () => {
    const help = await runNatsCommand(["kv", "--help"])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain("usage: nats kv [flags] COMMAND [arguments]")
    expect(help.stdout).toMatch(/ del, rm +Deletes a key or, without one, the entire bucket\n/)
    expect(help.stdout).toMatch(/ info, status, view +View the status of a KV store\n/)
  })
})

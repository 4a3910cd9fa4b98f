import { afterEach, beforeAll, describe, expect, it } from "vitest"
import { buildCli } from "../../scripts/build-cli.ts"
import { startNatsServer, useTarget } from "../support/index.ts"
import { jetStreamTargets } from "../support/jetstreamTargets.ts"
import { type CommandResult, expectOneErrorLine, killNatsCommands, runNatsCommand } from "../support/natsCommand.ts"

// Timestamps and ages change from run to run; everything else in the reports is compared exactly.
// Local times keep their width so that table columns stay aligned.
const normalised = (text: string): string =>
  text
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \+0000 UTC/g, "<utc time>")
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/g, "<time>".padEnd(19))
    .replace(/\b\d+(\.\d+)?(ms|µs|s)\b/g, "<age>")
    .replace(/^\d\d:\d\d:\d\d /gm, "")
    .replace(/\[\d\d:\d\d:\d\d\]/g, "[<clock>]")

/** Exit 0 and no `nats: ` error line; the JetStream commands may print progress on stderr. */
const succeeded = (result: CommandResult): CommandResult => {
  expect(result.stderr.includes("nats: ") ? result.stderr : "", "no error line").toBe("")
  expect(result.code).toBe(0)
  return result
}

beforeAll(() => buildCli(), 60_000)
afterEach(killNatsCommands)

describe.each(jetStreamTargets())("nats JetStream commands against $name", (target) => {
  const server = useTarget(target)

  const nats = (...args: Array<string>): Promise<CommandResult> => runNatsCommand(["-s", server().url, ...args])

  it("runs the seed commands verbatim: stream info shows the published message", async () => {
    const added = succeeded(await nats("stream", "add", "ORDERS", "--subjects", "orders.>", "--storage", "file", "--retention", "limits"))
    expect(added.stdout).toMatch(/^Stream ORDERS was created\n\nInformation for Stream ORDERS created /)
    const listed = succeeded(await nats("stream", "ls"))
    expect(normalised(listed.stdout)).toContain("│ ORDERS │             │ <time>              │ 0        │ 0 B  │ never        │")
    const consumer = succeeded(await nats("consumer", "add", "ORDERS", "processor", "--deliver", "all", "--ack", "explicit"))
    expect(consumer.stdout).toContain("Information for Consumer ORDERS > processor created ")
    expect(consumer.stdout).toContain("Pull Mode: true")
    const published = succeeded(await nats("pub", "orders.new", "order-123"))
    expect(normalised(published.stderr)).toBe('Published 9 bytes to "orders.new"\n')
    const info = succeeded(await nats("stream", "info", "ORDERS"))
    expect(normalised(info.stdout)).toBe(
      [
        "Information for Stream ORDERS created <time>             ",
        "",
        "              Subjects: orders.>",
        "              Replicas: 1",
        "               Storage: File",
        "",
        "Options:",
        "",
        "             Retention: Limits",
        "       Acknowledgments: true",
        "        Discard Policy: Old",
        "      Duplicate Window: 2m0s",
        "            Direct Get: true",
        "     Allows Msg Delete: true",
        "          Allows Purge: true",
        "        Allows Rollups: false",
        "",
        "Limits:",
        "",
        "      Maximum Messages: unlimited",
        "   Maximum Per Subject: unlimited",
        "         Maximum Bytes: unlimited",
        "           Maximum Age: unlimited",
        "  Maximum Message Size: unlimited",
        "     Maximum Consumers: unlimited",
        "",
        "State:",
        "",
        "              Messages: 1",
        "                 Bytes: 49 B",
        "        First Sequence: 1 @ <time>             ",
        "         Last Sequence: 1 @ <time>             ",
        "      Active Consumers: 1",
        "    Number of Subjects: 1",
        "",
        ""
      ].join("\n")
    )
  })

  it("stream info --json prints the StreamInfo; ls --names and --json list names", async () => {
    const info = JSON.parse(succeeded(await nats("stream", "info", "ORDERS", "--json")).stdout)
    expect(info.config).toMatchObject({ name: "ORDERS", subjects: ["orders.>"], storage: "file", retention: "limits", allow_direct: true })
    expect(info.state).toMatchObject({ messages: 1, first_seq: 1, last_seq: 1, consumer_count: 1 })
    expect(info.type).toBeUndefined()
    expect(succeeded(await nats("stream", "ls", "--names")).stdout).toBe("ORDERS\n")
    expect(JSON.parse(succeeded(await nats("stream", "ls", "--json")).stdout)).toEqual(["ORDERS"])
    expect(succeeded(await nats("stream", "ls", "--subject", "returns.>", "--names")).stdout).toBe("")
  })

  it("pub --jetstream prints each acknowledgement, duplicates and expectation failures", async () => {
    const stored = succeeded(await nats("pub", "--jetstream", "orders.paid", "order-{{Count}}", "--count", "2"))
    expect(normalised(stored.stderr)).toBe(
      'Published 7 bytes to "orders.paid"\nStored in Stream: ORDERS Sequence: 2\nPublished 7 bytes to "orders.paid"\nStored in Stream: ORDERS Sequence: 3\n'
    )
    const first = succeeded(await nats("pub", "-J", "orders.paid", "once", "-H", "Nats-Msg-Id:abc"))
    expect(first.stderr).toContain("Stored in Stream: ORDERS Sequence: 4\n")
    const again = succeeded(await nats("pub", "-J", "orders.paid", "once", "-H", "Nats-Msg-Id:abc"))
    expect(again.stderr).toContain("Stored in Stream: ORDERS Sequence: 4 Duplicate: true\n")
    expectOneErrorLine(
      await nats("pub", "-J", "orders.paid", "late", "-q", "-H", "Nats-Expected-Last-Sequence:1"),
      "nats: wrong last sequence: 4"
    )
    expectOneErrorLine(await nats("pub", "-J", "nowhere.stored", "x", "-q"), 'nats: no JetStream stream stores subject "nowhere.stored" (no responders)')
  })

  it("consumer next prints natscli's block and acknowledges; --no-ack leaves the message pending", async () => {
    const next = succeeded(await nats("consumer", "next", "ORDERS", "processor"))
    expect(normalised(next.stdout)).toBe(
      "[<clock>] subj: orders.new / tries: 1 / cons seq: 1 / str seq: 1 / pending: 3\n\norder-123\n\nAcknowledged message\n\n"
    )
    const two = succeeded(await nats("consumer", "next", "ORDERS", "processor", "--count", "2", "--raw"))
    expect(two.stdout).toBe("order-1\norder-2\n")
    const unacknowledged = succeeded(await nats("consumer", "next", "ORDERS", "processor", "--no-ack"))
    expect(normalised(unacknowledged.stdout)).toBe(
      "[<clock>] subj: orders.paid / tries: 1 / cons seq: 4 / str seq: 4 / pending: 0\n\nHeaders:\n\n  Nats-Msg-Id: abc\n\nData:\n\n\nonce\n"
    )
    const info = JSON.parse(succeeded(await nats("consumer", "info", "ORDERS", "processor", "--json")).stdout)
    expect(info).toMatchObject({
      name: "processor",
      num_pending: 0,
      num_ack_pending: 1,
      delivered: { consumer_seq: 4, stream_seq: 4 },
      ack_floor: { consumer_seq: 3, stream_seq: 3 }
    })
    const report = succeeded(await nats("consumer", "info", "ORDERS", "processor"))
    expect(normalised(report.stdout)).toBe(
      [
        "Information for Consumer ORDERS > processor created <time>             ",
        "",
        "Configuration:",
        "",
        "                    Name: processor",
        "               Pull Mode: true",
        "          Deliver Policy: All",
        "              Ack Policy: Explicit",
        "                Ack Wait: <age>",
        "           Replay Policy: Instant",
        "         Max Ack Pending: 1,000",
        "       Max Waiting Pulls: 512",
        "",
        "State:",
        "",
        "  Last Delivered Message: Consumer sequence: 4 Stream sequence: 4 Last delivery: <age> ago",
        "    Acknowledgment Floor: Consumer sequence: 3 Stream sequence: 3 Last Ack: <age> ago",
        "        Outstanding Acks: 1 out of maximum 1,000",
        "    Redelivered Messages: 0",
        "    Unprocessed Messages: 0",
        "           Waiting Pulls: 0 of maximum 512",
        ""
      ].join("\n")
    )
    expectOneErrorLine(await nats("consumer", "next", "ORDERS", "processor", "--timeout", "1s"), "nats: no message received within 1s")
  })

  it("consumer add takes natscli's flags; ls shows the table; push consumers are not for next", async () => {
    const push = succeeded(
      await nats("consumer", "add", "ORDERS", "audit", "--target", "audit.orders", "--deliver", "last", "--filter", "orders.paid", "--max-deliver", "5")
    )
    expect(push.stdout).toContain("        Delivery Subject: audit.orders\n")
    expect(push.stdout).toContain("          Filter Subject: orders.paid\n")
    expect(push.stdout).toContain("          Deliver Policy: Last\n")
    expect(push.stdout).toContain("              Ack Policy: None\n")
    expect(push.stdout).toContain("         Active Interest: No interest\n")
    succeeded(await nats("consumer", "add", "ORDERS", "from3", "--pull", "--deliver", "3", "--wait", "10s", "--max-pending", "20", "--replay", "instant"))
    const pull = JSON.parse(succeeded(await nats("consumer", "info", "ORDERS", "from3", "--json")).stdout)
    expect(pull.config).toMatchObject({ deliver_policy: "by_start_sequence", opt_start_seq: 3, ack_wait: 10_000_000_000, max_ack_pending: 20, ack_policy: "explicit" })
    expect(pull.num_pending).toBe(2)
    const listed = succeeded(await nats("consumer", "ls", "ORDERS"))
    const rows = normalised(listed.stdout).split("\n")
    expect(rows[1]).toMatch(/^│ +Consumers +│$/)
    expect(rows[3]).toBe("│ Name      │ Description │ Created             │ Ack Pending │ Unprocessed │ Last Delivery │")
    expect(rows[5]).toBe("│ audit     │             │ <time>              │           0 │           1 │ never         │")
    expect(rows[6]).toBe("│ from3     │             │ <time>              │           0 │           2 │ never         │")
    expect(rows[7]).toMatch(/^│ processor │             │ <time>              │           1 │           0 │ <age> +│$/)
    expect(succeeded(await nats("consumer", "ls", "ORDERS", "--names")).stdout).toBe("audit\nfrom3\nprocessor\n")
    expectOneErrorLine(await nats("consumer", "next", "ORDERS", "audit"), 'nats: consumer "audit" is not a Pull consumer')
  })

  it("stream get and view read stored messages", async () => {
    const got = succeeded(await nats("stream", "get", "ORDERS", "1"))
    expect(normalised(got.stdout)).toBe("Item: ORDERS#1 received <utc time> (<age>) on Subject orders.new\n\norder-123\n\n\n")
    const last = succeeded(await nats("stream", "get", "ORDERS", "--last-for", "orders.paid", "--json"))
    expect(JSON.parse(last.stdout)).toMatchObject({ subject: "orders.paid", seq: 4, data: Buffer.from("once").toString("base64") })
    expectOneErrorLine(await nats("stream", "get", "ORDERS", "99"), "nats: no message found")
    const viewed = succeeded(await nats("stream", "view", "ORDERS", "--count", "2"))
    expect(normalised(viewed.stdout)).toBe(
      "[1] Subject: orders.new Received: <time>             \norder-123\n\n\n[2] Subject: orders.paid Received: <time>             \norder-1\n\n\n"
    )
    expect(normalised(viewed.stderr)).toBe("Reached apparent end of data\n")
    expect(succeeded(await nats("stream", "view", "ORDERS", "--raw")).stdout).toBe("order-123\norder-1\norder-2\nonce\n")
    // The view's ephemeral consumer is removed again.
    expect(succeeded(await nats("consumer", "ls", "ORDERS", "--names")).stdout).toBe("audit\nfrom3\nprocessor\n")
  })

  it("stream edit changes only what the flags name", async () => {
    const edited = succeeded(await nats("stream", "edit", "ORDERS", "--max-msgs", "100", "--max-age", "1d", "--description", "all orders"))
    expect(edited.stdout).toMatch(
      /^Differences \(-old \+new\):\n- max_msgs: -1\n\+ max_msgs: 100\n- max_age: 0\n\+ max_age: 86400000000000\n\+ description: "all orders"\nStream ORDERS was updated\n\n/
    )
    expect(edited.stdout).toContain("      Maximum Messages: 100\n")
    expect(edited.stdout).toContain("           Maximum Age: 1d0h0m0s\n")
    expect(succeeded(await nats("stream", "edit", "ORDERS", "--max-msgs", "100")).stdout).toBe("No difference in configuration\n")
  })

  it("stream purge needs --force without a terminal, then reports the state", async () => {
    expectOneErrorLine(
      await nats("stream", "purge", "ORDERS"),
      "nats: will not purge stream ORDERS without confirmation: pass --force (-f) when stdin is not a terminal"
    )
    const kept = succeeded(await nats("stream", "purge", "ORDERS", "--subject", "orders.paid", "--keep", "1", "-f"))
    expect(normalised(kept.stdout)).toMatch(/^Purged 2 messages from ORDERS\n\nState for Stream ORDERS created <time> +\n\nState:\n\n *Messages: 2\n/)
    const all = succeeded(await nats("stream", "purge", "ORDERS", "-f", "--json"))
    expect(JSON.parse(all.stdout).state).toMatchObject({ messages: 0, first_seq: 5, last_seq: 4 })
    const emptyView = succeeded(await nats("stream", "view", "ORDERS"))
    expect(emptyView.stdout).toBe("")
    expect(normalised(emptyView.stderr)).toBe("Reached apparent end of data\n")
  })

  it("reports server refusals as one line: conflicts, overlaps, missing streams and consumers", async () => {
    expectOneErrorLine(
      await nats("stream", "add", "ORDERS", "--subjects", "other.>"),
      "nats: stream name already in use with a different configuration"
    )
    expectOneErrorLine(await nats("stream", "add", "MORE", "--subjects", "orders.new"), "nats: subjects overlap with an existing stream")
    expectOneErrorLine(await nats("stream", "info", "MISSING"), "nats: stream not found")
    expectOneErrorLine(await nats("consumer", "ls", "MISSING"), "nats: stream not found")
    expectOneErrorLine(await nats("consumer", "info", "ORDERS", "missing"), "nats: consumer not found")
  })

  it("consumer rm and stream rm need --force, then remove", async () => {
    expectOneErrorLine(
      await nats("consumer", "rm", "ORDERS", "audit"),
      "nats: will not delete consumer ORDERS > audit without confirmation: pass --force (-f) when stdin is not a terminal"
    )
    expect(succeeded(await nats("consumer", "rm", "ORDERS", "audit", "-f")).stdout).toBe("")
    expectOneErrorLine(await nats("consumer", "info", "ORDERS", "audit"), "nats: consumer not found")
    expect(succeeded(await nats("stream", "rm", "ORDERS", "-f")).stdout).toBe("")
    expectOneErrorLine(await nats("stream", "info", "ORDERS"), "nats: stream not found")
    expect(succeeded(await nats("stream", "ls")).stdout).toBe("No Streams defined\n")
  })

  it("stream add reads sizes, calendar durations and every policy flag", async () => {
    const config = JSON.parse(
      succeeded(
        await nats(
          "stream", "add", "EVENTS", "--subjects", "events.a,events.b", "--storage", "memory", "--retention", "workqueue",
          "--max-msgs", "1000", "--max-bytes", "10MiB", "--max-age", "1h", "--max-msgs-per-subject", "5", "--max-msg-size", "1KB",
          "--discard", "new", "--dupe-window", "30s", "--replicas", "1", "--allow-rollup", "--deny-delete", "--no-allow-direct", "--json"
        )
      ).stdout
    ).config
    expect(config).toMatchObject({
      subjects: ["events.a", "events.b"],
      storage: "memory",
      retention: "workqueue",
      max_msgs: 1000,
      max_bytes: 10 * 1024 * 1024,
      max_age: 3_600_000_000_000,
      max_msgs_per_subject: 5,
      max_msg_size: 1024,
      discard: "new",
      duplicate_window: 30_000_000_000,
      allow_rollup_hdrs: true,
      deny_delete: true,
      deny_purge: false,
      allow_direct: false
    })
    const shortAge = JSON.parse(succeeded(await nats("stream", "add", "SHORT", "--max-age", "30s", "--json")).stdout).config
    expect(shortAge).toMatchObject({ subjects: ["SHORT"], duplicate_window: 30_000_000_000, max_age: 30_000_000_000 })
  })
})

describe("nats JetStream commands: input errors and servers without JetStream", () => {
  it.each([
    [["stream", "add", "X", "--storage", "foo"], 'nats: invalid value "foo" for --storage: expected file or memory'],
    [["stream", "add", "X", "--retention", "forever"], 'nats: invalid value "forever" for --retention: expected limits, interest or workqueue'],
    [["stream", "add", "X", "--discard", "all"], 'nats: invalid value "all" for --discard: expected old or new'],
    [["stream", "add", "X", "--max-bytes", "ten"], 'nats: invalid size "ten" for --max-bytes: expected e.g. 512, 1KB, 10MiB or 1GB, or -1 for unlimited'],
    [["stream", "add", "X", "--max-age", "soon"], 'nats: invalid duration "soon" for --max-age: expected e.g. 500ms, 2s or 1m, or -1 for unlimited'],
    [["stream", "add", "bad.name"], 'nats: invalid stream name "bad.name": expected a name without spaces, dots, *, >, / or \\'],
    [["stream", "add", "X", "--subjects", "a..b"], 'nats: invalid subject "a..b" for --subjects: a subject cannot have an empty token (leading, trailing or double dot)'],
    [["consumer", "add", "S", "C", "--ack", "maybe"], 'nats: invalid value "maybe" for --ack: expected explicit, all or none'],
    [["consumer", "add", "S", "C", "--deliver", "sometime"], 'nats: invalid value "sometime" for --deliver: expected all, last, new, last_per_subject, a start sequence or a duration such as 1h'],
    [["consumer", "add", "S", "C", "--pull", "--target", "t"], "nats: --pull and --target cannot be used together"],
    [["stream", "purge", "S", "--seq", "3", "--keep", "1"], "nats: --seq and --keep cannot be combined when purging"],
    [["stream", "frob"], 'nats: unknown command "frob" for nats stream (try nats stream --help)'],
    [["consumer", "add", "S"], "nats: missing CONSUMER (usage: nats consumer add STREAM CONSUMER [flags])"]
  ])("%j: bad input is one line naming the flag, exit code 1", async (args, line) => {
    expectOneErrorLine(await runNatsCommand(["-s", "nats://127.0.0.1:1", ...args]), line)
  })

  it("says JetStream is not enabled when the server has none", async () => {
    const plain = await startNatsServer()
    try {
      for (const args of [["stream", "ls"], ["stream", "info", "ORDERS"], ["consumer", "next", "ORDERS", "processor"]]) {
        expectOneErrorLine(await runNatsCommand(["-s", plain.url, ...args]), "nats: JetStream is not enabled on the server")
      }
    } finally {
      await plain.stop()
    }
  })

  it("nats stream --help lists the subcommands", async () => {
    const help = await runNatsCommand(["stream", "--help"])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain("usage: nats stream [flags] COMMAND [arguments]")
    expect(help.stdout).toMatch(/ add, create, new +Create a new stream\n/)
  })
})

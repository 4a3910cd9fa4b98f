import { afterEach, beforeAll, describe, expect, it } from "vitest"
import { buildCli } from "../../scripts/build-cli.ts"
import { diffTargets, eventually, freePort, useTarget } from "../support/index.ts"
import {
  expectOneErrorLine,
  finishWithin,
  killNatsCommands,
  type RunningCommand,
  runNatsCommand,
  startNatsCommand
} from "../support/natsCommand.ts"

/** Starts a long-running command (sub, reply) and waits until it says it is listening. */
const startListening = async (args: ReadonlyArray<string>): Promise<RunningCommand> => {
  const command = startNatsCommand(args)
  await eventually(
    () => {
      if (command.child.exitCode !== null) throw new Error(`exited early: ${command.stderr()}`)
      expect(command.stderr()).toMatch(/Subscribing on|Listening on/)
    },
    { timeout: 10_000 }
  )
  return command
}

// The bin launcher runs the esbuild bundle when it exists; building first means these tests
// exercise exactly what users run, and never a stale bundle.
beforeAll(() => buildCli(), 60_000)

afterEach(killNatsCommands)

describe.each(diffTargets())("nats commands against $name", (target) => {
  const server = useTarget(target)

  const on = (...args: Array<string>): Array<string> => ["-s", server().url, ...args]

  it("sub prints what pub publishes, body intact", async () => {
    const subscriber = await startListening(on("sub", "greetings", "--count", "1"))
    const published = await runNatsCommand(on("pub", "greetings", "hello world"))
    expect(published.code).toBe(0)
    expect(published.stderr).toMatch(/^\d\d:\d\d:\d\d Published 11 bytes to "greetings"\n$/)
    const received = await finishWithin(subscriber)
    expect(received.code).toBe(0)
    expect(received.stdout).toBe('[#1] Received on "greetings"\nhello world\n\n')
  })

  it("finds the server through NATS_URL when -s is not given", async () => {
    const subscriber = await startListening(on("sub", "from.env", "--count", "1", "--raw"))
    const published = await runNatsCommand(["pub", "from.env", "via env"], { env: { NATS_URL: server().url } })
    expect(published.code).toBe(0)
    expect((await finishWithin(subscriber)).stdout).toBe("via env\n")
  })

  it("sub --queue: two members of a group get each message exactly once", async () => {
    const members = [
      await startListening(on("sub", "work.items", "--queue", "workers", "--raw")),
      await startListening(on("sub", "work.items", "--queue", "workers", "--raw"))
    ]
    const everyone = await startListening(on("sub", "work.items", "--raw", "--count", "30"))
    const published = await runNatsCommand(on("pub", "work.items", "item {{Count}}", "--count", "30"))
    expect(published.code).toBe(0)
    expect(published.stderr).toMatch(/^\d\d:\d\d:\d\d Published 30 messages \(\d+ bytes\) to "work.items"\n$/)
    const lines = (command: RunningCommand) => command.stdout().split("\n").filter((line) => line !== "")
    await eventually(() => {
      expect(lines(everyone)).toHaveLength(30)
      expect(lines(members[0]).length + lines(members[1]).length).toBeGreaterThanOrEqual(30)
    })
    const delivered = [...lines(members[0]), ...lines(members[1])]
    expect(delivered.sort()).toEqual(Array.from({ length: 30 }, (_, index) => `item ${index + 1}`).sort())
    for (const member of members) member.child.kill("SIGTERM")
    for (const member of members) expect((await finishWithin(member)).code).toBe(0)
  })

  it("reply answers req, filling in {{.Request}}, {{.Subject}} and {{Count}}", async () => {
    const replier = await startListening(on("reply", "svc.*", "{{.Request}} from {{.Subject}} #{{Count}}", "--count", "2"))
    const first = await runNatsCommand(on("req", "svc.greet", "hello"))
    expect(first.code).toBe(0)
    expect(first.stdout).toBe("hello from svc.greet #1\n")
    expect(first.stderr).toMatch(/Sending request on "svc.greet"\n.*Received with rtt \d+(\.\d+)?(ms|µs|s)\n$/)
    const second = await runNatsCommand(on("request", "svc.time", "tick", "--raw"))
    expect(second).toEqual({ code: 0, stdout: "tick from svc.time #2\n", stderr: "" })
    const replied = await finishWithin(replier)
    expect(replied.code).toBe(0)
    expect(replied.stderr).toMatch(/\[#1\] Received on subject "svc.greet":/)
  })

  it("reply without a body echoes each request, and stops cleanly on SIGTERM", async () => {
    const echo = await startListening(on("reply", "svc.echo"))
    const answered = await runNatsCommand(on("req", "svc.echo", "same back", "-H", "X-Echo:yes"))
    expect(answered.code).toBe(0)
    expect(answered.stdout).toBe("same back\n")
    expect(answered.stderr).toMatch(/X-Echo: yes/)
    echo.child.kill("SIGTERM")
    expect((await finishWithin(echo)).code).toBe(0)
  })

  it("pub --count numbers each body with {{Count}}", async () => {
    const subscriber = await startListening(on("sub", "counted", "--count", "3", "--raw"))
    const published = await runNatsCommand(on("pub", "counted", "n={{Count}} ({{.Count}})", "--count", "3"))
    expect(published.code).toBe(0)
    expect(published.stderr.match(/Published \d+ bytes to "counted"/g)).toHaveLength(3)
    expect((await finishWithin(subscriber)).stdout).toBe("n=1 (1)\nn=2 (2)\nn=3 (3)\n")
  })

  it("pub -H headers reach the subscriber", async () => {
    const subscriber = await startListening(on("sub", "with.headers", "--count", "2"))
    const published = await runNatsCommand(on("pub", "with.headers", "payload", "-H", "X-Trace:abc 123", "--header=X-Number:{{Count}}", "--count", "2"))
    expect(published.code).toBe(0)
    const received = await finishWithin(subscriber)
    expect(received.stdout).toBe(
      '[#1] Received on "with.headers"\nX-Trace: abc 123\nX-Number: 1\n\npayload\n\n' +
        '[#2] Received on "with.headers"\nX-Trace: abc 123\nX-Number: 2\n\npayload\n\n'
    )
  })

  it("pub reads the body from stdin when none is given", async () => {
    const subscriber = await startListening(on("sub", "from.stdin", "--count", "1", "--raw"))
    const published = await runNatsCommand(on("pub", "from.stdin"), { input: "line one\nline two" })
    expect(published.code).toBe(0)
    expect(published.stderr).toMatch(/Published 17 bytes to "from.stdin"/)
    expect((await finishWithin(subscriber)).stdout).toBe("line one\nline two\n")
  })

  it("req with no responders fails with one line and exit code 1", async () => {
    const result = await runNatsCommand(on("req", "nobody.home", "x", "--raw"))
    expectOneErrorLine(result, 'nats: no responders are available for subject "nobody.home"')
  })

  it("req that gets no reply in time fails with one line and exit code 1", async () => {
    const silent = await startListening(on("sub", "silent.service"))
    const started = Date.now()
    const result = await runNatsCommand(on("req", "silent.service", "x", "--timeout", "300ms", "--raw"))
    expectOneErrorLine(result, 'nats: timed out after 300ms waiting for a reply on "silent.service"')
    expect(Date.now() - started).toBeLessThan(5000)
    silent.child.kill("SIGTERM")
  })

  it("authenticates with --user and --password, and reports what the server refuses", async () => {
    const guarded = await target.start({ auth: { users: [{ user: "app", password: "s3cret", permissions: { publish: { deny: ["secret.>"] } } }] } })
    try {
      const as = (password: string, ...args: Array<string>) => runNatsCommand(["-s", guarded.url, "--user", "app", "--password", password, ...args])
      expect((await as("s3cret", "pub", "open.news", "x")).code).toBe(0)
      expectOneErrorLine(await as("wrong", "pub", "open.news", "x"), `nats: could not connect to ${guarded.url}: authorization violation`)
      expectOneErrorLine(await as("s3cret", "pub", "secret.plans", "x"), 'nats: Permissions Violation for Publish to "secret.plans"')
    } finally {
      await guarded.stop()
    }
  })
})

describe("nats commands without a server", () => {
  it.each([
    [["pub", "greetings", "x"]],
    [["sub", "greetings"]],
    [["req", "greetings", "x"]],
    [["reply", "greetings", "x"]]
  ])("%j: an unreachable server is one line and exit code 1", async (args) => {
    const port = await freePort()
    const result = await runNatsCommand(["-s", `nats://127.0.0.1:${port}`, ...args])
    expectOneErrorLine(result, `nats: could not connect to nats://127.0.0.1:${port}: connection refused`)
  })

  it.each([
    [["pub", "greetings", "x", "--count", "many"], 'nats: invalid value "many" for --count: expected a whole number'],
    [["req", "greetings", "x", "--timeout", "2x"], 'nats: invalid duration "2x" for --timeout: expected e.g. 500ms, 2s or 1m'],
    [["pub", "bad subject", "x"], 'nats: invalid subject "bad subject": a subject cannot contain whitespace'],
    [["pub", "orders.*", "x"], 'nats: invalid subject "orders.*": wildcards (* and >) are only allowed when subscribing'],
    [["pub", "greetings", "x", "-H", "NoColon"], 'nats: invalid header "NoColon" for --header: expected KEY:VALUE'],
    [["sub", "greetings", "--frobnicate"], "nats: unknown flag --frobnicate for nats subscribe"],
    [["-s", "nats://bad host", "pub", "x"], 'nats: invalid server URL "nats://bad host" for --server']
  ])("%j: bad input is one line naming the argument, exit code 1", async (args, line) => {
    expectOneErrorLine(await runNatsCommand(args), line)
  })
})

import { execFile } from "node:child_process"
import { existsSync, mkdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { delimiter, join } from "node:path"
import { promisify } from "node:util"
import type { Scenario } from "../Scenario.ts"

const run = promisify(execFile)
const source = join(import.meta.dirname, "..", "go", "natsbench.go")
// Debian's golang-github-nats-io-go-nats-dev installs nats.go here, usable offline in GOPATH mode.
const debianGoPath = "/usr/share/gocode"

const findOnPath = (command: string): string | undefined =>
  (process.env.PATH ?? "")
    .split(delimiter)
    .map((directory) => join(directory, command))
    .find((candidate) => existsSync(candidate))

/** Builds bench/go/natsbench.go into `directory`; resolves the binary path or why it could not. */
export const buildGoBench = async (directory: string): Promise<{ binary: string } | { skipped: string }> => {
  const go = findOnPath("go")
  if (go === undefined) return { skipped: "go is not installed (apt-get install golang-go golang-github-nats-io-go-nats-dev)" }
  if (!existsSync(join(debianGoPath, "src", "github.com", "nats-io", "nats.go"))) {
    return { skipped: `nats.go is not under ${debianGoPath} (apt-get install golang-github-nats-io-go-nats-dev)` }
  }
  const binary = join(directory, "natsbench")
  const cache = join(tmpdir(), "nex-bench-go-cache")
  mkdirSync(cache, { recursive: true })
  try {
    await run(go, ["build", "-o", binary, source], {
      env: { ...process.env, GO111MODULE: "off", GOPATH: debianGoPath, GOCACHE: cache, GOFLAGS: "" }
    })
    return { binary }
  } catch (error) {
    return { skipped: `go build failed: ${(error as { stderr?: string }).stderr ?? String(error)}` }
  }
}

interface GoResult {
  readonly messages: number
  readonly published: number
  readonly rate: number
  readonly timedOut: boolean
}

/** pub -> sub, 16 B, with the compiled nats.go client: shows the server when the client is not the bottleneck. */
export const goClient = (binary: string): Scenario => ({
  id: "go-pubsub",
  title: "nats.go pub->sub 16 B",
  run: async (server, budget) => {
    const { stdout } = await run(binary, ["-url", server.url, "-msgs", String(budget.messages), "-size", "16", "-timeout", `${budget.timeMs * 2}ms`], {
      timeout: budget.timeMs * 2 + 15_000
    })
    const result = JSON.parse(stdout) as GoResult
    return [
      { metric: "delivered", unit: "msgs/s", value: result.rate, higherIsBetter: true },
      ...(result.published > result.messages ? [{ metric: "not delivered", unit: "msgs", value: result.published - result.messages, higherIsBetter: false }] : [])
    ]
  }
})

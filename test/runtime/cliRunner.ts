import { type ChildProcess, spawn } from "node:child_process"
import { join } from "node:path"
import { nexEntry, repoRoot } from "../support/index.ts"

export const natsEntry = join(repoRoot, "packages", "cli", "src", "nats.ts")

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export interface RunningCli {
  readonly child: ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  readonly done: Promise<CliResult>
}

/** Starts a CLI command (`nex.ts` or `nats.ts` from source) in the repo root; killed after `timeout` ms. */
export const startCli = (entry: string, args: ReadonlyArray<string>, timeout = 30_000): RunningCli => {
  const child = spawn(process.execPath, [entry, ...args], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NATS_URL: "" } })
  let stdout = ""
  let stderr = ""
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
  const timer = setTimeout(() => child.kill("SIGKILL"), timeout)
  const done = new Promise<CliResult>((resolve) =>
    child.once("close", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  )
  return { child, stdout: () => stdout, stderr: () => stderr, done }
}

export const nex = (args: ReadonlyArray<string>, timeout?: number): Promise<CliResult> => startCli(nexEntry, args, timeout).done
export const nats = (args: ReadonlyArray<string>, timeout?: number): Promise<CliResult> => startCli(natsEntry, args, timeout).done

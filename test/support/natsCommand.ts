import { type ChildProcess, spawn } from "node:child_process"
import { join } from "node:path"
import { repoRoot } from "./nexNode.ts"

/** The `nats` bin launcher: it runs the esbuild bundle when one is built (tests build it first). */
export const natsBin = join(repoRoot, "packages", "cli", "bin", "nats.js")

export interface CommandResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const running = new Set<ChildProcess>()

/**
 * Runs `nats ARGS` to completion with stdin not a terminal (closed, or fed `input`) and NATS_URL
 * unset; a command still running after `timeout` ms is killed (its result then has code null).
 */
export const runNatsCommand = (
  args: ReadonlyArray<string>,
  options: { readonly input?: string; readonly timeout?: number } = {}
): Promise<CommandResult> => {
  const environment = { ...process.env }
  delete environment.NATS_URL
  const child = spawn(process.execPath, [natsBin, ...args], {
    cwd: repoRoot,
    env: environment,
    stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"]
  })
  running.add(child)
  let stdout = ""
  let stderr = ""
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
  if (options.input !== undefined) child.stdin!.end(options.input)
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeout ?? 15_000)
  return new Promise((resolve) =>
    child.once("close", (code) => {
      clearTimeout(timer)
      running.delete(child)
      resolve({ code, stdout, stderr })
    })
  )
}

/** Kills every command still running (for afterEach/afterAll). */
export const killNatsCommands = (): void => {
  for (const child of running) child.kill("SIGKILL")
}

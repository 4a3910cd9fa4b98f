import { type ChildProcess, spawn } from "node:child_process"
import { join } from "node:path"
import { expect } from "vitest"
import { repoRoot } from "./nexNode.ts"

/** The `nats` bin launcher: it runs the esbuild bundle when one is built (tests build it first). */
export const natsBin = join(repoRoot, "packages", "cli", "bin", "nats.js")

export interface CommandResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export interface NatsCommandOptions {
  /** Fed to stdin, which is then closed; without it stdin is closed from the start (not a terminal). */
  readonly input?: string
  /** Added to the environment; NATS_URL is unset unless given here. */
  readonly env?: NodeJS.ProcessEnv
  /** Working directory (default: the repository root). */
  readonly cwd?: string
  /** Kills the command after this many ms (its result then has code null); no limit by default. */
  readonly timeout?: number
}

export interface RunningCommand {
  readonly child: ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  readonly finished: Promise<CommandResult>
}

const running = new Set<ChildProcess>()

/** Starts `nats ARGS`; its output is readable as it arrives. killNatsCommands ends what is left. */
export const startNatsCommand = (args: ReadonlyArray<string>, options: NatsCommandOptions = {}): RunningCommand => {
  const environment = { ...process.env, ...options.env }
  if (options.env?.NATS_URL === undefined) delete environment.NATS_URL
  const child = spawn(process.execPath, [natsBin, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: environment,
    stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"]
  })
  running.add(child)
  let stdout = ""
  let stderr = ""
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
  if (options.input !== undefined) child.stdin!.end(options.input)
  const timer = options.timeout === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), options.timeout)
  const finished = new Promise<CommandResult>((resolve) =>
    child.once("close", (code) => {
      clearTimeout(timer)
      running.delete(child)
      resolve({ code, stdout, stderr })
    })
  )
  return { child, stdout: () => stdout, stderr: () => stderr, finished }
}

/** Runs `nats ARGS` to completion; a command still running after `timeout` ms (default 15 s) is killed. */
export const runNatsCommand = (args: ReadonlyArray<string>, options: NatsCommandOptions = {}): Promise<CommandResult> =>
  startNatsCommand(args, { ...options, timeout: options.timeout ?? 15_000 }).finished

/** Waits for a running command to end; past `milliseconds` it is killed (code null). */
export const finishWithin = async (command: RunningCommand, milliseconds = 10_000): Promise<CommandResult> => {
  const timer = setTimeout(() => command.child.kill("SIGKILL"), milliseconds)
  try {
    return await command.finished
  } finally {
    clearTimeout(timer)
  }
}

/** Kills every command still running (for afterEach/afterAll). */
export const killNatsCommands = (): void => {
  for (const child of running) child.kill("SIGKILL")
}

/** The command exited 0 with nothing on stderr. */
export const succeeded = <Result extends CommandResult>(result: Result): Result => {
  expect(result.stderr, "no error output").toBe("")
  expect(result.code).toBe(0)
  return result
}

/** stderr holds exactly this one error line and nothing else, and the exit code is 1. */
export const expectOneErrorLine = (result: CommandResult, line: string): void => {
  expect(result.stderr).toBe(`${line}\n`)
  expect(result.code).toBe(1)
}

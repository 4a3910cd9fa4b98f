import { type ChildProcess, spawn } from "node:child_process"
import { connect } from "node:net"
import { eventually } from "./eventually.ts"

export interface Spawned {
  readonly child: ChildProcess
  readonly output: () => string
  /** Sends `signal` to the process we started (by PID) and waits for it to exit. */
  readonly stop: (signal?: NodeJS.Signals) => Promise<void>
}

/** Starts a command whose stdout/stderr are captured for failure messages. */
export const spawnProcess = (command: string, args: ReadonlyArray<string>, options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Spawned => {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  return {
    child,
    output: () => output,
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      await exited
    }
  }
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export const waitForPort = (port: number, timeout = 10_000): Promise<void> =>
  eventually(
    () =>
      new Promise<void>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1")
        socket.once("connect", () => {
          socket.destroy()
          resolve()
        })
        socket.once("error", reject)
      }),
    { timeout, interval: 25 }
  )

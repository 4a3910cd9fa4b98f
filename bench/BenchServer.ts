import { readFileSync } from "node:fs"
import { buildCli } from "../scripts/build-cli.ts"
import { startNatsServer } from "../test/support/natsServer.ts"
import { startNex } from "../test/support/nexNode.ts"
import type { Target } from "../test/support/natsServer.ts"

export type ServerName = Target["name"]

/** A server process the bench talks to over loopback, with its memory readable from /proc. */
export interface BenchServer {
  readonly name: ServerName
  readonly url: string
  readonly port: number
  readonly pid: number
  /** Resident set size of the server process in bytes, or NaN once it is gone. */
  readonly rssBytes: () => number
  readonly isRunning: () => boolean
  readonly stop: () => Promise<void>
}

/** Resident set size of a process in bytes, from /proc; NaN once it is gone. */
export const residentBytes = (pid: number): number => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8")
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)
    return match === null ? Number.NaN : Number(match[1]) * 1024
  } catch {
    return Number.NaN
  }
}

/**
 * The fields of /proc/<pid>/stat after the parenthesised command name (which may itself contain
 * spaces and parentheses), or undefined once the process is gone.
 */
export const statFields = (pid: number | string): string[] | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  } catch {
    return undefined
  }
}

/** CPU time (user and system) a process has used, in seconds, from /proc; NaN once it is gone. */
export const cpuSeconds = (pid: number): number => {
  const fields = statFields(pid)
  // utime and stime are the 12th and 13th fields after the command name.
  return fields === undefined ? Number.NaN : (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond
}

/** Linux reports /proc times in USER_HZ ticks, 100 per second on every mainstream architecture. */
const clockTicksPerSecond = 100

let bundleBuilt: Promise<void> | undefined

/** Starts the named server as its own process on a free loopback port. */
export const startBenchServer = async (name: ServerName): Promise<BenchServer> => {
  // Measure what `npm start` runs: the bundle, rebuilt from the current source once per bench run.
  if (name === "nex") await (bundleBuilt ??= buildCli())
  const target = name === "nex" ? await startNex({ bundled: true }) : await startNatsServer()
  const { child } = target.process
  const pid = child.pid
  if (pid === undefined) throw new Error(`${name} has no pid`)
  return {
    name,
    url: target.url,
    port: target.port,
    pid,
    rssBytes: () => residentBytes(pid),
    isRunning: () => child.exitCode === null && child.signalCode === null,
    stop: target.stop
  }
}

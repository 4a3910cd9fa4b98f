import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, expect } from "vitest"
import { hasNatsServer, startNatsServer, type Target } from "./natsServer.ts"
import { startNex } from "./nexNode.ts"
import { tempDir } from "./tempdir.ts"

export type TargetName = Target["name"]

interface PermissionList {
  readonly allow?: ReadonlyArray<string>
  readonly deny?: ReadonlyArray<string>
}

/** Server settings a differential test needs, spelled the way nex's config spells them. */
export interface TargetOptions {
  readonly auth?:
    | { readonly token: string }
    | {
        readonly users: ReadonlyArray<{
          readonly user: string
          readonly password: string
          readonly permissions?: { readonly publish?: PermissionList; readonly subscribe?: PermissionList }
        }>
      }
  /** Outbound bytes a connection may queue before the server cuts it off as a slow consumer. */
  readonly maxPending?: number
}

export interface DiffTarget {
  readonly name: TargetName
  /** False when the target cannot run here (nats-server not installed); its tests are skipped. */
  readonly available: boolean
  readonly start: (options?: TargetOptions) => Promise<Target>
}

const needsConfig = (options: TargetOptions): boolean => options.auth !== undefined || options.maxPending !== undefined

/** Removes the config directory once the server it configured has stopped. */
const withConfigDir = async (directory: { remove: () => void }, start: () => Promise<Target>): Promise<Target> => {
  try {
    const target = await start()
    return {
      ...target,
      stop: async () => {
        await target.stop()
        directory.remove()
      }
    }
  } catch (error) {
    directory.remove()
    throw error
  }
}

// nats-server's config format accepts JSON values, so the nex-shaped options translate one to one.
const startNatsServerWith = (options: TargetOptions = {}): Promise<Target> => {
  if (!needsConfig(options)) return startNatsServer()
  const directory = tempDir("nats-server-conf-")
  const file = join(directory.path, "server.conf")
  const lines: string[] = []
  if (options.maxPending !== undefined) lines.push(`max_pending: ${options.maxPending}`)
  if (options.auth !== undefined) lines.push(`authorization: ${JSON.stringify(options.auth)}`)
  writeFileSync(file, lines.join("\n") + "\n")
  return withConfigDir(directory, () => startNatsServer({ args: ["-c", file] }))
}

const startNexWith = (options: TargetOptions = {}): Promise<Target> => {
  if (!needsConfig(options)) return startNex()
  const directory = tempDir("nex-conf-")
  const file = join(directory.path, "nex.config.ts")
  writeFileSync(file, `export default ${JSON.stringify({ server: options }, null, 2)}\n`)
  return withConfigDir(directory, () => startNex({ configFile: file }))
}

const allTargets: ReadonlyArray<DiffTarget> = [
  { name: "nats-server", available: hasNatsServer, start: startNatsServerWith },
  { name: "nex", available: true, start: startNexWith }
]

/**
 * The servers every differential test runs against, reference first. `DIFF_TARGETS=nats-server`
 * (a comma-separated list of names) restricts the set.
 */
export const diffTargets = (): ReadonlyArray<DiffTarget> => {
  const selected = process.env.DIFF_TARGETS?.split(",").map((name) => name.trim()).filter((name) => name !== "")
  if (selected === undefined || selected.length === 0) return allTargets
  return allTargets.filter((target) => selected.includes(target.name))
}

/** Starts the target once for the enclosing describe block and returns an accessor for it. */
export const useTarget = (target: DiffTarget, options?: TargetOptions): (() => Target) => {
  let started: Target | undefined
  beforeAll(async () => {
    started = await target.start(options)
  })
  afterAll(async () => {
    await started?.stop()
  })
  return () => {
    if (started === undefined) throw new Error(`${target.name} is not running`)
    return started
  }
}

/**
 * Compares each scenario's observation on nex with the one nats-server produced earlier in the same
 * file (targets run reference first); observations from the reference are only recorded.
 */
export const referenceComparison = () => {
  const reference = new Map<string, unknown>()
  return (target: TargetName, scenario: string, observation: unknown): void => {
    if (target === "nats-server") reference.set(scenario, observation)
    else if (reference.has(scenario)) expect(observation, `${scenario}: nex differs from nats-server`).toEqual(reference.get(scenario))
  }
}

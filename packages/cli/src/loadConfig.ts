import { existsSync } from "node:fs"
import { isAbsolute, relative, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { Data, Effect } from "effect"
import { type NexConfig, parseNexConfig } from "./config.ts"

export const defaultConfigFile = "nex.config.ts"

/** Why the config could not be used; `message` is one line starting with the file's name. */
export class ConfigError extends Data.TaggedError("ConfigError")<{
  readonly reason: "NotFound" | "Import" | "Invalid"
  readonly message: string
  readonly cause?: unknown
}> {}

const displayName = (path: string, workingDirectory: string): string => {
  const fromHere = relative(workingDirectory, path)
  return fromHere.startsWith("..") || isAbsolute(fromHere) ? path : fromHere
}

const firstLine = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split("\n")[0]

/** Imports a config module (TypeScript is fine: Node strips the types) and validates its default export. */
export const loadConfigFile = (file: string, workingDirectory = process.cwd()): Effect.Effect<NexConfig, ConfigError> =>
  Effect.gen(function* () {
    const path = resolve(workingDirectory, file)
    const name = displayName(path, workingDirectory)
    if (!existsSync(path)) return yield* new ConfigError({ reason: "NotFound", message: `${name}: no such file` })
    const module = yield* Effect.tryPromise({
      try: () => import(pathToFileURL(path).href) as Promise<{ readonly default?: unknown }>,
      catch: (cause) => new ConfigError({ reason: "Import", message: `${name}: could not be loaded: ${firstLine(cause)}`, cause })
    })
    if (module.default === undefined) {
      return yield* new ConfigError({ reason: "Invalid", message: `${name}: has no default export (write export default defineConfig({ ... }))` })
    }
    const result = parseNexConfig(module.default)
    if (!result.success) return yield* new ConfigError({ reason: "Invalid", message: `${name}: ${result.problem}` })
    return result.config
  })

/** The given config file, else ./nex.config.ts when there is one, else the defaults. */
export const loadConfig = (file: string | undefined, workingDirectory = process.cwd()): Effect.Effect<NexConfig, ConfigError> => {
  if (file !== undefined) return loadConfigFile(file, workingDirectory)
  if (existsSync(resolve(workingDirectory, defaultConfigFile))) return loadConfigFile(defaultConfigFile, workingDirectory)
  const defaults = parseNexConfig({})
  return defaults.success ? Effect.succeed(defaults.config) : Effect.die(new Error(defaults.problem))
}

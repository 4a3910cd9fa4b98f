import { createHash } from "node:crypto"
import { existsSync } from "node:fs"
import { builtinModules } from "node:module"
import { isAbsolute, relative, resolve } from "node:path"
import { Data, Effect } from "effect"
import { build, type Message, type Plugin, stop } from "esbuild"

/** A workload compiled to one self-contained ES module. */
export interface Bundle {
  readonly code: string
  readonly bytes: Uint8Array
  readonly sha256: string
  readonly size: number
}

export class BundleError extends Data.TaggedError("BundleError")<{
  readonly reason: "NotFound" | "Build"
  /** One line per problem, each starting with `file:line:column:` when esbuild knows where. */
  readonly message: string
}> {}

const builtins = new Set(builtinModules)

// A workload runs in a bare V8 isolate: Node's modules do not exist there, so refuse them at
// bundle time with a sentence that says what to use instead, rather than failing at start.
const refuseNodeBuiltins: Plugin = {
  name: "nex-refuse-node-builtins",
  setup(plugin) {
    plugin.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => {
      if (!args.path.startsWith("node:") && !builtins.has(args.path)) return undefined
      return {
        errors: [{ text: `"${args.path}" is a Node.js built-in module; workloads run in a sandbox without Node's APIs (use the context: ctx.kv, ctx.objects, ctx.publish, ctx.log)` }]
      }
    })
  }
}

/**
 * esbuild builds in a service process that stays alive and pings this process while it lives. A
 * node bundles only when workloads are deployed, so the service is stopped once no build has run
 * for a few seconds; the next build starts it again.
 */
const serviceIdleMs = 5000
let buildsInFlight = 0
let serviceStop: ReturnType<typeof setTimeout> | undefined

const inService = <A>(work: () => Promise<A>): Promise<A> => {
  buildsInFlight++
  if (serviceStop !== undefined) clearTimeout(serviceStop)
  serviceStop = undefined
  return work().finally(() => {
    if (--buildsInFlight > 0) return
    serviceStop = setTimeout(() => {
      serviceStop = undefined
      if (buildsInFlight === 0) void stop()
    }, serviceIdleMs)
    serviceStop.unref()
  })
}

/** A path as the user would type it: relative to the working directory when inside it. */
export const displayPath = (file: string, workingDirectory: string): string => {
  const fromHere = relative(workingDirectory, resolve(workingDirectory, file))
  return fromHere.startsWith("..") || isAbsolute(fromHere) ? resolve(workingDirectory, file) : fromHere
}

const explain = (text: string): string =>
  text.startsWith("Top-level await is not available")
    ? "top-level await is not supported in a workload (its module must export the handler at once); await inside the handler instead"
    : text

const describeMessage = (message: Message): string =>
  message.location === null
    ? explain(message.text)
    : `${message.location.file}:${message.location.line}:${message.location.column + 1}: ${explain(message.text)}`

/**
 * Bundles a workload the way `nex deploy` ships it: one ES module (target es2023, no platform),
 * npm packages included, Node built-ins refused, top-level await refused (an isolate's module
 * would report its exports before the await settles).
 */
export const bundleWorkload = (file: string, workingDirectory = process.cwd()): Effect.Effect<Bundle, BundleError> =>
  Effect.gen(function* () {
    const path = resolve(workingDirectory, file)
    const shown = displayPath(file, workingDirectory)
    if (!existsSync(path)) return yield* new BundleError({ reason: "NotFound", message: `${shown}: no such file` })
    const result = yield* Effect.tryPromise({
      try: () =>
        inService(() =>
          build({
            entryPoints: [path],
            absWorkingDir: workingDirectory,
            bundle: true,
            format: "esm",
            platform: "neutral",
            target: "es2023",
            mainFields: ["module", "main"],
            supported: { "top-level-await": false },
            plugins: [refuseNodeBuiltins],
            write: false,
            logLevel: "silent",
            legalComments: "none",
            charset: "utf8"
          })
        ),
      catch: (failure) => {
        const errors = (failure as { errors?: ReadonlyArray<Message> }).errors
        const message = errors !== undefined && errors.length > 0 ? errors.map(describeMessage).join("\n") : `${shown}: ${String(failure)}`
        return new BundleError({ reason: "Build", message })
      }
    })
    const bytes = result.outputFiles[0].contents
    return {
      code: result.outputFiles[0].text,
      bytes,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      size: bytes.byteLength
    }
  })

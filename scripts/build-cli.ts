import { mkdirSync, renameSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { build } from "esbuild"

const cliPackage = join(import.meta.dirname, "..", "packages", "cli")

// Bundled, the commands start several times faster than from the TypeScript sources, which make
// Node resolve, read and strip hundreds of modules (`nats pub`: ~55 ms bundled, ~125 ms from source).
const entries = [
  { source: "src/nats.ts", output: "dist/nats.mjs" },
  { source: "src/nex.ts", output: "dist/nex.mjs" }
]

// CommonJS dependencies (the NATS client) call require() on Node built-ins; give the ESM bundle one.
const requireShim = 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);'

/** Bundles the `nats` and `nex` commands into packages/cli/dist; each file is replaced atomically. */
export const buildCli = async (): Promise<void> => {
  mkdirSync(join(cliPackage, "dist"), { recursive: true })
  await Promise.all(
    entries.map(async (entry) => {
      const result = await build({
        entryPoints: [join(cliPackage, entry.source)],
        bundle: true,
        platform: "node",
        format: "esm",
        target: "node24",
        minify: true,
        write: false,
        logLevel: "warning",
        banner: { js: requireShim },
        // esbuild locates its native binary from its own install directory, so it stays a package import.
        external: ["esbuild"]
      })
      const destination = join(cliPackage, entry.output)
      const temporary = `${destination}.${process.pid}.tmp`
      writeFileSync(temporary, result.outputFiles[0].contents)
      renameSync(temporary, destination)
    })
  )
}

if (import.meta.main) await buildCli()

import { createHash } from "node:crypto"
import { join } from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { bundleWorkload } from "../src/Bundler.ts"

const packageRoot = join(import.meta.dirname, "..")
const bundle = (file: string) => Effect.runPromise(Effect.either(bundleWorkload(file, packageRoot)))

describe("bundleWorkload", () => {
  it("bundles npm packages into one ES module named by its SHA-256", async () => {
    const result = await bundle("test/fixtures/usesNpm.ts")
    if (result._tag === "Left") throw new Error(result.left.message)
    expect(result.right.code).toMatch(/export\s*{[^}]*as default/)
    expect(result.right.code).not.toMatch(/\bimport\s.*from\s*["']zod/)
    expect(result.right.sha256).toBe(createHash("sha256").update(result.right.bytes).digest("hex"))
    expect(result.right.size).toBe(result.right.bytes.byteLength)
  })

  it("refuses Node built-ins, naming each import and where it is", async () => {
    const result = await bundle("test/fixtures/usesNode.js")
    expect(result._tag === "Left" && result.left.message.split("\n")).toEqual([
      `test/fixtures/usesNode.js:1:30: "node:fs" is a Node.js built-in module; workloads run in a sandbox without Node's APIs (use the context: ctx.kv, ctx.objects, ctx.publish, ctx.log)`,
      `test/fixtures/usesNode.js:2:18: "path" is a Node.js built-in module; workloads run in a sandbox without Node's APIs (use the context: ctx.kv, ctx.objects, ctx.publish, ctx.log)`
    ])
  })

  it("shows a syntax error as file:line:column, and refuses top-level await", async () => {
    const syntax = await bundle("test/fixtures/broken.js")
    expect(syntax._tag === "Left" && syntax.left.message).toBe('test/fixtures/broken.js:3:1: Unexpected "}"')
    const awaiting = await bundle("test/fixtures/topLevelAwait.js")
    expect(awaiting._tag === "Left" && awaiting.left.message).toBe(
      "test/fixtures/topLevelAwait.js:1:18: top-level await is not supported in a workload (its module must export the handler at once); await inside the handler instead"
    )
    const missing = await bundle("test/fixtures/nothing.ts")
    expect(missing._tag === "Left" && missing.left).toMatchObject({ reason: "NotFound", message: "test/fixtures/nothing.ts: no such file" })
  })
})

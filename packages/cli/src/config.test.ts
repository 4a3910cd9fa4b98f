import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { repoRoot, tempDir } from "../../../test/support/index.ts"
import { parseNexConfig } from "./config.ts"
import { loadConfig, loadConfigFile } from "./loadConfig.ts"

const problemFor = (input: unknown): string => {
  const result = parseNexConfig(input)
  if (result.success) throw new Error(`expected ${JSON.stringify(input)} to be rejected`)
  return result.problem
}

describe("parseNexConfig", () => {
  it("fills in nats-server's defaults for an empty config", () => {
    const result = parseNexConfig({})
    expect(result.success).toBe(true)
    if (!result.success) return
    expect(result.config.server).toMatchObject({ host: "127.0.0.1", port: 4222, maxPayload: 1024 * 1024 })
    expect(result.config.monitoring).toEqual({ port: 8222 })
    expect(result.config.jetstream).toEqual({ storeDir: ".nex-data" })
    expect(result.config.workloads).toEqual([])
  })

  it("accepts every documented section", () => {
    const result = parseNexConfig({
      server: {
        host: "0.0.0.0",
        port: 0,
        serverName: "edge-1",
        maxPayload: 2048,
        auth: {
          users: [
            {
              user: "app",
              password: "secret",
              permissions: { publish: { allow: ["orders.>"], deny: ["orders.admin"] }, subscribe: { allow: ["_INBOX.>"] }, allowResponses: true }
            }
          ]
        }
      },
      monitoring: { port: 0, host: "127.0.0.1" },
      jetstream: { storeDir: "/var/lib/nex", sync: "interval" },
      nats: "nats://10.0.0.1:4222",
      workloads: [{ file: "workloads/greeter/index.ts", name: "greeter", triggers: ["greet.*"], timeout: "2s" }]
    })
    expect(result).toMatchObject({ success: true, config: { server: { serverName: "edge-1", port: 0 }, jetstream: { sync: "interval" } } })
  })

  it.each([
    [{ server: { port: 70000 } }, "server.port: expected a number from 0 to 65535"],
    [{ server: { port: 1.5 } }, "server.port: expected a whole number from 0 to 65535, got number 1.5"],
    [{ server: { port: "4222" } }, 'server.port: expected a number from 0 to 65535, got the string "4222"'],
    [{ server: { maxPayload: 0 } }, "server.maxPayload: expected a number greater than 0 and at most 67108864"],
    [{ server: { host: "" } }, "server.host: must not be empty"],
    [{ server: { prot: 4222 } }, "server.prot: unknown field"],
    [{ server: { auth: { token: 5 } } }, "server.auth.token: expected a string, got number 5"],
    [{ server: { auth: { users: [{ user: "app" }] } } }, "server.auth.users[0].password: is required"],
    [{ server: { auth: { users: [] } } }, "server.auth.users: needs at least 1 entry"],
    [{ server: { auth: { users: [{ user: "a", password: "b", permissions: { publish: { allow: "x" } } }] } } }, 'server.auth.users[0].permissions.publish.allow: expected an array, got the string "x"'],
    [{ monitoring: { port: -1 } }, "monitoring.port: expected a number from 0 to 65535"],
    [{ monitoring: { port: 8222, tls: true } }, "monitoring.tls: unknown field"],
    [{ jetstream: { sync: "sometimes" } }, 'jetstream.sync: expected one of "always", "interval", "never"'],
    [{ jetstream: { storeDir: "" } }, "jetstream.storeDir: must not be empty"],
    [{ nats: 4222 }, "nats: expected a string, got number 4222"],
    [{ workloads: "none" }, 'workloads: expected an array, got the string "none"'],
    [{ sever: {} }, "sever: unknown field"],
    ["port=4222", 'expected an object, got the string "port=4222"']
  ])("rejects %j with %j", (input, problem) => {
    expect(problemFor(input)).toBe(problem)
  })
})

describe("loadConfig", () => {
  const directories: Array<{ remove: () => void }> = []
  afterEach(() => directories.splice(0).forEach((directory) => directory.remove()))

  const workspace = (files: Record<string, string>): string => {
    const directory = tempDir("nex-config-")
    directories.push(directory)
    for (const [name, text] of Object.entries(files)) writeFileSync(join(directory.path, name), text)
    return directory.path
  }

  const failure = (effect: Effect.Effect<unknown, { readonly reason: string; readonly message: string }>) =>
    Effect.runPromise(Effect.flip(effect))

  it("loads the repository's nex.config.ts, which imports defineConfig from @nex/cli", async () => {
    const config = await Effect.runPromise(loadConfigFile("nex.config.ts", repoRoot))
    expect(config.server).toMatchObject({ host: "127.0.0.1", port: 4222 })
    expect(config.monitoring.port).toBe(8222)
    expect(config.jetstream.storeDir).toBe(".nex-data")
    expect(config.workloads.map((workload) => workload.name)).toEqual(["greeter"])
    expect(config.runtime).toEqual({ enabled: true, sandboxProcesses: 2 })
  })

  it("imports a TypeScript file and validates its default export", async () => {
    const directory = workspace({
      "node.config.ts": 'const port: number = 4333\nexport default { server: { port, serverName: "typed" }, monitoring: { port: 0 } }\n'
    })
    const config = await Effect.runPromise(loadConfigFile("node.config.ts", directory))
    expect(config.server).toMatchObject({ port: 4333, serverName: "typed", host: "127.0.0.1" })
    expect(config.monitoring.port).toBe(0)
  })

  it("uses ./nex.config.ts when no file is named, and the defaults when there is none", async () => {
    const withFile = workspace({ "nex.config.ts": "export default { server: { port: 4444 } }\n" })
    expect((await Effect.runPromise(loadConfig(undefined, withFile))).server.port).toBe(4444)
    const empty = workspace({})
    expect((await Effect.runPromise(loadConfig(undefined, empty))).server.port).toBe(4222)
  })

  it("names the file and the field when a value is invalid", async () => {
    const directory = workspace({ "nex.config.ts": "export default { server: { port: 70000 } }\n" })
    const error = await failure(loadConfig(undefined, directory))
    expect(error).toMatchObject({ reason: "Invalid", message: "nex.config.ts: server.port: expected a number from 0 to 65535" })
  })

  it("reports a missing file, a missing default export and a file that does not load", async () => {
    const directory = workspace({
      "named.config.ts": "export const server = { port: 1 }\n",
      "broken.config.ts": "export default { server: { port: 1 }\n"
    })
    expect(await failure(loadConfigFile("missing.config.ts", directory))).toMatchObject({ reason: "NotFound", message: "missing.config.ts: no such file" })
    expect(await failure(loadConfigFile("named.config.ts", directory))).toMatchObject({
      reason: "Invalid",
      message: "named.config.ts: has no default export (write export default defineConfig({ ... }))"
    })
    const broken = await failure(loadConfigFile("broken.config.ts", directory))
    expect(broken.reason).toBe("Import")
    expect(broken.message).toMatch(/^broken\.config\.ts: could not be loaded: .+/)
    expect(broken.message).not.toContain("\n")
  })
})

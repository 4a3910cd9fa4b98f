import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { parseNexConfig } from "../config.ts"
import { resolveNodeOptions, type UpFlags } from "./NodeOptions.ts"

const configFrom = (input: unknown) => {
  const result = parseNexConfig(input)
  if (!result.success) throw new Error(result.problem)
  return result.config
}

const resolve = (input: unknown, flags: UpFlags) => Effect.runPromise(resolveNodeOptions(configFrom(input), flags))

describe("resolveNodeOptions", () => {
  it("takes the config file's values when no flag is given", async () => {
    const options = await resolve({ server: { host: "0.0.0.0", port: 4333, serverName: "a" }, jetstream: { storeDir: "data", sync: "never" } }, {})
    expect(options.server).toMatchObject({ host: "0.0.0.0", port: 4333, serverName: "a" })
    expect(options.monitoring).toEqual({ host: "0.0.0.0", port: 8222 })
    expect(options.jetstream).toEqual({ storeDir: "data", sync: "never" })
  })

  it("lets every flag win over the config file", async () => {
    const options = await resolve(
      { server: { port: 4333, serverName: "a", maxPayload: 2048 }, monitoring: { port: 9000, host: "127.0.0.2" } },
      { host: "127.0.0.1", port: "5000", httpPort: "5001", store: "/tmp/store", name: "b" }
    )
    expect(options.server).toMatchObject({ host: "127.0.0.1", port: 5000, serverName: "b", maxPayload: 2048 })
    expect(options.monitoring).toEqual({ host: "127.0.0.2", port: 5001 })
    expect(options.jetstream.storeDir).toBe("/tmp/store")
  })

  it("turns monitoring off with port 0, from the file or from --http-port", async () => {
    expect((await resolve({ monitoring: { port: 0 } }, {})).monitoring).toBeUndefined()
    expect((await resolve({}, { httpPort: "0" })).monitoring).toBeUndefined()
  })

  it.each([
    [{ port: "http" }, '--port: expected a number from 0 to 65535, got "http"'],
    [{ httpPort: "65536" }, '--http-port: expected a number from 0 to 65535, got "65536"'],
    [{ host: " " }, "--host: must not be empty"]
  ])("rejects %j", async (flags, message) => {
    const error = await Effect.runPromise(Effect.flip(resolveNodeOptions(configFrom({}), flags)))
    expect(error.message).toBe(message)
  })
})

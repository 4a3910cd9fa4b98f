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

  it("joins a NATS cluster from the config file's nats field or --nats, with the node's tags", async () => {
    const fromFile = await resolve({ nats: "nats://a:4222,nats://b:4222", runtime: { tags: ["zone=a"], capacity: 8 } }, {})
    expect(fromFile.nats).toBe("nats://a:4222,nats://b:4222")
    expect(fromFile.runtime).toMatchObject({ tags: ["zone=a"], capacity: 8 })
    const fromFlags = await resolve({ nats: "nats://a:4222" }, { nats: "nats://c:4222", tags: "gpu, zone=b" })
    expect(fromFlags.nats).toBe("nats://c:4222")
    expect(fromFlags.runtime.tags).toEqual(["gpu", "zone=b"])
    expect((await resolve({}, {})).nats).toBeUndefined()
  })

  it.each([
    [{ nats: "nats://a:4222", noRuntime: true }, "--nats with --no-runtime: a node on a NATS cluster runs workloads only, so it would do nothing"],
    [{ port: "http" }, '--port: expected a number from 0 to 65535, got "http"'],
    [{ httpPort: "65536" }, '--http-port: expected a number from 0 to 65535, got "65536"'],
    [{ host: " " }, "--host: must not be empty"]
  ])("rejects %j", async (flags, message) => {
    const error = await Effect.runPromise(Effect.flip(resolveNodeOptions(configFrom({}), flags)))
    expect(error.message).toBe(message)
  })
})

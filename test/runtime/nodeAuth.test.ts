import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { type ConnectionOptions, connect, type NatsConnection } from "@nats-io/transport-node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { eventually, startNex, type Target, tempDir } from "../support/index.ts"

const workloads = `[{ file: "workloads/greeter/index.ts", name: "greeter", triggers: ["greet.*"] }]`

// Whatever the configured identities may do, the node's runtime signs in with one of its own, so
// the config's workloads run: here the users may use neither JetStream nor $NEX.
const cases: ReadonlyArray<{ readonly label: string; readonly auth: string; readonly client: ConnectionOptions; readonly wrong: ConnectionOptions; readonly restricted: boolean }> = [
  {
    label: "users that may not use JetStream",
    auth: `{ users: [
      { user: "app", password: "app-secret", permissions: { publish: { allow: ["greet.>"] }, subscribe: { allow: ["_INBOX.>"] } } },
      { user: "viewer", password: "viewer-secret", permissions: { publish: { deny: [">"] } } }
    ] }`,
    client: { user: "app", pass: "app-secret" },
    wrong: { user: "app", pass: "wrong" },
    restricted: true
  },
  { label: "a token", auth: `{ token: "s3cret" }`, client: { token: "s3cret" }, wrong: { token: "wrong" }, restricted: false }
]

describe.each(cases)("a node whose clients sign in with $label", ({ auth, client, wrong, restricted }) => {
  const directory = tempDir("nex-auth-")
  let node: Target
  let connection: NatsConnection

  beforeAll(async () => {
    const configFile = join(directory.path, "nex.config.ts")
    writeFileSync(configFile, `export default { server: { auth: ${auth} }, workloads: ${workloads} }\n`)
    node = await startNex({ runtime: true, configFile })
    connection = await connect({ servers: node.url, ...client })
  })
  afterAll(async () => {
    await connection?.close()
    await node?.stop()
    directory.remove()
  })

  it("runs the config's workloads, and its clients keep their limits", async () => {
    await eventually(async () => expect((await connection.request("greet.auth", "", { timeout: 1000 })).string()).toBe("Hello, auth!"), { timeout: 20_000, interval: 200 })
    if (restricted) await expect(connection.request("$JS.API.INFO", "", { timeout: 1000 })).rejects.toThrow()
    await expect(connect({ servers: node.url, ...wrong })).rejects.toThrow()
    await expect(connect({ servers: node.url })).rejects.toThrow()
    expect(node.process.output()).not.toMatch(/workloads disabled|not deployed/)
  })
})

import { describe, expect, it } from "vitest"
import {
  type ClientConnectOptions,
  deliveredThrough,
  diffTargets,
  eventually,
  officialClients,
  type OfficialClient,
  openRawConnection,
  referenceComparison,
  subscribeAndCollect,
  useTarget
} from "../support/index.ts"

const compare = referenceComparison()
const token = "s3cret"
const permissions = { publish: { allow: ["ok.>"] }, subscribe: { deny: ["secret.>"] } }

/** What a connection attempt ended in, as the client reports it. */
const connectOutcome = async (client: OfficialClient, options: ClientConnectOptions): Promise<string> => {
  try {
    const connection = await client.connect(options)
    await connection.close()
    return "connected"
  } catch (error) {
    return client.classify(error)
  }
}

describe.each(diffTargets())("$name", (target) => {
  describe.skipIf(!target.available)("token auth", () => {
    const server = useTarget(target, { auth: { token } })

    it.each(officialClients)("$name: connects with the token and is refused without it", async (client) => {
      const outcomes = {
        right: await connectOutcome(client, { servers: server().url, token }),
        wrong: await connectOutcome(client, { servers: server().url, token: "wrong" }),
        missing: await connectOutcome(client, { servers: server().url })
      }
      expect(outcomes).toEqual({ right: "connected", wrong: "authorization", missing: "authorization" })
      compare(target.name, `token ${client.name}`, outcomes)
    })

    it("advertises auth_required and closes a wrong CONNECT with Authorization Violation", async () => {
      const connection = await openRawConnection(server().port)
      try {
        expect(connection.info.auth_required).toBe(true)
        await connection.write('CONNECT {"verbose":false,"auth_token":"wrong"}\r\nPING\r\n')
        await connection.waitForClose()
        expect(connection.received()).toBe("-ERR 'Authorization Violation'\r\n")
      } finally {
        connection.close()
      }
    })

    it("closes a connection whose first op is not CONNECT", async () => {
      const connection = await openRawConnection(server().port)
      try {
        await connection.write("SUB foo 1\r\n")
        await connection.waitForClose()
        expect(connection.received()).toBe("-ERR 'Authorization Violation'\r\n")
      } finally {
        connection.close()
      }
    })
  })

  describe.skipIf(!target.available)("users and permissions", () => {
    const server = useTarget(target, {
      auth: { users: [{ user: "u", password: "p", permissions }, { user: "admin", password: "admin-pass" }] }
    })

    it.each(officialClients)("$name: connects with the password and is refused with a wrong one", async (client) => {
      const outcomes = {
        right: await connectOutcome(client, { servers: server().url, user: "u", pass: "p" }),
        wrongPassword: await connectOutcome(client, { servers: server().url, user: "u", pass: "nope" }),
        unknownUser: await connectOutcome(client, { servers: server().url, user: "who", pass: "p" })
      }
      expect(outcomes).toEqual({ right: "connected", wrongPassword: "authorization", unknownUser: "authorization" })
      compare(target.name, `user/password ${client.name}`, outcomes)
    })

    it.each(officialClients)("$name: reports publish and subscribe violations and stays usable", async (client) => {
      const restricted = await client.connect({ servers: server().url, user: "u", pass: "p" })
      const admin = await client.connect({ servers: server().url, user: "admin", pass: "admin-pass" })
      try {
        const reports = client.permissionReports(restricted)
        const watcher = subscribeAndCollect(admin, ">")
        await admin.flush()

        restricted.publish("x", "denied")
        const denied = subscribeAndCollect(restricted, "secret.plans")
        await eventually(() => expect(reports).toHaveLength(2))
        expect(reports).toEqual([
          { operation: "publish", subject: "x" },
          { operation: "subscription", subject: "secret.plans" }
        ])
        expect(restricted.isClosed()).toBe(false)

        // Still usable: an allowed publish reaches its own allowed subscription and another user.
        const allowed = subscribeAndCollect(restricted, "ok.*")
        await restricted.flush()
        restricted.publish("ok.1", "fine")
        admin.publish("secret.plans", "hidden")
        await deliveredThrough(restricted, admin, { prefix: "ok.sync" })
        await deliveredThrough(admin, restricted, { prefix: "ok.sync" })
        expect(allowed.messages.map((message) => message.subject)).toEqual(["ok.1"])
        expect(denied.messages).toHaveLength(0)
        expect(denied.errors.map(client.classify)).toEqual(["permission"])
        // The denied publish to "x" was dropped; the other two arrive (in no defined order: two publishers).
        const watched = watcher.messages.map((message) => message.subject).filter((subject) => !subject.includes(".barrier."))
        expect(watched.sort()).toEqual(["ok.1", "secret.plans"])
        compare(target.name, `permissions ${client.name}`, reports)
      } finally {
        await Promise.all([restricted.close(), admin.close()])
      }
    })

    it.each(officialClients)("$name: a request to a denied subject fails with a permission error", async (client) => {
      const restricted = await client.connect({ servers: server().url, user: "u", pass: "p" })
      try {
        const failure = await restricted.request("not.allowed", "x", { timeout: 5000 }).then(
          () => "replied",
          (error: unknown) => client.classify(error)
        )
        expect(failure).toBe("permission")
        await restricted.flush()
        expect(restricted.isClosed()).toBe(false)
      } finally {
        await restricted.close()
      }
    })

    it("sends the exact violation texts and keeps the raw connection open", async () => {
      const connection = await openRawConnection(server().port)
      try {
        await connection.write('CONNECT {"verbose":false,"user":"u","pass":"p"}\r\nPUB x 2\r\nhi\r\nSUB secret.a 1\r\nSUB secret.b q 2\r\nPING\r\n')
        await connection.waitFor("PONG\r\n")
        const expected =
          `-ERR 'Permissions Violation for Publish to "x"'\r\n` +
          `-ERR 'Permissions Violation for Subscription to "secret.a"'\r\n` +
          `-ERR 'Permissions Violation for Subscription to "secret.b" using queue "q"'\r\n` +
          "PONG\r\n"
        expect(connection.received()).toBe(expected)
        await connection.write("SUB ok.raw 3\r\nPUB ok.raw 2\r\nhi\r\nPING\r\n")
        await eventually(() => expect(connection.received()).toBe(expected + "MSG ok.raw 3 2\r\nhi\r\nPONG\r\n"))
      } finally {
        connection.close()
      }
    })
  })
})

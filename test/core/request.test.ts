import { describe, expect, it } from "vitest"
import { type ClientConnection, type ClientMsg, diffTargets, officialClients, referenceComparison, subscribeAndCollect, useTarget } from "../support/index.ts"

const compare = referenceComparison()

describe.each(diffTargets())("$name", (target) => {
  describe.skipIf(!target.available)("request/reply", () => {
    const server = useTarget(target)

    describe.each(officialClients)("$name", (client) => {
      /** A responder connection answering `subject` through `answer`, and a requester; both closed after `body`. */
      const withResponder = async (
        subject: string,
        answer: (message: ClientMsg) => void,
        body: (requester: ClientConnection) => Promise<void>
      ): Promise<void> => {
        const responder = await client.connect({ servers: server().url })
        const requester = await client.connect({ servers: server().url })
        try {
          responder.subscribe(subject, { callback: (error, message) => error === null && answer(message) })
          await responder.flush()
          await body(requester)
        } finally {
          await Promise.all([responder.close(), requester.close()])
        }
      }

      it("gets the reply to a single request", () =>
        withResponder(
          "svc.upper",
          (message) => message.respond(message.string().toUpperCase()),
          async (requester) => {
            const reply = await requester.request("svc.upper", "hello", { timeout: 5000 })
            expect(reply.string()).toBe("HELLO")
            compare(target.name, `single request ${client.name}`, { data: reply.string(), headers: reply.headers === undefined })
          }
        ))

      it("matches 100 concurrent requests to their replies", () =>
        withResponder(
          "svc.double",
          (message) => message.respond(String(Number(message.string()) * 2)),
          async (requester) => {
            const inputs = Array.from({ length: 100 }, (_, index) => index)
            const replies = await Promise.all(inputs.map((input) => requester.request("svc.double", String(input), { timeout: 5000 })))
            expect(replies.map((reply) => Number(reply.string()))).toEqual(inputs.map((input) => input * 2))
          }
        ))

      it("carries headers on the request and on the reply", () =>
        withResponder(
          "svc.headers",
          (message) => {
            const headers = client.headers()
            for (const [key, values] of message.headers ?? []) for (const value of values) headers.append(`Echo-${key}`, value)
            headers.set("Responder", "yes")
            message.respond("", { headers })
          },
          async (requester) => {
            const headers = client.headers()
            headers.set("Trace-Id", "abc-123")
            headers.append("Multi", "one")
            headers.append("Multi", "two")
            const reply = await requester.request("svc.headers", "payload", { timeout: 5000, headers })
            expect(reply.headers?.get("Responder")).toBe("yes")
            expect(reply.headers?.values("Echo-Trace-Id")).toEqual(["abc-123"])
            expect(reply.headers?.values("Echo-Multi")).toEqual(["one", "two"])
            expect(reply.headers?.code).toBe(0)
            expect(reply.data).toHaveLength(0)
            compare(target.name, `request headers ${client.name}`, [...(reply.headers ?? [])])
          }
        ))

      it("is answered by one member of a queue group of responders", async () => {
        const members = await Promise.all([1, 2, 3].map(() => client.connect({ servers: server().url })))
        const requester = await client.connect({ servers: server().url })
        try {
          members.forEach((member, index) =>
            member.subscribe("svc.queue", { queue: "responders", callback: (error, message) => error === null && message.respond(`member-${index}`) })
          )
          await Promise.all(members.map((member) => member.flush()))
          const replies = await Promise.all(Array.from({ length: 30 }, () => requester.request("svc.queue", "", { timeout: 5000 })))
          for (const reply of replies) expect(reply.string()).toMatch(/^member-[012]$/)
        } finally {
          await Promise.all([...members, requester].map((connection) => connection.close()))
        }
      })

      it("fails fast with no responders (503) instead of timing out", async () => {
        const requester = await client.connect({ servers: server().url })
        try {
          const started = Date.now()
          const failure = await requester.request("svc.nobody", "x", { timeout: 5000 }).then(
            () => "replied",
            (error: unknown) => client.classify(error)
          )
          expect(failure).toBe("no-responders")
          expect(Date.now() - started).toBeLessThan(4000)
          compare(target.name, `no responders ${client.name}`, failure)
        } finally {
          await requester.close()
        }
      })

      it("reports no responders once the only responder has unsubscribed", async () => {
        const responder = await client.connect({ servers: server().url })
        const requester = await client.connect({ servers: server().url })
        try {
          const service = subscribeAndCollect(responder, "svc.gone")
          await responder.flush()
          service.subscription.unsubscribe()
          await responder.flush()
          const failure = await requester.request("svc.gone", "x", { timeout: 5000 }).then(
            () => "replied",
            (error: unknown) => client.classify(error)
          )
          expect(failure).toBe("no-responders")
          expect(service.messages).toHaveLength(0)
        } finally {
          await Promise.all([responder.close(), requester.close()])
        }
      })

      it("times out when the responder receives but never answers", async () => {
        const silent = await client.connect({ servers: server().url })
        const requester = await client.connect({ servers: server().url })
        try {
          const received = subscribeAndCollect(silent, "svc.silent")
          await silent.flush()
          const failure = await requester.request("svc.silent", "x", { timeout: 300 }).then(
            () => "replied",
            (error: unknown) => client.classify(error)
          )
          expect(failure).toBe("timeout")
          expect(received.messages).toHaveLength(1)
        } finally {
          await Promise.all([silent.close(), requester.close()])
        }
      })
    })
  })
})

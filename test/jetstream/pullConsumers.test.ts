import type { ConsumerConfig, StreamConfig } from "@nats-io/jetstream"
import { describe, expect, it } from "vitest"
import { eventually, referenceComparison, useTarget } from "../support/index.ts"
import { type Delivered, jetStreamKits, outcome, useJetStreamKit } from "../support/jetstreamClients.ts"
import { consumerCounters, consumerInfoView } from "../support/jetstreamObservation.ts"
import { jetStreamTargets } from "../support/jetstreamTargets.ts"

const compare = referenceComparison()

/** What a test compares about a delivery (the message object itself differs per client). */
const deliveryView = ({ subject, data, streamSequence, deliverySequence, deliveryCount, pending, redelivered }: Delivered) => ({
  subject,
  data,
  streamSequence,
  deliverySequence,
  deliveryCount,
  pending,
  redelivered
})

describe.each(jetStreamTargets())("$name", (target) => {
  describe.skipIf(!target.available)("JetStream pull consumers", () => {
    const server = useTarget(target)

    describe.each(jetStreamKits)("$name", (kit) => {
      const { js, name, subject, observe } = useJetStreamKit(kit, server, (scenario, observation) => compare(target.name, scenario, observation))

      /** A memory stream holding `count` messages m1…mN on <tag>.<base>.x, and a pull consumer on it. */
      const streamWithConsumer = async (base: string, count: number, consumer: Partial<ConsumerConfig> = {}): Promise<void> => {
        await js().manager.streams.add({ name: name(base), subjects: [subject(`${base.toLowerCase()}.>`)], storage: "memory" as StreamConfig["storage"] })
        for (let index = 1; index <= count; index++) await js().publish(subject(`${base.toLowerCase()}.x`), `m${index}`)
        await js().manager.consumers.add(name(base), { durable_name: "worker", ack_policy: "explicit" as ConsumerConfig["ack_policy"], ...consumer })
      }
      const counters = async (base: string) => consumerCounters(await js().manager.consumers.info(name(base), "worker"))
      /** Waits until the consumer has `pending` unacknowledged messages (acks travel asynchronously), then reports its counters. */
      const settledCounters = async (base: string, pending: number) => {
        await js().core.flush()
        return eventually(async () => {
          const current = await counters(base)
          expect(current.num_ack_pending).toBe(pending)
          return current
        })
      }
      const fetch = (base: string, batch: number, expires = 1000) => js().fetch(name(base), "worker", { batch, expires })

      it("tracks deliveries, acks, terms, naks and in-progress acks with exact counters", async () => {
        await streamWithConsumer("SCRIPT", 6)
        const created = consumerInfoView(await js().manager.consumers.info(name("SCRIPT"), "worker"))
        const firstBatch = await fetch("SCRIPT", 3)
        const afterFirstBatch = await counters("SCRIPT")
        expect(firstBatch.map((message) => message.data)).toEqual(["m1", "m2", "m3"])
        firstBatch[0].message.ack()
        firstBatch[1].message.term()
        firstBatch[2].message.working()
        const afterAckTermWorking = await settledCounters("SCRIPT", 1)
        firstBatch[2].message.nak()
        await js().core.flush()
        const redelivered = await fetch("SCRIPT", 1)
        expect(redelivered.map(deliveryView)).toMatchObject([{ streamSequence: 3, deliveryCount: 2, redelivered: true }])
        const acknowledged = await redelivered[0].message.ackAck()
        const rest = await fetch("SCRIPT", 3)
        for (const message of rest) message.message.ack()
        const final = await settledCounters("SCRIPT", 0)
        expect(final).toMatchObject({ num_pending: 0, num_ack_pending: 0, delivered: { stream_seq: 6 }, ack_floor: { stream_seq: 6 } })
        observe("scripted acks", {
          created,
          firstBatch: firstBatch.map(deliveryView),
          afterFirstBatch,
          afterAckTermWorking,
          redelivered: redelivered.map(deliveryView),
          acknowledged,
          rest: rest.map(deliveryView),
          final
        })
      })

      it("redelivers after ack_wait and stops at max_deliver", async () => {
        await streamWithConsumer("REDELIVER", 1, { ack_wait: 300_000_000, max_deliver: 2 })
        const first = await fetch("REDELIVER", 1)
        const again = await fetch("REDELIVER", 1, 3000)
        const afterRedelivery = await counters("REDELIVER")
        const none = await fetch("REDELIVER", 1, 1000)
        const final = await counters("REDELIVER")
        expect(again.map(deliveryView)).toMatchObject([{ streamSequence: 1, deliveryCount: 2, redelivered: true }])
        expect(none).toEqual([])
        observe("redelivery and max_deliver", { first: first.map(deliveryView), again: again.map(deliveryView), afterRedelivery, none, final })
      })

      it("holds deliveries at max_ack_pending until acks free room", async () => {
        await streamWithConsumer("MAXPENDING", 4, { max_ack_pending: 2 })
        const limited = await fetch("MAXPENDING", 4, 1000)
        const whileFull = await counters("MAXPENDING")
        for (const message of limited) await message.message.ackAck()
        const next = await fetch("MAXPENDING", 2)
        expect(limited.map((message) => message.data)).toEqual(["m1", "m2"])
        expect(next.map((message) => message.data)).toEqual(["m3", "m4"])
        observe("max_ack_pending", { limited: limited.map(deliveryView), whileFull, next: next.map(deliveryView), final: await counters("MAXPENDING") })
      })

      it("acknowledges everything up to an ack with ack policy all", async () => {
        await streamWithConsumer("ACKALL", 5, { ack_policy: "all" as ConsumerConfig["ack_policy"] })
        const batch = await fetch("ACKALL", 3)
        batch[2].message.ack()
        const afterAck = await settledCounters("ACKALL", 0)
        expect(afterAck.ack_floor).toEqual({ consumer_seq: 3, stream_seq: 3 })
        observe("ack all", { batch: batch.map(deliveryView), afterAck })
      })

      it("answers a no_wait pull with nothing pending with 404 No Messages", async () => {
        await streamWithConsumer("NOWAIT", 1)
        const pull = async (body: object): Promise<Array<{ data: string; status?: string }>> => {
          const inbox = `_INBOX.${kit.tag}.${Math.random().toString(36).slice(2)}`
          const replies: Array<{ data: string; status?: string }> = []
          const subscription = js().core.subscribe(inbox)
          await js().core.flush()
          js().core.publish(`$JS.API.CONSUMER.MSG.NEXT.${name("NOWAIT")}.worker`, JSON.stringify(body), { reply: inbox })
          for await (const message of subscription) {
            const code = message.headers?.code ?? 0
            replies.push({ data: message.string(), ...(code === 0 ? {} : { status: `${code} ${message.headers!.description}` }) })
            if (code !== 0) break
          }
          return replies
        }
        const withOne = await pull({ batch: 2, no_wait: true })
        const empty = await pull({ batch: 1, no_wait: true })
        expect(empty).toEqual([{ data: "", status: "404 No Messages" }])
        // A no_wait pull that got some messages ends with 408 Request Timeout on nats-server 2.9
        // and with 404 No Messages since 2.11.11; clients treat both as the end of the batch.
        expect(withOne).toEqual([{ data: "m1" }, { data: "", status: expect.stringMatching(/^(408 Request Timeout|404 No Messages)$/) }])
        observe("no_wait pulls", { withOne: withOne.map((reply) => (reply.status === undefined ? reply : { data: reply.data, status: "end of batch" })), empty })
      })

      it("consumes a stream continuously, acking each message", async () => {
        await streamWithConsumer("CONSUME", 20)
        const received: Array<string> = []
        await js().consume(name("CONSUME"), "worker", (message) => {
          received.push(message.data)
          message.message.ack()
          return received.length < 20
        })
        const final = await settledCounters("CONSUME", 0)
        expect(received).toEqual(Array.from({ length: 20 }, (_, index) => `m${index + 1}`))
        expect(final).toMatchObject({ num_pending: 0, delivered: { stream_seq: 20 }, ack_floor: { stream_seq: 20 } })
        observe("consume", { received, final })
      })

      it("creates, lists and deletes consumers and reports missing ones", async () => {
        await streamWithConsumer("MANAGE", 0)
        await js().manager.consumers.add(name("MANAGE"), { durable_name: "second", ack_policy: "none" as ConsumerConfig["ack_policy"], filter_subject: subject("manage.x") })
        const listed = []
        for await (const info of js().manager.consumers.list(name("MANAGE"))) listed.push(consumerInfoView(info))
        const missing = await outcome(js().manager.consumers.info(name("MANAGE"), "nobody"))
        const missingStream = await outcome(js().manager.consumers.add(name("NOSTREAM"), { durable_name: "x", ack_policy: "explicit" as ConsumerConfig["ack_policy"] }))
        const deleted = await js().manager.consumers.delete(name("MANAGE"), "second")
        const deletedAgain = await outcome(js().manager.consumers.delete(name("MANAGE"), "second"))
        expect(missing).toEqual({ error: { code: 404, err_code: 10014, description: "consumer not found" } })
        observe("consumer management", { listed: listed.sort((left, right) => left.name.localeCompare(right.name)), missing, missingStream, deleted, deletedAgain })
      })
    })
  })
})

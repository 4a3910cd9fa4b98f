import type { ConsumerConfig, StreamConfig } from "@nats-io/jetstream"
import { describe, expect, it } from "vitest"
import { eventually, referenceComparison, useTarget } from "../support/index.ts"
import { type Delivered, jetStreamKits, useJetStreamKit } from "../support/jetstreamClients.ts"
import { consumerCounters, consumerInfoView } from "../support/jetstreamObservation.ts"
import { jetStreamTargets } from "../support/jetstreamTargets.ts"

const compare = referenceComparison()

const deliveryView = ({ subject, data, streamSequence, deliverySequence, deliveryCount, pending }: Delivered) => ({
  subject,
  data,
  streamSequence,
  deliverySequence,
  deliveryCount,
  pending
})

describe.each(jetStreamTargets())("$name", (target) => {
  describe.skipIf(!target.available)("JetStream push and ordered consumers", () => {
    const server = useTarget(target)

    describe.each(jetStreamKits)("$name", (kit) => {
      const { js, name, subject, observe } = useJetStreamKit(kit, server, (scenario, observation) => compare(target.name, scenario, observation))
      const addStream = async (base: string, messages: ReadonlyArray<readonly [suffix: string, data: string]>): Promise<void> => {
        await js().manager.streams.add({ name: name(base), subjects: [subject(`${base.toLowerCase()}.>`)], storage: "memory" as StreamConfig["storage"] })
        for (const [suffix, data] of messages) await js().publish(subject(`${base.toLowerCase()}.${suffix}`), data)
      }

      it("delivers to a push consumer's deliver subject with the ack reply, while it has interest", async () => {
        await addStream("PUSH", [["a", "1"], ["b", "2"], ["a", "3"]])
        const deliverSubject = subject("deliver.push")
        await js().manager.consumers.add(name("PUSH"), {
          durable_name: "pusher",
          deliver_subject: deliverSubject,
          ack_policy: "explicit" as ConsumerConfig["ack_policy"]
        })
        const beforeInterest = consumerInfoView(await js().manager.consumers.info(name("PUSH"), "pusher"))
        const received: Array<{ subject: string; data: string; reply: Array<string> }> = []
        const subscription = js().core.subscribe(deliverSubject, {
          callback: (_error, message) => {
            // $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>: all but the time.
            const tokens = (message.reply ?? "").split(".")
            received.push({ subject: message.subject, data: message.string(), reply: [...tokens.slice(0, 7), tokens.length === 9 ? tokens[8] : "?"] })
            message.respond()
          }
        })
        await eventually(() => expect(received).toHaveLength(3))
        const bound = await eventually(async () => {
          const info = consumerInfoView(await js().manager.consumers.info(name("PUSH"), "pusher"))
          expect(info.num_ack_pending).toBe(0)
          return info
        })
        subscription.unsubscribe()
        await js().core.flush()
        const unbound = await eventually(async () => {
          const info = consumerInfoView(await js().manager.consumers.info(name("PUSH"), "pusher"))
          expect(info.push_bound).toBe(false)
          return info
        })
        expect(received.map((message) => message.data)).toEqual(["1", "2", "3"])
        expect(bound.push_bound).toBe(true)
        observe("push delivery", { beforeInterest, received, bound, unbound })
      })

      it("consumes through the client's own push consumer set-up", async () => {
        await addStream("CLIENTPUSH", [["x", "1"], ["y", "2"], ["x", "3"], ["x", "4"]])
        const received = await js().push(name("CLIENTPUSH"), "client-pusher", subject("clientpush.x"), subject("deliver.clientpush"), 3)
        const counters = await eventually(async () => {
          const current = consumerCounters(await js().manager.consumers.info(name("CLIENTPUSH"), "client-pusher"))
          expect(current.num_ack_pending).toBe(0)
          return current
        })
        expect(received.map((message) => message.data)).toEqual(["1", "3", "4"])
        observe("client push consumer", { received: received.map(deliveryView), counters })
      })

      it("reads a filtered stream in order through an ordered consumer", async () => {
        const messages = Array.from({ length: 12 }, (_, index) => [index % 3 === 0 ? "skip" : "keep", `m${index + 1}`] as const)
        await addStream("ORDERED", messages)
        const received = await js().ordered(name("ORDERED"), subject("ordered.keep"), 8)
        expect(received.map((message) => message.data)).toEqual(messages.filter(([suffix]) => suffix === "keep").map(([, data]) => data))
        expect(received.map((message) => message.deliverySequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
        observe("ordered consumer", received.map(deliveryView))
      })
    })
  })
})

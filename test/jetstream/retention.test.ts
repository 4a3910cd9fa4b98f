import type { ConsumerConfig, StreamConfig } from "@nats-io/jetstream"
import { describe, expect, it } from "vitest"
import { eventually, referenceComparison, useTarget } from "../support/index.ts"
import { jetStreamKits, outcome, useJetStreamKit } from "../support/jetstreamClients.ts"
import { consumerCounters, streamInfoView } from "../support/jetstreamObservation.ts"
import { jetStreamTargets } from "../support/jetstreamTargets.ts"

const compare = referenceComparison()

const explicit = "explicit" as ConsumerConfig["ack_policy"]

describe.each(jetStreamTargets())("$name", (target) => {
  describe.skipIf(!target.available)("JetStream retention", () => {
    const server = useTarget(target)

    describe.each(jetStreamKits)("$name", (kit) => {
      const { js, name, subject, observe } = useJetStreamKit(kit, server, (scenario, observation) => compare(target.name, scenario, observation))
      const addStream = (base: string, retention: string) =>
        js().manager.streams.add({
          name: name(base),
          subjects: [subject(`${base.toLowerCase()}.>`)],
          storage: "memory" as StreamConfig["storage"],
          retention: retention as StreamConfig["retention"]
        })
      const state = async (base: string) => streamInfoView(await js().manager.streams.info(name(base))).state
      /** Waits until the stream holds `messages` messages (acks remove them asynchronously) and reports its state. */
      const settledState = async (base: string, messages: number) => {
        await js().core.flush()
        return eventually(async () => {
          const current = await state(base)
          expect(current.messages).toBe(messages)
          return current
        })
      }

      it("work queue: an acknowledged message leaves the stream, and consumers may not overlap", async () => {
        await addStream("WORK", "workqueue")
        await js().manager.consumers.add(name("WORK"), { durable_name: "jobs", ack_policy: explicit, filter_subject: subject("work.jobs.>") })
        for (let index = 1; index <= 3; index++) await js().publish(subject(`work.jobs.${index}`), `job ${index}`)
        await js().publish(subject("work.other"), "unclaimed")
        const jobs = await js().fetch(name("WORK"), "jobs", { batch: 3, expires: 1000 })
        jobs[0].message.ack()
        jobs[2].message.ack()
        const afterAcks = await settledState("WORK", 2)
        const remaining = [await js().getMessage(name("WORK"), { seq: 2 }), await js().getMessage(name("WORK"), { seq: 4 })]
        const overlapping = await outcome(js().manager.consumers.add(name("WORK"), { durable_name: "greedy", ack_policy: explicit, filter_subject: subject("work.>") }))
        const disjoint = await outcome(js().manager.consumers.add(name("WORK"), { durable_name: "others", ack_policy: explicit, filter_subject: subject("work.other") }))
        const ackNone = await outcome(js().manager.consumers.add(name("WORK"), { durable_name: "careless", ack_policy: "none" as ConsumerConfig["ack_policy"], filter_subject: subject("work.none") }))
        expect(remaining.map((message) => message?.data)).toEqual(["job 2", "unclaimed"])
        expect(overlapping).toHaveProperty("error")
        expect(ackNone).toMatchObject({ error: { err_code: 10084 } })
        observe("work queue", {
          jobs: jobs.map((job) => job.data),
          afterAcks,
          remaining,
          overlapping,
          disjoint: "value" in disjoint ? "created" : disjoint,
          // nats-server 2.9 words 10084 "consumer in pull mode requires ack policy"; newer servers add
          // "explicit … on workqueue stream". Clients branch on the code, so only the code is compared.
          ackNone: "value" in ackNone ? "created" : { code: ackNone.error.code, err_code: ackNone.error.err_code },
          counters: consumerCounters(await js().manager.consumers.info(name("WORK"), "jobs"))
        })
      })

      it("interest: nothing is kept without consumers, and a message stays until every consumer acked it", async () => {
        await addStream("INTEREST", "interest")
        await js().publish(subject("interest.x"), "nobody listens")
        const withoutConsumers = await state("INTEREST")
        await js().manager.consumers.add(name("INTEREST"), { durable_name: "first", ack_policy: explicit })
        await js().manager.consumers.add(name("INTEREST"), { durable_name: "second", ack_policy: explicit })
        await js().publish(subject("interest.x"), "one")
        await js().publish(subject("interest.x"), "two")
        const withConsumers = await state("INTEREST")
        const fromFirst = await js().fetch(name("INTEREST"), "first", { batch: 2, expires: 1000 })
        for (const message of fromFirst) message.message.ack()
        await js().core.flush()
        const ackedByFirst = await eventually(async () => {
          const counters = consumerCounters(await js().manager.consumers.info(name("INTEREST"), "first"))
          expect(counters.num_ack_pending).toBe(0)
          return state("INTEREST")
        })
        const fromSecond = await js().fetch(name("INTEREST"), "second", { batch: 1, expires: 1000 })
        fromSecond[0].message.ack()
        const ackedByBoth = await settledState("INTEREST", 1)
        expect(withoutConsumers).toMatchObject({ messages: 0, last_seq: 1 })
        expect(ackedByFirst.messages).toBe(2)
        observe("interest", { withoutConsumers, withConsumers, ackedByFirst, ackedByBoth, fromFirst: fromFirst.map((message) => message.data) })
      })
    })
  })
})

import type { StreamConfig } from "@nats-io/jetstream"
import { describe, expect, it } from "vitest"
import { eventually, referenceComparison, useTarget } from "../support/index.ts"
import { jetStreamKits, outcome, type PublishOptions, useJetStreamKit } from "../support/jetstreamClients.ts"
import { streamInfoView } from "../support/jetstreamObservation.ts"
import { jetStreamTargets } from "../support/jetstreamTargets.ts"

const compare = referenceComparison()

describe.each(jetStreamTargets())("$name", (target) => {
  describe.skipIf(!target.available)("JetStream publish", () => {
    const server = useTarget(target)

    describe.each(jetStreamKits)("$name", (kit) => {
      const { js, name, subject, observe } = useJetStreamKit(kit, server, (scenario, observation) => compare(target.name, scenario, observation))
      const addStream = (base: string, extra: Partial<StreamConfig> = {}) =>
        js().manager.streams.add({ name: name(base), subjects: [subject(`${base.toLowerCase()}.>`)], storage: "memory" as StreamConfig["storage"], ...extra })
      const state = async (base: string) => streamInfoView(await js().manager.streams.info(name(base))).state
      const publish = (base: string, suffix: string, data: string, options?: PublishOptions) =>
        outcome(js().publish(subject(`${base.toLowerCase()}.${suffix}`), data, options))

      it("acknowledges each stored message with the stream and its sequence", async () => {
        await addStream("ACKS")
        const acks = [await publish("ACKS", "a", "one"), await publish("ACKS", "b", "two"), await publish("ACKS", "a", "")]
        expect(acks[1]).toEqual({ value: { stream: name("ACKS"), seq: 2, duplicate: false } })
        observe("publish acks", { acks, state: await state("ACKS") })
      })

      it("drops a repeated Nats-Msg-Id within the duplicate window and answers with the first sequence", async () => {
        await addStream("DEDUPE")
        const first = await publish("DEDUPE", "x", "once", { msgID: "order-1" })
        const repeated = await publish("DEDUPE", "x", "twice", { msgID: "order-1" })
        const other = await publish("DEDUPE", "y", "other", { msgID: "order-2" })
        const repeatedOtherSubject = await publish("DEDUPE", "z", "again", { msgID: "order-1" })
        expect(repeated).toEqual({ value: { stream: name("DEDUPE"), seq: 1, duplicate: true } })
        observe("msg id dedupe", { first, repeated, other, repeatedOtherSubject, state: await state("DEDUPE") })
      })

      it("checks every Nats-Expected-* header and reports the err_code of each failure", async () => {
        await addStream("EXPECT")
        await publish("EXPECT", "a", "1", { msgID: "m-1" })
        await publish("EXPECT", "b", "2", { msgID: "m-2" })
        const results = {
          streamMatches: await publish("EXPECT", "a", "3", { expect: { streamName: name("EXPECT") } }),
          streamDiffers: await publish("EXPECT", "a", "x", { expect: { streamName: "NOT_IT" } }),
          lastSequenceMatches: await publish("EXPECT", "a", "4", { expect: { lastSequence: 3 } }),
          lastSequenceDiffers: await publish("EXPECT", "a", "x", { expect: { lastSequence: 1 } }),
          lastSubjectSequenceMatches: await publish("EXPECT", "b", "5", { expect: { lastSubjectSequence: 2 } }),
          lastSubjectSequenceDiffers: await publish("EXPECT", "b", "x", { expect: { lastSubjectSequence: 2 } }),
          lastSubjectSequenceZeroOnNewSubject: await publish("EXPECT", "c", "6", { expect: { lastSubjectSequence: 0 } }),
          lastSubjectSequenceZeroOnUsedSubject: await publish("EXPECT", "a", "x", { expect: { lastSubjectSequence: 0 } }),
          // The last Msg-Id is the one of the last stored message, "" when it had none.
          lastMsgIdAfterMessageWithout: await publish("EXPECT", "a", "x", { expect: { lastMsgID: "m-2" } }),
          withMessageId: await publish("EXPECT", "a", "7", { msgID: "m-3" }),
          lastMsgIdMatches: await publish("EXPECT", "a", "8", { msgID: "m-4", expect: { lastMsgID: "m-3" } }),
          lastMsgIdDiffers: await publish("EXPECT", "a", "x", { expect: { lastMsgID: "m-1" } })
        }
        expect(results.lastSequenceDiffers).toEqual({ error: { code: 400, err_code: 10071, description: "wrong last sequence: 4" } })
        expect(results.streamDiffers).toMatchObject({ error: { err_code: 10060 } })
        expect(results.lastMsgIdMatches).toMatchObject({ value: { seq: 8 } })
        expect(results.lastMsgIdDiffers).toEqual({ error: { code: 400, err_code: 10070, description: "wrong last msg ID: m-4" } })
        observe("expected headers", { results, state: await state("EXPECT") })
      })

      it("enforces max_msgs, max_msgs_per_subject and max_bytes by discarding the oldest", async () => {
        await addStream("LIMITS", { max_msgs: 3 })
        for (let index = 1; index <= 5; index++) await publish("LIMITS", "x", `m${index}`)
        const maxMessages = await state("LIMITS")
        await addStream("PERSUBJECT", { max_msgs_per_subject: 2 })
        for (let index = 1; index <= 6; index++) await publish("PERSUBJECT", index % 2 === 0 ? "even" : "odd", `m${index}`)
        const perSubject = streamInfoView(await js().manager.streams.info(name("PERSUBJECT"), { subjects_filter: ">" })).state
        await addStream("BYTES", { max_bytes: 300 })
        for (let index = 1; index <= 10; index++) await publish("BYTES", "x", "0123456789")
        const maxBytes = await state("BYTES")
        expect(maxMessages).toMatchObject({ messages: 3, first_seq: 3, last_seq: 5 })
        expect(perSubject.messages).toBe(4)
        expect(maxBytes.bytes).toBeLessThanOrEqual(300)
        observe("limits discard old", { maxMessages, perSubject, maxBytes })
      })

      it("rejects new messages past a limit with discard new, and oversized messages", async () => {
        await addStream("NEWMSGS", { max_msgs: 2, discard: "new" as StreamConfig["discard"] })
        const discardNew = [await publish("NEWMSGS", "x", "1"), await publish("NEWMSGS", "x", "2"), await publish("NEWMSGS", "x", "3")]
        await addStream("NEWBYTES", { max_bytes: 100, discard: "new" as StreamConfig["discard"] })
        const discardNewBytes = [await publish("NEWBYTES", "x", "a".repeat(40)), await publish("NEWBYTES", "x", "b".repeat(40)), await publish("NEWBYTES", "x", "c".repeat(40))]
        await addStream("NEWPERSUBJECT", {
          max_msgs_per_subject: 1,
          discard: "new" as StreamConfig["discard"],
          discard_new_per_subject: true
        })
        const discardNewPerSubject = [await publish("NEWPERSUBJECT", "a", "1"), await publish("NEWPERSUBJECT", "b", "2"), await publish("NEWPERSUBJECT", "a", "3")]
        await addStream("SIZE", { max_msg_size: 10 })
        const messageSize = [await publish("SIZE", "x", "0123456789"), await publish("SIZE", "x", "0123456789A")]
        expect(discardNew[2]).toMatchObject({ error: { err_code: 10077 } })
        expect(messageSize[1]).toMatchObject({ error: { err_code: 10054 } })
        observe("limits discard new", {
          discardNew,
          discardNewBytes,
          discardNewPerSubject,
          messageSize,
          states: [await state("NEWMSGS"), await state("NEWBYTES"), await state("NEWPERSUBJECT"), await state("SIZE")]
        })
      })

      it("expires messages past max_age", async () => {
        await addStream("AGE", { max_age: 400_000_000, duplicate_window: 400_000_000 })
        await publish("AGE", "x", "short-lived")
        await publish("AGE", "x", "short-lived too")
        const before = await state("AGE")
        const after = await eventually(
          async () => {
            const current = await state("AGE")
            expect(current.messages).toBe(0)
            return current
          },
          { timeout: 5000, interval: 50 }
        )
        observe("max age", { before, after })
      })

      it("gives no responders to a publish no stream stores", async () => {
        const failure = await js().publish(subject("nostream.x"), "lost").then(
          () => "stored",
          (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error))
        )
        // @nats-io/jetstream reads the 503 as "jetstream is not enabled"; the legacy client says "503".
        expect(failure).toMatch(/no responders|503|not enabled/i)
        observe("publish without stream", failure)
      })
    })
  })
})

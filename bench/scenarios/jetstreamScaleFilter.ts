import { AckPolicy, type JetStreamClient, jetstream, StorageType } from "@nats-io/jetstream"
import type { Scenario } from "../Scenario.ts"
import { median } from "../statistics.ts"
import { fillStream } from "./jetstreamScaleFill.ts"
import { scaleSizes } from "./jetstreamScaleSizes.ts"
import { settle, withScaleServer } from "./jetstreamScaleServer.ts"

const payload = new Uint8Array(128)
const stream = "FILTER"
const hotSubject = "filter.hot"
const batch = 500
const creations = 5

/**
 * The subject of the i-th message: every `stride`-th message goes to a cold subject of its own,
 * spread evenly through the stream, and all the others to the hot subject.
 */
const subjectFor = (count: number, subjects: number): ((index: number) => string) => {
  const coldSubjects = subjects - 1
  const stride = Math.floor(count / coldSubjects)
  return (index) => {
    const cold = Math.floor(index / stride)
    return index % stride === stride - 1 && cold < coldSubjects ? `filter.cold.${cold}` : hotSubject
  }
}

/** Drains `consumer` with fetches of `batch`, acknowledging nothing, for at most `timeMs`: messages per second. */
const consumeRate = async (client: JetStreamClient, consumer: string, available: number, timeMs: number): Promise<number> => {
  const pull = await client.consumers.get(stream, consumer)
  let consumed = 0
  const deadline = Date.now() + timeMs
  const started = performance.now()
  while (consumed < available && Date.now() < deadline) {
    // Never ask for more than is left: a fetch that cannot fill waits out its expiry.
    const messages = await pull.fetch({ max_messages: Math.min(batch, available - consumed), expires: 5000 })
    let received = 0
    for await (const _message of messages) received++
    if (received === 0) throw new Error(`consumer ${consumer} stopped delivering after ${consumed} of ${available} messages`)
    consumed += received
  }
  return consumed / ((performance.now() - started) / 1000)
}

/**
 * A file stream where every tenth message has a subject of its own and the rest share one hot
 * subject (with 10 messages per subject, a hot share above 90 % would leave too few for the cold
 * subjects): the time to create a pull consumer filtered to the hot subject, and its consume rate
 * against an unfiltered consumer's.
 */
export const jetstreamScaleFilter: Scenario = {
  id: "js-scale-filter",
  title: "JetStream filtered consumer, 90 % of msgs on 1 of many subjects",
  run: (server, budget) =>
    withScaleServer(server.name, async ({ connection, manager }) => {
      const { filterMessages: count, filterSubjects: subjects } = scaleSizes(budget)
      await manager.streams.add({ name: stream, subjects: ["filter.>"], storage: StorageType.File })
      await fillStream(connection, count, subjectFor(count, subjects), payload)
      const state = (await manager.streams.info(stream)).state
      if (state.messages !== count) throw new Error(`${count} publishes acknowledged but ${state.messages} messages stored`)
      const hotMessages = count - (subjects - 1)
      await settle()

      const createMs: number[] = []
      for (let index = 0; index < creations; index++) {
        const started = performance.now()
        const info = await manager.consumers.add(stream, { durable_name: `hot-${index}`, filter_subject: hotSubject, ack_policy: AckPolicy.None })
        createMs.push(performance.now() - started)
        if (info.num_pending !== hotMessages) throw new Error(`the filtered consumer has ${info.num_pending} pending, expected ${hotMessages}`)
      }
      await manager.consumers.add(stream, { durable_name: "all", ack_policy: AckPolicy.None })

      // Filtered first: it reads the stream cold, which can only count against the filter.
      const client = jetstream(connection)
      const filtered = await consumeRate(client, "hot-0", hotMessages, budget.timeMs)
      const unfiltered = await consumeRate(client, "all", count, budget.timeMs)
      return [
        { metric: "subjects in stream", unit: "subjects", value: state.num_subjects ?? Number.NaN, higherIsBetter: true },
        { metric: `filtered consumer create (median of ${creations})`, unit: "ms", value: median(createMs), higherIsBetter: false },
        { metric: "filtered consume", unit: "msgs/s", value: filtered, higherIsBetter: true },
        { metric: "unfiltered consume", unit: "msgs/s", value: unfiltered, higherIsBetter: true },
        { metric: "filtered / unfiltered", unit: "ratio", value: filtered / unfiltered, higherIsBetter: true }
      ]
    })
}

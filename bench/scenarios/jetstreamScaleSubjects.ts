import { StorageType } from "@nats-io/jetstream"
import type { Scenario } from "../Scenario.ts"
import { fillStream } from "./jetstreamScaleFill.ts"
import { scaleSizes } from "./jetstreamScaleSizes.ts"
import { settle, withScaleServer } from "./jetstreamScaleServer.ts"

const stream = "SUBJECTS"
const payload = new Uint8Array(16)

/**
 * Stores one 16 B message on each of many distinct subjects of a file stream: the growth of the
 * server's RSS per subject. RSS counts everything the server keeps (subject index, sequence index,
 * cached payloads, garbage not yet collected), so it bounds the index's share from above.
 */
export const jetstreamScaleSubjects: Scenario = {
  id: "js-scale-subjects",
  title: "JetStream memory per distinct subject, file stream",
  run: (server, budget) =>
    withScaleServer(server.name, async ({ server: serverProcess, connection, manager }) => {
      const count = scaleSizes(budget).distinctSubjects
      await manager.streams.add({ name: stream, subjects: ["subject.>"], storage: StorageType.File })
      await settle()
      const rssBefore = serverProcess.rssBytes()
      await fillStream(connection, count, (index) => `subject.${index}`, payload)
      const state = (await manager.streams.info(stream)).state
      if (state.messages !== count) throw new Error(`${count} publishes acknowledged but ${state.messages} messages stored`)
      await settle()
      const rssAfter = serverProcess.rssBytes()
      return [
        { metric: `RSS per subject, ${count.toLocaleString("en-US")} subjects`, unit: "B", value: (rssAfter - rssBefore) / count, higherIsBetter: false },
        { metric: "RSS with subjects", unit: "MiB", value: rssAfter / 1048576, higherIsBetter: false }
      ]
    })
}

import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamManager, StorageType } from "@nats-io/jetstream"
import { nanos, type NatsConnection } from "@nats-io/transport-node"
import { names } from "@nex/runtime"
import { eventually } from "../../test/support/eventually.ts"
import { withRuntimeNode, workloadFile } from "../runtime/RuntimeNode.ts"
import type { RuntimeScenario } from "../runtime/RuntimeScenario.ts"
import { interleaved } from "../runtime/interleaved.ts"
import { startReferenceProcess } from "../runtime/referenceProcess.ts"

const payload = new TextEncoder().encode("job payload of 32 bytes ........")
const publishWindow = 256
const rounds = 4

/** Publishes `count` messages to `subject` with up to `publishWindow` acknowledgements outstanding. */
const publishJobs = async (client: NatsConnection, subject: string, count: number): Promise<void> => {
  const stream = jetstream(client)
  let pending: Array<Promise<unknown>> = []
  for (let index = 0; index < count; index++) {
    pending.push(stream.publish(subject, payload))
    if (pending.length === publishWindow) {
      await Promise.all(pending)
      pending = []
    }
  }
  await Promise.all(pending)
}

/** One side of the comparison: a stream and the durable consumer that works through it. */
interface JobSide {
  readonly stream: string
  readonly durable: string
  published: number
  elapsedMs: number
}

/** Publishes `count` more messages to the side's stream and waits until its consumer has acked every one. */
const runRound = async (client: NatsConnection, manager: JetStreamManager, side: JobSide, count: number): Promise<void> => {
  const startedAt = performance.now()
  await publishJobs(client, `${side.stream.toLowerCase()}.work`, count)
  side.published += count
  await eventually(
    async () => {
      const info = await manager.consumers.info(side.stream, side.durable)
      if (info.ack_floor.stream_seq < side.published || info.num_ack_pending > 0) throw new Error(`${side.durable} acked ${info.ack_floor.stream_seq} of ${side.published}`)
    },
    { timeout: 120_000, interval: 25 }
  )
  side.elapsedMs += performance.now() - startedAt
}

const parallelConcurrency = 16

/**
 * A JetStream job: messages published to a stream, each handled by a workload and acked (with the
 * default concurrency 1, which keeps order, and with 16), against a plain pull consumer acking each
 * message, on the same node; timed from the first publish until the last ack, in alternating rounds.
 */
export const runtimeJob: RuntimeScenario = {
  id: "runtime-job",
  title: "job throughput, 32 B messages, file stream",
  reference: "a plain @nats-io/jetstream pull consumer (consume(), defaults) acking each message, in its own process on the same node",
  run: (budget) =>
    withRuntimeNode(async (node) => {
      const manager = await jetstreamManager(node.client)
      const sides: Record<"workload" | "parallel" | "reference", JobSide> = {
        workload: { stream: "WORKLOAD_JOBS", durable: names.jobConsumer("job"), published: 0, elapsedMs: 0 },
        parallel: { stream: "PARALLEL_JOBS", durable: names.jobConsumer("parallel-job"), published: 0, elapsedMs: 0 },
        reference: { stream: "PLAIN_JOBS", durable: "plain", published: 0, elapsedMs: 0 }
      }
      for (const { stream } of Object.values(sides)) {
        await manager.streams.add({ name: stream, subjects: [`${stream.toLowerCase()}.>`], storage: StorageType.File })
      }
      await node.deploy({ file: workloadFile("echo"), name: "job", job: { stream: sides.workload.stream } })
      await node.deploy({ file: workloadFile("echo"), name: "parallel-job", job: { stream: sides.parallel.stream }, concurrency: parallelConcurrency })
      // The consumer configuration the runtime gives a job.
      const reference = sides.reference
      await manager.consumers.add(reference.stream, { durable_name: reference.durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ack_wait: nanos(30_000) })
      const plain = await startReferenceProcess("plainConsumer", [node.url, reference.stream, reference.durable])
      try {
        const perRound = Math.ceil(budget.jobMessages / rounds)
        await interleaved(["workload", "parallel", "reference"], rounds, (name) => runRound(node.client, manager, sides[name], perRound))
        const perSecond = (side: JobSide) => side.published / (side.elapsedMs / 1000)
        return [
          { metric: "concurrency 1", unit: "msg/s", value: perSecond(sides.workload), reference: perSecond(sides.reference), higherIsBetter: true },
          { metric: `concurrency ${parallelConcurrency}`, unit: "msg/s", value: perSecond(sides.parallel), reference: perSecond(sides.reference), higherIsBetter: true }
        ]
      } finally {
        await plain.stop()
      }
    })
}

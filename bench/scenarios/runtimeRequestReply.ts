import { withRuntimeNode, workloadFile } from "../runtime/RuntimeNode.ts"
import type { RuntimeScenario } from "../runtime/RuntimeScenario.ts"
import { interleaved } from "../runtime/interleaved.ts"
import { startReferenceProcess } from "../runtime/referenceProcess.ts"
import { concurrentRequests, sequentialRequests } from "../runtime/sequentialRequests.ts"
import { percentile } from "../statistics.ts"

const inFlight = 16
const rounds = 10
const warmupRequests = 200

/** What one side measured, accumulated over the rounds. */
const tally = (count: number) => ({ latencies: new Float64Array(count), sequentialMs: 0, concurrentMs: 0, done: 0 })

/** Warm request/reply through an echo workload against a plain responder on the same node, in alternating rounds. */
export const runtimeRequestReply: RuntimeScenario = {
  id: "runtime-warm",
  title: "warm request/reply, 5 B echo",
  reference: "a plain @nats-io responder in its own process on the same node (rounds alternate with the workload's)",
  run: (budget) =>
    withRuntimeNode(async (node) => {
      await node.deploy({ file: workloadFile("echo"), name: "warm", triggers: ["warm"], concurrency: inFlight })
      const plain = await startReferenceProcess("plainResponder", [node.url, "plain"])
      try {
        const perRound = Math.ceil(budget.requests / rounds)
        const sides = { workload: { subject: "warm", ...tally(perRound * rounds) }, reference: { subject: "plain", ...tally(perRound * rounds) } }
        for (const side of Object.values(sides)) await sequentialRequests(node.client, side.subject, warmupRequests, new Float64Array(warmupRequests), 0)
        await interleaved(["workload", "reference"], rounds, async (name) => {
          const side = sides[name]
          side.sequentialMs += await sequentialRequests(node.client, side.subject, perRound, side.latencies, side.done)
          side.concurrentMs += await concurrentRequests(node.client, side.subject, perRound, inFlight)
          side.done += perRound
        })
        const { workload, reference } = sides
        workload.latencies.sort()
        reference.latencies.sort()
        const perSecond = (milliseconds: number) => (perRound * rounds) / (milliseconds / 1000)
        return [
          {
            metric: "sequential",
            unit: "req/s",
            value: perSecond(workload.sequentialMs),
            reference: perSecond(reference.sequentialMs),
            higherIsBetter: true,
            target: { of: "ratio", atLeast: 0.6 }
          },
          { metric: "sequential p50", unit: "ms", value: percentile(workload.latencies, 0.5), reference: percentile(reference.latencies, 0.5), higherIsBetter: false },
          { metric: `${inFlight} in flight`, unit: "req/s", value: perSecond(workload.concurrentMs), reference: perSecond(reference.concurrentMs), higherIsBetter: true }
        ]
      } finally {
        await plain.stop()
      }
    })
}

import { Kvm } from "@nats-io/kv"
import { compareAndSetLoad } from "../../test/support/compareAndSetLoad.ts"
import type { Scenario } from "../Scenario.ts"
import { withJetStreamServer } from "./jetstreamServer.ts"
import { bucketOptions, type KvBucketKind, kindSuffix, serverOptions } from "./kvOperations.ts"

/**
 * Compare-and-set updates (kv.update with the right revision) on `keys` keys of a bucket in
 * parallel, one writer per key: updates per second, and the 10071 refusals, which are all
 * spurious here (nats-server issue #4987 reports them under load).
 */
export const kvCompareAndSet = (keys: number, kind: KvBucketKind = "file"): Scenario => ({
  id: `kv-cas-${keys}${kindSuffix[kind].id}`,
  title: `KV compare-and-set, ${keys} keys in parallel${kindSuffix[kind].title}`,
  run: (server, budget) =>
    withJetStreamServer(server.name, async ({ connection, cpuSeconds }) => {
      const kv = await new Kvm(connection).create("BENCH", bucketOptions(kind))
      const maxUpdates = Math.max(10_000, Math.floor(budget.messages / 10))
      // An unmeasured tenth first, as in kvOperations, lets the node's JIT compile its hot paths.
      await compareAndSetLoad(kv, { keys, maxUpdates: maxUpdates / 10, timeMs: budget.timeMs / 5 })
      const cpuBefore = cpuSeconds()
      const result = await compareAndSetLoad(kv, { keys, maxUpdates, timeMs: budget.timeMs })
      return [
        { metric: "updates", unit: "ops/s", value: result.updates / result.seconds, higherIsBetter: true },
        { metric: "wrong last sequence", unit: "errors", value: result.wrongLastSequence, higherIsBetter: false },
        { metric: "other errors", unit: "errors", value: result.otherErrors, higherIsBetter: false },
        { metric: "server CPU per update", unit: "µs", value: ((cpuSeconds() - cpuBefore) / result.updates) * 1e6, higherIsBetter: false }
      ]
    }, serverOptions(kind))
})

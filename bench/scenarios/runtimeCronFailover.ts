import { cronFailovers } from "../../test/cluster/cronFailovers.ts"
import { median } from "../statistics.ts"
import type { RuntimeScenario } from "../runtime/RuntimeScenario.ts"

const everyMs = 500

/**
 * A schedule (every 500 ms, two replicas on three `nex up --nats` nodes of a three-server
 * nats-server cluster) through `budget.failovers` SIGKILLs of a node running one of its replicas,
 * each node restarted at once: whether it still fires exactly once per period.
 */
export const runtimeCronFailover: RuntimeScenario = {
  id: "runtime-cron-failover",
  title: "cluster: schedule once per period across failovers",
  reference: "none (targets only)",
  run: async (budget) => {
    const failovers = budget.failovers
    // About 16 s a failover (7 s to declare a node dead, then a start) and 20 s of setup.
    const result = await cronFailovers({ failovers, everyMs, timeoutMs: 20_000 + 16_000 * failovers })
    return [
      { metric: "failovers done", unit: "count", value: result.failovers, higherIsBetter: true, target: { of: "value", atLeast: failovers } },
      { metric: `periods fired (every ${everyMs} ms)`, unit: "count", value: result.periods, higherIsBetter: true },
      { metric: "periods fired twice or more", unit: "count", value: result.duplicates.length, higherIsBetter: false, target: { of: "value", atMost: 0 } },
      { metric: "firings without a claimed period", unit: "count", value: result.unclaimed, higherIsBetter: false, target: { of: "value", atMost: 0 } },
      { metric: "periods missed", unit: "count", value: result.missed, higherIsBetter: false, target: { of: "value", atMost: 0 } },
      { metric: "longest gap between firings", unit: "ms", value: result.longestGapMs, higherIsBetter: false, target: { of: "value", atMost: everyMs } },
      { metric: "SIGKILL to 2 replicas running (median)", unit: "ms", value: median(result.recoveryMs), higherIsBetter: false, target: { of: "value", atMost: 15_000 } },
      { metric: "time taken", unit: "s", value: result.elapsedMs / 1000, higherIsBetter: false }
    ]
  }
}

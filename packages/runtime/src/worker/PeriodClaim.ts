import { type KV, Kvm } from "@nats-io/kv"
import type { NatsConnection } from "@nats-io/transport-node"
import { names } from "./WorkerProtocol.ts"

/** Whether this process may fire a workload's schedule for the period starting at `periodStart` (ms since the epoch). */
export type PeriodClaim = (workload: string, periodStart: number) => Promise<boolean>

/**
 * In a cluster every replica of a scheduled workload keeps the schedule, and before each tick
 * creates key `<workload>.<period start>` in bucket `nex-schedules`: the create succeeds for one
 * of them only, even across a failover, so the tick runs once per period. A failed claim (the key
 * exists, or JetStream does not answer) skips the tick: better once late than twice.
 */
export const periodClaim = (connection: NatsConnection, node: string): PeriodClaim => {
  let bucket: Promise<KV> | undefined
  const encoder = new TextEncoder()
  return async (workload, periodStart) => {
    try {
      bucket ??= new Kvm(connection).open(names.schedulesBucket)
      await (await bucket).create(`${workload}.${periodStart}`, encoder.encode(node))
      return true
    } catch {
      return false
    }
  }
}

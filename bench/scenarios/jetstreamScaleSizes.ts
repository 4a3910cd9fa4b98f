import type { Budget } from "../Scenario.ts"

/** How big the JetStream scale scenarios make their streams and consumer sets. */
export interface ScaleSizes {
  readonly restartMessages: number
  readonly filterMessages: number
  readonly filterSubjects: number
  readonly idleConsumers: number
  readonly idleMs: number
  readonly distinctSubjects: number
}

/**
 * Scales with the message budget: the full budget (1,000,000 messages) gives the sizes the targets
 * are stated for, `--quick` (50,000) a run of a few seconds per server.
 */
export const scaleSizes = (budget: Budget): ScaleSizes => ({
  restartMessages: budget.messages,
  filterMessages: budget.messages,
  filterSubjects: Math.max(1000, Math.floor(budget.messages / 10)),
  idleConsumers: Math.max(1000, Math.floor(budget.messages / 100)),
  // A ten-second sample resolves 0.1 % of a core at 100 clock ticks per second.
  idleMs: Math.max(3000, budget.timeMs * 2),
  distinctSubjects: Math.max(10_000, Math.floor(budget.messages / 10))
})

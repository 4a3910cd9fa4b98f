import type { BenchServer } from "./BenchServer.ts"

/** One number a scenario measured on one server. */
export interface Figure {
  readonly metric: string
  readonly unit: string
  readonly value: number
  readonly higherIsBetter: boolean
}

/** How much work a scenario may do against one server in one run. */
export interface Budget {
  readonly messages: number
  readonly timeMs: number
  readonly idleConnections: number
}

export interface Scenario {
  /** Short name used by `--only` (matched as a substring). */
  readonly id: string
  readonly title: string
  /**
   * Run on a server started for this run alone: a process that already served heavy load keeps
   * its freed heap, which would hide the memory a memory scenario means to measure.
   */
  readonly freshServer?: boolean
  readonly run: (server: BenchServer, budget: Budget) => Promise<ReadonlyArray<Figure>>
}

/** How much work each runtime scenario does in one run. */
export interface RuntimeBudget {
  readonly coldStarts: number
  readonly deploys: number
  readonly requests: number
  readonly jobMessages: number
  readonly idleWorkloads: number
  readonly configChanges: number
  /** Node SIGKILLs in the cluster failover scenarios. */
  readonly failovers: number
}

/** `--quick` scales every count down about tenfold (100 idle workloads instead of 1,000). */
export const runtimeBudget = (quick: boolean): RuntimeBudget =>
  quick
    ? { coldStarts: 30, deploys: 5, requests: 1000, jobMessages: 1000, idleWorkloads: 100, configChanges: 20, failovers: 3 }
    : { coldStarts: 200, deploys: 30, requests: 10_000, jobMessages: 10_000, idleWorkloads: 1000, configChanges: 200, failovers: 10 }

/** The bound a figure must stay within: on its own value, or on its ratio to the reference. */
export interface Target {
  readonly of: "value" | "ratio"
  readonly atMost?: number
  readonly atLeast?: number
}

/** One number a runtime scenario measured, with the reference's figure from the same run when there is one. */
export interface RuntimeFigure {
  readonly metric: string
  readonly unit: string
  readonly value: number
  readonly reference?: number
  readonly higherIsBetter: boolean
  readonly target?: Target
}

export interface RuntimeScenario {
  /** Short name used by `--only` (matched as a substring); every one contains "runtime". */
  readonly id: string
  readonly title: string
  /** What the reference column holds for this scenario, printed under the table. */
  readonly reference: string
  readonly run: (budget: RuntimeBudget) => Promise<ReadonlyArray<RuntimeFigure>>
}

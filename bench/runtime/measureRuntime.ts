import { samplesOf } from "../report.ts"
import type { RuntimeBudget, RuntimeScenario, Target } from "./RuntimeScenario.ts"

/** Every run's value of one runtime metric, with the reference's value from the same runs. */
export interface RuntimeSamples {
  readonly scenario: string
  readonly metric: string
  readonly unit: string
  readonly higherIsBetter: boolean
  readonly target: Target | undefined
  readonly values: number[]
  readonly references: number[]
  /** value / reference of each run that had a reference: the comparison is paired within a run. */
  readonly ratios: number[]
}

/** Runs each runtime scenario `runs` times (each run on a node of its own) and collects its figures. */
export const measureRuntime = async (
  scenarios: ReadonlyArray<RuntimeScenario>,
  runs: number,
  budget: RuntimeBudget,
  log: (line: string) => void
): Promise<RuntimeSamples[]> => {
  const samples = new Map<string, RuntimeSamples>()
  for (const scenario of scenarios) {
    for (let run = 0; run < runs; run++) {
      try {
        const figures = await scenario.run(budget)
        for (const figure of figures) {
          const entry = samplesOf(samples, scenario.title, figure, () => ({
            scenario: scenario.title,
            metric: figure.metric,
            unit: figure.unit,
            higherIsBetter: figure.higherIsBetter,
            target: figure.target,
            values: [],
            references: [],
            ratios: []
          }))
          entry.values.push(figure.value)
          if (figure.reference !== undefined) {
            entry.references.push(figure.reference)
            entry.ratios.push(figure.value / figure.reference)
          }
        }
        const shown = figures.map((figure) => `${figure.metric} ${figure.value.toFixed(2)}${figure.reference === undefined ? "" : ` (ref ${figure.reference.toFixed(2)})`} ${figure.unit}`)
        log(`${scenario.id} run ${run + 1}/${runs}: ${shown.join(", ")}`)
      } catch (error) {
        log(`${scenario.id} run ${run + 1}/${runs}: failed (${error instanceof Error ? error.message : String(error)})`)
      }
    }
  }
  return [...samples.values()]
}

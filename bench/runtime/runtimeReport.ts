import { formatNumber, renderTable } from "../report.ts"
import { median } from "../statistics.ts"
import type { RuntimeSamples } from "./measureRuntime.ts"
import type { RuntimeScenario, Target } from "./RuntimeScenario.ts"

const describeTarget = (target: Target, unit: string): string => {
  const bound = target.atMost !== undefined ? `≤ ${formatNumber(target.atMost)}` : `≥ ${formatNumber(target.atLeast ?? Number.NaN)}`
  return target.of === "ratio" ? `ratio ${bound}` : `${bound} ${unit}`
}

const meets = (target: Target, value: number, ratio: number): string => {
  const measured = target.of === "ratio" ? ratio : value
  if (!Number.isFinite(measured)) return "-"
  const met = (target.atMost === undefined || measured <= target.atMost) && (target.atLeast === undefined || measured >= target.atLeast)
  return met ? "yes" : "NO"
}

/**
 * The runtime table: the workload's median (on a nex node with the runtime), the reference's median
 * from the same runs, the median of the per-run ratios, and the target judged on those medians;
 * then what each reference is.
 */
export const renderRuntime = (samples: ReadonlyArray<RuntimeSamples>, scenarios: ReadonlyArray<RuntimeScenario>): string => {
  const rows = samples.map((sample) => {
    const value = median(sample.values)
    const reference = median(sample.references)
    const ratio = median(sample.ratios)
    return [
      sample.scenario,
      sample.metric,
      sample.unit,
      formatNumber(value),
      formatNumber(reference),
      Number.isFinite(ratio) ? ratio.toFixed(2) : "-",
      sample.target === undefined ? "-" : describeTarget(sample.target, sample.unit),
      sample.target === undefined ? "-" : meets(sample.target, value, ratio),
      sample.higherIsBetter ? "higher" : "lower",
      String(sample.values.length)
    ]
  })
  const table = renderTable(["runtime scenario", "metric", "unit", "workload", "reference", "wl/ref", "target", "met", "better", "runs"], rows, new Set([3, 4, 5, 9]))
  const measured = new Set(samples.map((sample) => sample.scenario))
  const legend = scenarios.filter((scenario) => measured.has(scenario.title)).map((scenario) => `  ${scenario.title}: ${scenario.reference}`)
  return [table, "", "workload: measured through the nex runtime (a `nex up` node of its own per run); wl/ref: median of each run's ratio; reference:", ...legend].join("\n")
}

import type { ServerName } from "./BenchServer.ts"
import { median } from "./statistics.ts"

/** Every run's value of one metric of one scenario, per server. */
export interface MetricSamples {
  readonly scenario: string
  readonly metric: string
  readonly unit: string
  readonly higherIsBetter: boolean
  readonly values: Record<ServerName, number[]>
}

/** The samples of one metric of one scenario across runs, created on first use. */
export const samplesOf = <S>(samples: Map<string, S>, scenario: string, figure: { readonly metric: string; readonly unit: string }, create: () => S): S => {
  const key = `${scenario}\u0000${figure.metric}\u0000${figure.unit}`
  let entry = samples.get(key)
  if (entry === undefined) {
    entry = create()
    samples.set(key, entry)
  }
  return entry
}

export const formatNumber = (value: number): string => {
  if (!Number.isFinite(value)) return "-"
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en-US")
  return value.toPrecision(3)
}

export const renderTable = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>, rightAligned: ReadonlySet<number>): string => {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, column) => (rightAligned.has(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join("  ")
  return [line(header), widths.map((width) => "-".repeat(width)).join("  "), ...rows.map(line)].join("\n")
}

/** The comparison table: median per server and the ratio nex / nats-server. */
export const renderResults = (samples: ReadonlyArray<MetricSamples>): string => {
  const rows = samples.map((sample) => {
    const nex = median(sample.values.nex)
    const reference = median(sample.values["nats-server"])
    const ratio = Number.isFinite(nex) && Number.isFinite(reference) && reference !== 0 ? (nex / reference).toFixed(2) : "-"
    return [
      sample.scenario,
      sample.metric,
      sample.unit,
      formatNumber(nex),
      formatNumber(reference),
      ratio,
      sample.higherIsBetter ? "higher" : "lower",
      String(Math.max(sample.values.nex.length, sample.values["nats-server"].length))
    ]
  })
  return renderTable(["scenario", "metric", "unit", "nex", "nats-server", "nex/ref", "better", "runs"], rows, new Set([3, 4, 5, 7]))
}

export interface MemoryRow {
  readonly server: ServerName
  readonly pid: number | undefined
  readonly idleBytes: number
  readonly afterBytes: number
}

export const renderMemory = (rows: ReadonlyArray<MemoryRow>): string =>
  renderTable(
    ["server", "pid", "RSS idle MiB", "RSS after run MiB"],
    rows.map((row) => [row.server, row.pid === undefined ? "-" : String(row.pid), formatNumber(row.idleBytes / 1048576), formatNumber(row.afterBytes / 1048576)]),
    new Set([1, 2, 3])
  )

import { defineHandler } from "@nex/sdk"

interface ReportRequest {
  readonly bucket?: string
  readonly object?: string
}

/**
 * `report.generate` with `{"bucket":"sales","object":"2026-q3.csv"}`: reads a CSV of
 * `region,amount` rows from an object store bucket, writes a summary artifact
 * `reports/<object>.summary.json` and replies with the summary.
 */
export default defineHandler(async (message, context) => {
  const request: ReportRequest = message.data.length === 0 ? {} : message.json<ReportRequest>()
  const bucket = request.bucket ?? "sales"
  const object = request.object ?? "sales.csv"
  const stored = await context.objects(bucket).get(object)
  if (stored === null) throw new Error(`no object ${object} in bucket ${bucket}`)
  const rows = stored
    .text()
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("region,"))
  const byRegion: Record<string, number> = {}
  let total = 0
  for (const row of rows) {
    const [region, amountText] = row.split(",")
    const amount = Number(amountText)
    if (region === undefined || !Number.isFinite(amount)) throw new Error(`bad row: ${row}`)
    byRegion[region] = Math.round(((byRegion[region] ?? 0) + amount) * 100) / 100
    total += amount
  }
  const summary = { source: `${bucket}/${object}`, rows: rows.length, total: Math.round(total * 100) / 100, byRegion }
  await context.artifacts.put(`reports/${object}.summary.json`, summary)
  context.log.info(`summarised ${rows.length} rows of ${bucket}/${object}`)
  return summary
})

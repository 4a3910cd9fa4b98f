/** "386 B", "1.2 KiB", "3.4 MiB". */
export const formatBytes = (bytes: number): string => {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}

/** "0.21ms", "12ms", "1.5s". */
export const formatMilliseconds = (milliseconds: number): string => {
  if (milliseconds >= 1000) return `${Number((milliseconds / 1000).toFixed(2))}s`
  if (milliseconds >= 10) return `${Math.round(milliseconds)}ms`
  return `${Number(milliseconds.toFixed(2))}ms`
}

/** Rows padded into columns, the header first. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)))
  return [header, ...rows].map((row) => row.map((cell, column) => cell.padEnd(widths[column])).join("  ").trimEnd()).join("\n")
}

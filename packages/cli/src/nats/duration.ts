const unitMilliseconds: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000
}

const durationPart = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y

/** Parses a Go-style duration ("500ms", "2s", "1m30s", "0") into milliseconds; undefined when malformed. */
export const parseDuration = (text: string): number | undefined => {
  if (text === "0") return 0
  if (text === "") return undefined
  let total = 0
  durationPart.lastIndex = 0
  while (durationPart.lastIndex < text.length) {
    const match = durationPart.exec(text)
    if (match === null) return undefined
    total += Number(match[1]) * unitMilliseconds[match[2]]
  }
  return total
}

/** Formats milliseconds the way Go prints a time.Duration ("1.234ms", "385.2µs", "2s"). */
export const formatDuration = (milliseconds: number): string => {
  if (milliseconds >= 1000) return `${trimNumber(milliseconds / 1000)}s`
  if (milliseconds >= 1) return `${trimNumber(milliseconds)}ms`
  return `${trimNumber(milliseconds * 1000)}µs`
}

const trimNumber = (value: number): string => String(Number(value.toFixed(3)))

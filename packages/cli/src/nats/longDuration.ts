import { parseDuration } from "./duration.ts"

const hour = 3_600_000

// natscli's durations add calendar units to Go's: w and d (24 h days), M (30 days), y (365 days).
const calendarUnits: Record<string, number> = { w: 7 * 24 * hour, W: 7 * 24 * hour, d: 24 * hour, D: 24 * hour, M: 30 * 24 * hour, y: 365 * 24 * hour, Y: 365 * 24 * hour }

const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|w|W|d|D|M|y|Y)/y

/** Parses a duration such as "30s", "1h30m", "1d" or "1y" into milliseconds; undefined when malformed. */
export const parseLongDuration = (text: string): number | undefined => {
  if (text === "0") return 0
  if (text === "") return undefined
  let total = 0
  part.lastIndex = 0
  while (part.lastIndex < text.length) {
    const match = part.exec(text)
    if (match === null) return undefined
    const calendar = calendarUnits[match[2]]
    total += calendar === undefined ? parseDuration(match[0])! : Number(match[1]) * calendar
  }
  return total
}

/** Formats milliseconds the way natscli shows durations in its reports: "30.00s", "2m0s", "1d0h0m0s", "never". */
export const formatHumanDuration = (milliseconds: number): string => {
  if (!Number.isFinite(milliseconds)) return "never"
  if (milliseconds < 1) return `${Math.round(milliseconds * 1000)}µs`
  if (milliseconds < 1000) return `${Math.round(milliseconds)}ms`
  const seconds = Math.floor(milliseconds / 1000)
  const minutes = Math.floor(seconds / 60)
  const hours = Math.floor(minutes / 60)
  const days = Math.floor(hours / 24)
  const years = Math.floor(days / 365)
  if (years > 0) return `${years}y${days % 365}d${hours % 24}h${minutes % 60}m${seconds % 60}s`
  if (days > 0) return `${days}d${hours % 24}h${minutes % 60}m${seconds % 60}s`
  if (hours > 0) return `${hours}h${minutes % 60}m${seconds % 60}s`
  if (minutes > 0) return `${minutes}m${seconds % 60}s`
  return `${(milliseconds / 1000).toFixed(2)}s`
}

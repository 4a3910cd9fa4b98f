/** Go's zero time.Time in RFC 3339, which nats-server sends for "never". */
export const zeroTime = "0001-01-01T00:00:00Z"

const nanosPerMilli = 1_000_000
const nanosPerSecond = 1_000_000_000

/** Nanoseconds since the Unix epoch, now (float64; exact integers at today's dates to within 256 ns). */
export const nowNanos = (): number => Math.round((performance.timeOrigin + performance.now()) * nanosPerMilli)

/** The date and time part of the last second formatted: consecutive timestamps mostly share it. */
let formattedSecond = Number.NaN
let formattedSecondText = ""

/**
 * Formats nanoseconds since the epoch as Go's RFC3339Nano in UTC: trailing zeros of the fraction
 * trimmed, no fraction when it is zero; 0 becomes the zero time. Runs per DIRECT.GET reply, so
 * plain float arithmetic: `%` is exact, and the seconds are rounded back to an integer.
 */
export const formatTimestamp = (nanos: number): string => {
  if (nanos <= 0) return zeroTime
  const whole = Math.round(nanos)
  let fraction = whole % nanosPerSecond
  const seconds = Math.round((whole - fraction) / nanosPerSecond)
  if (seconds !== formattedSecond) {
    formattedSecond = seconds
    formattedSecondText = new Date(seconds * 1000).toISOString().slice(0, 19)
  }
  if (fraction === 0) return `${formattedSecondText}Z`
  let digits = 9
  while (fraction % 10 === 0) {
    fraction /= 10
    digits--
  }
  return `${formattedSecondText}.${String(fraction).padStart(digits, "0")}Z`
}

const rfc3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i

/** Parses an RFC 3339 time (any offset, up to nanoseconds) into nanoseconds since the epoch. */
export const parseTimestamp = (text: string): number | undefined => {
  const match = rfc3339.exec(text)
  if (match === null) return undefined
  const milliseconds = Date.parse(`${match[1]}${match[3].toUpperCase()}`)
  if (Number.isNaN(milliseconds)) return undefined
  const fraction = match[2] === undefined ? 0 : Number(match[2].padEnd(9, "0"))
  return milliseconds * nanosPerMilli + fraction
}

const goDurationUnits: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  "µs": 1e3,
  "μs": 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9
}

/** Parses a Go duration ("1.5s", "2m30s", "300ms") into nanoseconds. */
export const parseGoDuration = (text: string): number | undefined => {
  const trimmed = text.trim()
  if (trimmed === "0") return 0
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy
  let total = 0
  let position = 0
  let sign = 1
  let body = trimmed
  if (body.startsWith("-") || body.startsWith("+")) {
    sign = body.startsWith("-") ? -1 : 1
    body = body.slice(1)
  }
  if (body.length === 0) return undefined
  part.lastIndex = 0
  while (position < body.length) {
    part.lastIndex = position
    const match = part.exec(body)
    if (match === null) return undefined
    total += Number(match[1]) * goDurationUnits[match[2]]
    position = part.lastIndex
  }
  return Math.round(sign * total)
}

/** Formats nanoseconds as Go's time.Duration String() does ("1m30s", "500ms", "2h0m0s"). */
export const formatGoDuration = (nanos: number): string => {
  if (nanos === 0) return "0s"
  const negative = nanos < 0
  let remaining = Math.abs(nanos)
  let text: string
  if (remaining < 1e9) {
    if (remaining < 1e3) text = `${remaining}ns`
    else if (remaining < 1e6) text = `${trimFraction(remaining / 1e3)}µs`
    else text = `${trimFraction(remaining / 1e6)}ms`
  } else {
    const hours = Math.floor(remaining / 3600e9)
    remaining -= hours * 3600e9
    const minutes = Math.floor(remaining / 60e9)
    remaining -= minutes * 60e9
    const seconds = `${trimFraction(remaining / 1e9)}s`
    text = hours > 0 ? `${hours}h${minutes}m${seconds}` : minutes > 0 ? `${minutes}m${seconds}` : seconds
  }
  return negative ? `-${text}` : text
}

const trimFraction = (value: number): string => String(Number(value.toFixed(9)))

import { formatHumanDuration } from "./longDuration.ts"

/** A whole number with thousands separators, as natscli prints counts (go-humanize Comma): "1,000". */
export const comma = (value: number): string => {
  const digits = String(Math.trunc(Math.abs(value))).replace(/\B(?=(\d{3})+(?!\d))/g, ",")
  return value < 0 ? `-${digits}` : digits
}

const twoDigits = (value: number): string => String(value).padStart(2, "0")

/** Local time as natscli prints it in reports: "2006-01-02 15:04:05". */
export const localTime = (date: Date): string =>
  `${date.getFullYear()}-${twoDigits(date.getMonth() + 1)}-${twoDigits(date.getDate())} ` +
  `${twoDigits(date.getHours())}:${twoDigits(date.getMinutes())}:${twoDigits(date.getSeconds())}`

/** Whether a server timestamp is Go's zero time ("0001-01-01T00:00:00Z"), which means "never". */
export const isZeroTime = (timestamp: string | undefined): boolean => timestamp === undefined || timestamp.startsWith("0001-01-01")

/** Milliseconds since epoch of a server RFC 3339 timestamp (nanosecond digits beyond the millisecond are dropped). */
export const parseTimestamp = (timestamp: string): number => Date.parse(timestamp.replace(/(\.\d{3})\d+/, "$1"))

/**
 * A UTC server timestamp the way Go's time.Time String() prints it, which natscli uses for
 * `stream get`: "2026-11-26T03:38:03.30344867Z" becomes "2026-11-26 03:38:03.30344867 +0000 UTC".
 */
export const goTimeString = (timestamp: string): string => {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2}(?:\.\d+)?)Z$/.exec(timestamp)
  return match === null ? timestamp : `${match[1]} ${match[2]} +0000 UTC`
}

/** How long ago `timestamp` was, seen from `reference` (the server's clock when it answered, else now). */
export const sinceReference = (timestamp: string | undefined, reference: string | undefined): string => {
  if (timestamp === undefined || isZeroTime(timestamp)) return "never"
  const now = reference === undefined || isZeroTime(reference) ? Date.now() : parseTimestamp(reference)
  return formatHumanDuration(Math.max(0, now - parseTimestamp(timestamp)))
}

const twoDigits = (value: number): string => String(value).padStart(2, "0")

const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

/** The local zone's abbreviation ("UTC", "EST"), or Go's numeric fallback ("+0530") where there is none. */
const zoneName = (date: Date): string => {
  const named = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }).formatToParts(date).find((part) => part.type === "timeZoneName")?.value
  if (named !== undefined && !/^GMT[+-]/.test(named)) return named === "GMT" && date.getTimezoneOffset() === 0 ? "UTC" : named
  return zoneOffset(date, "")
}

/** "+01:00" / "-05:00" (or without the colon); UTC is "+00:00". */
const zoneOffset = (date: Date, separator: string): string => {
  const minutes = -date.getTimezoneOffset()
  const sign = minutes < 0 ? "-" : "+"
  const absolute = Math.abs(minutes)
  return `${sign}${twoDigits(Math.floor(absolute / 60))}${separator}${twoDigits(absolute % 60)}`
}

/** Go's time.RFC822 in local time, as natscli prints a KV entry's creation: "26 Nov 26 03:38 UTC". */
export const rfc822 = (date: Date): string =>
  `${twoDigits(date.getDate())} ${months[date.getMonth()]} ${twoDigits(date.getFullYear() % 100)} ` +
  `${twoDigits(date.getHours())}:${twoDigits(date.getMinutes())} ${zoneName(date)}`

/** Go's time.RFC3339 in local time, as natscli heads bucket reports: "2026-11-26T03:38:03Z" or "…T04:38:03+01:00". */
export const rfc3339Local = (date: Date): string => {
  const offset = date.getTimezoneOffset() === 0 ? "Z" : zoneOffset(date, ":")
  return (
    `${date.getFullYear()}-${twoDigits(date.getMonth() + 1)}-${twoDigits(date.getDate())}` +
    `T${twoDigits(date.getHours())}:${twoDigits(date.getMinutes())}:${twoDigits(date.getSeconds())}${offset}`
  )
}

/** Go's time.RFC3339 of a UTC time, as natscli lists object modification times: "2026-11-26T03:38:03Z". */
export const rfc3339Utc = (date: Date): string => `${date.toISOString().slice(0, 19)}Z`

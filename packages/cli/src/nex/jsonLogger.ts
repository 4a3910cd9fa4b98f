import { Cause, HashMap, Logger } from "effect"

const messageText = (message: unknown): string => {
  const parts = Array.isArray(message) ? message : [message]
  return parts.map((part) => (typeof part === "string" ? part : JSON.stringify(part))).join(" ")
}

/** One JSON object per line on stdout: message first, then the annotations, level and time. */
export const jsonLineLogger = Logger.make(({ annotations, cause, date, logLevel, message }) => {
  const line: Record<string, unknown> = { message: messageText(message) }
  for (const [key, value] of HashMap.toEntries(annotations)) line[key] = value
  line.level = logLevel.label.toLowerCase()
  line.time = date.toISOString()
  if (!Cause.isEmpty(cause)) line.cause = Cause.pretty(cause)
  process.stdout.write(`${JSON.stringify(line)}\n`)
})

/** Replaces Effect's default logger with `jsonLineLogger`. */
export const layer = Logger.replace(Logger.defaultLogger, jsonLineLogger)

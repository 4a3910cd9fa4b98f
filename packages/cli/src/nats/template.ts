import { randomUUID } from "node:crypto"
import { nuid } from "@nats-io/transport-node"

export interface TemplateValues {
  /** The 1-based number of the message being sent or answered. */
  readonly count: number
  /** The request body, when answering a request. */
  readonly request?: string | undefined
  /** The subject a request arrived on, when answering a request. */
  readonly subject?: string | undefined
}

// natscli's body templates are Go templates; these are the placeholders it documents, written either
// as a function (`{{Count}}`) or a field (`{{.Count}}`), plus `{{ Random MIN MAX }}`.
const placeholder = /\{\{\s*\.?([A-Za-z]+)((?:\s+\d+){0,2})\s*\}\}/g

const randomCharacters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

const randomString = (shortest: number, longest: number): string => {
  const length = shortest + Math.floor(Math.random() * (Math.max(longest, shortest) - shortest + 1))
  let text = ""
  for (let index = 0; index < length; index++) text += randomCharacters[Math.floor(Math.random() * randomCharacters.length)]
  return text
}

const kitchenTime = (now: Date): string => {
  const hours = now.getHours()
  const minutes = String(now.getMinutes()).padStart(2, "0")
  return `${hours % 12 === 0 ? 12 : hours % 12}:${minutes}${hours < 12 ? "AM" : "PM"}`
}

/** Whether `text` holds anything that looks like a template placeholder. */
export const hasPlaceholders = (text: string): boolean => text.includes("{{")

/** Replaces the placeholders natscli understands; anything it does not know is left as written. */
export const expandTemplate = (text: string, values: TemplateValues): string => {
  if (!hasPlaceholders(text)) return text
  const now = new Date()
  return text.replace(placeholder, (whole, name: string, numbers: string) => {
    if (numbers !== "" && name !== "Random") return whole
    const [shortest, longest] = numbers.trim().split(/\s+/).map(Number)
    switch (name) {
      case "Count":
      case "Cnt":
        return String(values.count)
      case "Request":
        return values.request ?? whole
      case "Subject":
        return values.subject ?? whole
      case "ID":
        return nuid.next()
      case "UUID":
        return randomUUID()
      case "Unix":
        return String(Math.floor(now.getTime() / 1000))
      case "UnixNano":
        return `${now.getTime()}000000`
      case "TimeStamp":
        return now.toISOString().replace(/\.\d{3}Z$/, "Z")
      case "Time":
        return kitchenTime(now)
      case "Random":
        return longest === undefined ? whole : randomString(shortest, longest)
      default:
        return whole
    }
  })
}

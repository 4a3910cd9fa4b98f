// Envelope fields of a JetStream API response that are not part of the StreamInfo/ConsumerInfo itself.
const envelopeFields = new Set(["type", "total", "offset", "limit", "did_create"])

/** Prints an API answer as indented JSON (natscli's --json), without the response envelope fields. */
export const printJson = (value: unknown): void => {
  const body =
    typeof value === "object" && value !== null && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).filter(([key]) => !envelopeFields.has(key)))
      : value
  process.stdout.write(`${JSON.stringify(body, null, 2)}\n`)
}

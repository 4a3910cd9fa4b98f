import { headers, type MsgHdrs } from "@nats-io/transport-node"
import { UsageError } from "./CliError.ts"
import { expandTemplate, hasPlaceholders, type TemplateValues } from "./template.ts"

export type HeaderTemplate = readonly [key: string, value: string]

/** Splits `-H "Key:Value"` flags; the value may hold templates such as {{Count}}. */
export const parseHeaderFlags = (values: ReadonlyArray<string>): ReadonlyArray<HeaderTemplate> =>
  values.map((value) => {
    const colon = value.indexOf(":")
    const key = colon === -1 ? "" : value.slice(0, colon).trim()
    if (key === "" || /[\s:]/.test(key)) throw new UsageError(`invalid header "${value}" for --header: expected KEY:VALUE`)
    return [key, value.slice(colon + 1).trim()] as const
  })

export const makeHeaders = (templates: ReadonlyArray<HeaderTemplate>, values: TemplateValues): MsgHdrs | undefined => {
  if (templates.length === 0) return undefined
  const result = headers()
  for (const [key, value] of templates) result.append(key, expandTemplate(value, values))
  return result
}

/** The body to send: bytes stay untouched unless they hold template placeholders. */
export const makeBody = (body: Buffer, values: TemplateValues): Uint8Array | string => {
  const text = body.toString("utf8")
  return hasPlaceholders(text) ? expandTemplate(text, values) : body
}

const readStdin = async (): Promise<Buffer> => {
  const chunks: Array<Buffer> = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** The body argument, else all of stdin when it is piped or redirected, else nothing. */
export const readBody = async (argument: string | undefined): Promise<Buffer> => {
  if (argument !== undefined) return Buffer.from(argument)
  if (process.stdin.isTTY) return Buffer.alloc(0)
  return readStdin()
}

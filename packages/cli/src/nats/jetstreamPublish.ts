import { type MsgHdrs, type NatsConnection, RequestError, TimeoutError } from "@nats-io/transport-node"
import { CliError } from "./CliError.ts"
import { formatDuration } from "./duration.ts"
import { comma } from "./humanize.ts"
import { quoted } from "./output.ts"

/** What a stream answers a JetStream publish with. */
interface PublishAcknowledgement {
  readonly stream?: string
  readonly seq?: number
  readonly duplicate?: boolean
  readonly domain?: string
  readonly error?: { readonly code: number; readonly err_code?: number; readonly description: string }
}

/**
 * Publishes one message as a request and waits for the stream's acknowledgement, as
 * `nats pub --jetstream` does; a rejection (e.g. "wrong last sequence: 3") becomes a CliError.
 */
export const publishToStream = async (
  connection: NatsConnection,
  subject: string,
  payload: Uint8Array | string,
  options: { readonly timeout: number; readonly headers: MsgHdrs | undefined }
): Promise<Required<Pick<PublishAcknowledgement, "stream" | "seq">> & PublishAcknowledgement> => {
  let answer: PublishAcknowledgement
  try {
    const reply = await connection.request(subject, payload, { timeout: options.timeout, headers: options.headers })
    answer = JSON.parse(reply.string()) as PublishAcknowledgement
  } catch (error) {
    if (error instanceof RequestError && error.isNoResponders()) throw new CliError(`no JetStream stream stores subject ${quoted(subject)} (no responders)`)
    if (error instanceof TimeoutError) throw new CliError(`timed out after ${formatDuration(options.timeout)} waiting for the stream to acknowledge ${quoted(subject)}`)
    if (error instanceof SyntaxError) throw new CliError(`the reply on ${quoted(subject)} is not a JetStream acknowledgement`)
    throw error
  }
  if (answer.error !== undefined) throw new CliError(answer.error.description)
  if (typeof answer.stream !== "string" || typeof answer.seq !== "number") throw new CliError(`the reply on ${quoted(subject)} is not a JetStream acknowledgement`)
  return { ...answer, stream: answer.stream, seq: answer.seq }
}

/** natscli's line for a stored message: "Stored in Stream: ORDERS Sequence: 1". */
export const acknowledgementLine = (acknowledgement: PublishAcknowledgement): string => {
  let line = `Stored in Stream: ${acknowledgement.stream} Sequence: ${comma(acknowledgement.seq ?? 0)}`
  if (acknowledgement.domain) line += ` Domain: ${quoted(acknowledgement.domain)}`
  if (acknowledgement.duplicate) line += " Duplicate: true"
  return line
}

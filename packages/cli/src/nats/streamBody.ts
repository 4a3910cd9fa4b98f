/** A message body as natscli's outPutMSGBody prints it: the data, its newline, then a blank line or two. */
export const writeBody = (data: Uint8Array): void => {
  const body = data.length === 0 ? Buffer.from("nil body") : Buffer.from(data)
  const endsWithNewline = body.at(-1) === 0x0a
  process.stdout.write(Buffer.concat([body, Buffer.from(endsWithNewline ? "\n" : "\n\n\n")]))
}

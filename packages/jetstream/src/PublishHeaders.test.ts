import { encodeHeaders, findHeader } from "@nex/protocol"
import { describe, expect, it } from "vitest"
import { type PublishHeaders, scanPublishHeaders } from "./PublishHeaders.ts"

const names: Record<keyof PublishHeaders, string> = {
  expectedStream: "Nats-Expected-Stream",
  ttl: "Nats-TTL",
  expectedLastSubjectSequence: "Nats-Expected-Last-Subject-Sequence",
  expectedLastSubjectSequenceSubject: "Nats-Expected-Last-Subject-Sequence-Subject",
  expectedLastSequence: "Nats-Expected-Last-Sequence",
  messageId: "Nats-Msg-Id",
  expectedLastMessageId: "Nats-Expected-Last-Msg-Id",
  rollup: "Nats-Rollup"
}

const block = (text: string): Uint8Array => Buffer.from(text, "latin1")

/** What calling findHeader once per name gives: the scan must agree with it on every block. */
const oneByOne = (headers: Uint8Array): PublishHeaders =>
  Object.fromEntries(Object.entries(names).map(([field, name]) => [field, findHeader(headers, name)])) as unknown as PublishHeaders

describe("scanPublishHeaders", () => {
  const blocks = [
    "NATS/1.0\r\n\r\n",
    "NATS/1.0\r\nNats-Msg-Id: abc\r\n\r\n",
    "NATS/1.0\r\nNats-Expected-Last-Subject-Sequence: 12\r\n\r\n",
    "NATS/1.0\r\nNats-Expected-Last-Subject-Sequence-Subject: a.b\r\nNats-Expected-Last-Subject-Sequence: 0\r\n\r\n",
    "NATS/1.0\r\nNats-Msg-Id:\t spaced \t\r\nNats-Msg-Id: second\r\nNats-Rollup: sub\r\n\r\n",
    "NATS/1.0\r\nnats-msg-id: lower\r\nNats-Msg-Id : padded name\r\nX-Nats-Msg-Id: other\r\n\r\n",
    "NATS/1.0\r\nNats-Expected-Stream: S\r\nNats-TTL: 1s\r\nNats-Expected-Last-Sequence: 3\r\nNats-Expected-Last-Msg-Id: m\r\n\r\n",
    "NATS/1.0\r\nNats-Msg-Id: a:b:c\r\n\r\nNats-Rollup: after blank line\r\n",
    "NATS/1.0\r\nNats-Msg-Id: no final line break",
    "NATS/1.0\nNats-Msg-Id: bare\nNats-Rollup: all\n\n",
    "NATS/1.0\r\nNoColonHere\r\nNats-Msg-Id: after\r\n\r\n",
    `NATS/1.0\r\nNats-Msg-Id: ${"x".repeat(200)}\r\n\r\n`,
    "NATS/1.0\r\nNats-Msg-Id: caf\u00e9\r\n\r\n",
    "no line break at all"
  ]
  for (const text of blocks) {
    it(`agrees with findHeader on ${JSON.stringify(text.slice(0, 60))}`, () => {
      const headers = block(text)
      expect(scanPublishHeaders(headers)).toEqual(oneByOne(headers))
    })
  }

  it("finds every header of an encoded block", () => {
    const headers = encodeHeaders({ headers: Object.entries(names).map(([field, name]) => [name, `value of ${field}`] as [string, string]) })
    const found = scanPublishHeaders(headers)
    for (const [field] of Object.entries(names)) expect(found[field as keyof PublishHeaders]).toBe(`value of ${field}`)
  })
})

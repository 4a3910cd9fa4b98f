import { describe, expect, it } from "vitest"
import { diffTargets, eventually, openRawConnection, type RawConnection, referenceComparison, useTarget } from "../support/index.ts"

const compare = referenceComparison()

const quiet = 'CONNECT {"verbose":false,"headers":true}\r\n'
const noResponders = 'CONNECT {"verbose":false,"headers":true,"no_responders":true}\r\n'

interface ProtocolCase {
  readonly name: string
  /** Written one chunk per TCP write, each awaited. */
  readonly send: ReadonlyArray<string>
  /** The exact bytes after INFO; several when the spec allows more than one server version's form. */
  readonly expected: string | ReadonlyArray<string>
  readonly closes: boolean
}

const everyByte = (text: string): string[] => Array.from(text)

const cases: ReadonlyArray<ProtocolCase> = [
  { name: "verbose CONNECT then PING", send: ['CONNECT {"verbose":true}\r\nPING\r\n'], expected: "+OK\r\nPONG\r\n", closes: false },
  { name: "CONNECT without verbose defaults to verbose", send: ["CONNECT {}\r\nPING\r\n"], expected: "+OK\r\nPONG\r\n", closes: false },
  {
    name: "SUB then PUB delivers a MSG line",
    send: [quiet + "SUB foo 1\r\nPUB foo 5\r\nhello\r\nPING\r\n"],
    expected: "MSG foo 1 5\r\nhello\r\nPONG\r\n",
    closes: false
  },
  {
    name: "ops before CONNECT are accepted, verbose by default",
    send: ["SUB foo 1\r\nPUB foo 5\r\nhello\r\nPING\r\n"],
    expected: "+OK\r\n+OK\r\nMSG foo 1 5\r\nhello\r\nPONG\r\n",
    closes: false
  },
  { name: "PUB with a reply subject", send: [quiet + "SUB foo 1\r\nPUB foo bar 2\r\nhi\r\nPING\r\n"], expected: "MSG foo 1 bar 2\r\nhi\r\nPONG\r\n", closes: false },
  {
    name: "lower-case and mixed-case ops",
    send: ['connect {"verbose":false}\r\nsub foo 1\r\nPub foo 2\r\nhi\r\nping\r\n'],
    expected: "MSG foo 1 2\r\nhi\r\nPONG\r\n",
    closes: false
  },
  {
    name: "arguments separated by several spaces and tabs",
    send: [quiet + "SUB  foo\t 1\r\nPUB\tfoo  2\r\nhi\r\nPING\r\n"],
    expected: "MSG foo 1 2\r\nhi\r\nPONG\r\n",
    closes: false
  },
  { name: "a bare LF ends a control line", send: ["PING\n"], expected: "PONG\r\n", closes: false },
  {
    name: "SUB, PUB and PING split into one TCP write per byte",
    send: [quiet, ...everyByte("SUB foo 1\r\nPUB foo 5\r\nhello\r\nPING\r\n")],
    expected: "MSG foo 1 5\r\nhello\r\nPONG\r\n",
    closes: false
  },
  {
    name: "PUB split at awkward points",
    send: [quiet + "SUB foo 1\r\nP", "U", "B f", "oo 5\r", "\nhel", "lo", "\r", "\nPING\r\n"],
    expected: "MSG foo 1 5\r\nhello\r\nPONG\r\n",
    closes: false
  },
  {
    name: "HPUB delivers HMSG with the header block untouched",
    send: [quiet + "SUB h 1\r\nHPUB h 18 23\r\nNATS/1.0\r\nA: b\r\n\r\nhello\r\nPING\r\n"],
    expected: "HMSG h 1 18 23\r\nNATS/1.0\r\nA: b\r\n\r\nhello\r\nPONG\r\n",
    closes: false
  },
  {
    name: "HPUB with a status-free, key-free header block",
    send: [quiet + "SUB h 1\r\nHPUB h 12 12\r\nNATS/1.0\r\n\r\n\r\nPING\r\n"],
    expected: "HMSG h 1 12 12\r\nNATS/1.0\r\n\r\n\r\nPONG\r\n",
    closes: false
  },
  {
    name: "HPUB with zero header bytes is delivered as MSG",
    send: [quiet + "SUB h 1\r\nHPUB h 0 5\r\nhello\r\nPING\r\n"],
    expected: "MSG h 1 5\r\nhello\r\nPONG\r\n",
    closes: false
  },
  {
    name: "UNSUB with max after one delivery allows one more",
    send: [quiet + "SUB foo 1\r\nPUB foo 1\r\na\r\nUNSUB 1 2\r\nPUB foo 1\r\nb\r\nPUB foo 1\r\nc\r\nPING\r\n"],
    expected: "MSG foo 1 1\r\na\r\nMSG foo 1 1\r\nb\r\nPONG\r\n",
    closes: false
  },
  {
    name: "UNSUB with a max already reached removes at once",
    send: [quiet + "SUB foo 1\r\nPUB foo 1\r\na\r\nUNSUB 1 1\r\nPUB foo 1\r\nb\r\nPING\r\n"],
    expected: "MSG foo 1 1\r\na\r\nPONG\r\n",
    closes: false
  },
  { name: "UNSUB of an unknown sid is acknowledged when verbose", send: ['CONNECT {"verbose":true}\r\nUNSUB 99\r\nPING\r\n'], expected: "+OK\r\n+OK\r\nPONG\r\n", closes: false },
  {
    name: "SUB with an empty token is refused and the connection stays open",
    send: [quiet + "SUB foo..bar 1\r\nPING\r\n"],
    expected: "-ERR 'Invalid Subject'\r\nPONG\r\n",
    closes: false
  },
  { name: "SUB with `>` not last is refused", send: [quiet + "SUB foo.>.bar 1\r\nPING\r\n"], expected: "-ERR 'Invalid Subject'\r\nPONG\r\n", closes: false },
  {
    name: "no responders status to the requester's inbox",
    send: [noResponders + "SUB r 1\r\nPUB nobody r 0\r\n\r\nPING\r\n"],
    // 2.12+ adds a Nats-Subject header to the 503; both forms satisfy the clients.
    expected: ["HMSG r 1 16 16\r\nNATS/1.0 503\r\n\r\n\r\nPONG\r\n", "HMSG r 1 38 38\r\nNATS/1.0 503\r\nNats-Subject: nobody\r\n\r\n\r\nPONG\r\n"],
    closes: false
  },
  { name: "no_responders without headers is refused", send: ['CONNECT {"no_responders":true}\r\n'], expected: "-ERR 'no responders requires headers support'\r\n", closes: true },
  { name: "unknown op", send: ["FOO bar\r\n"], expected: "-ERR 'Unknown Protocol Operation'\r\n", closes: true },
  { name: "MSG sent by a client", send: [quiet + "MSG foo 1 0\r\n\r\n"], expected: "-ERR 'Unknown Protocol Operation'\r\n", closes: true },
  { name: "payload longer than declared", send: [quiet + "PUB foo 3\r\nhello\r\n"], expected: "-ERR 'Unknown Protocol Operation'\r\n", closes: true },
  { name: "payload not followed by CR LF", send: [quiet + "PUB foo 2\r\nhiX\n"], expected: "-ERR 'Unknown Protocol Operation'\r\n", closes: true },
  {
    name: "control line over 4096 bytes",
    send: [quiet + `PUB foo.${"a".repeat(5000)} 1\r\n`],
    expected: "-ERR 'maximum control line exceeded'\r\n",
    closes: true
  },
  { name: "control line over 4096 bytes with no line end yet", send: [quiet + `SUB ${"a".repeat(5000)}`], expected: "-ERR 'maximum control line exceeded'\r\n", closes: true },
  { name: "HPUB larger than max_payload", send: [quiet + "HPUB foo 12 1048577\r\n"], expected: "-ERR 'Maximum Payload Violation'\r\n", closes: true },
  { name: "CONNECT with protocol 2", send: ['CONNECT {"protocol":2}\r\n'], expected: "-ERR 'invalid client protocol'\r\n", closes: true },
  { name: "malformed CONNECT JSON closes silently", send: ["CONNECT {bad json\r\n"], expected: "", closes: true },
  { name: "PUB without a size closes silently", send: [quiet + "PUB foo\r\n"], expected: "", closes: true },
  { name: "HPUB with header size over total closes silently", send: [quiet + "HPUB foo 10 5\r\n"], expected: "", closes: true },
  {
    name: "HPUB without negotiated headers closes silently",
    send: ['CONNECT {"verbose":false}\r\nHPUB h 18 23\r\nNATS/1.0\r\nA: b\r\n\r\nhello\r\n'],
    expected: "",
    closes: true
  }
]

const sendAll = async (connection: RawConnection, chunks: ReadonlyArray<string>): Promise<void> => {
  connection.socket.setNoDelay(true)
  for (const chunk of chunks) await connection.write(chunk)
}

const expectOneOf = (received: string, expected: string | ReadonlyArray<string>): void => {
  if (typeof expected === "string") expect(received).toBe(expected)
  else expect(expected).toContain(received)
}

describe.each(diffTargets())("$name", (target) => {
  describe.skipIf(!target.available)("raw protocol bytes", () => {
    const server = useTarget(target)

    it.each(cases)("$name", async ({ name, send, expected, closes }) => {
      const connection = await openRawConnection(server().port)
      try {
        await sendAll(connection, send)
        if (closes) {
          await connection.waitForClose()
          expectOneOf(connection.received(), expected)
        } else {
          await eventually(() => expectOneOf(connection.received(), expected))
          const beforeProbe = connection.received()
          await connection.write("PING\r\n")
          await eventually(() => expect(connection.received()).toBe(beforeProbe + "PONG\r\n"))
        }
        if (typeof expected === "string") compare(target.name, name, { received: connection.received(), closed: closes })
      } finally {
        connection.close()
      }
    })

    it("strips headers for a subscriber that did not ask for them", async () => {
      const subscriber = await openRawConnection(server().port)
      const publisher = await openRawConnection(server().port)
      try {
        await subscriber.write('CONNECT {"verbose":false,"headers":false}\r\nSUB h 1\r\nPING\r\n')
        await subscriber.waitFor("PONG\r\n")
        await publisher.write(quiet + "HPUB h 18 23\r\nNATS/1.0\r\nA: b\r\n\r\nhello\r\nPING\r\n")
        await publisher.waitFor("PONG\r\n")
        await subscriber.write("PING\r\n")
        await eventually(() => expect(subscriber.received()).toBe("PONG\r\nMSG h 1 5\r\nhello\r\nPONG\r\n"))
      } finally {
        subscriber.close()
        publisher.close()
      }
    })

    it("sends INFO with the documented keys on accept, before reading anything", async () => {
      const connection = await openRawConnection(server().port)
      try {
        const { info } = connection
        expect(info).toMatchObject({ proto: 1, headers: true, max_payload: 1048576, host: "127.0.0.1", port: server().port })
        expect(typeof info.server_id).toBe("string")
        expect(typeof info.client_id).toBe("number")
        compare(target.name, "INFO keys", {
          keys: ["server_id", "version", "proto", "headers", "max_payload", "client_id", "host", "port"].filter((key) => key in info),
          absent: ["auth_required", "tls_required", "tls_available", "connect_urls", "nonce"].filter((key) => key in info)
        })
      } finally {
        connection.close()
      }
    })
  })
})

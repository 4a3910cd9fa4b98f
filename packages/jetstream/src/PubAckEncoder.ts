/**
 * Encodes one stream's PubAcks, `{"stream":"<name>","seq":<seq>}`, straight into bytes: the prefix
 * is encoded once and each ack only adds its digits, sparing a template string and a TextEncoder
 * call per publish.
 */
export class PubAckEncoder {
  /** `{"stream":"<name>","seq":`, UTF-8. */
  private readonly prefix: Buffer

  constructor(streamName: string) {
    this.prefix = Buffer.from(`{"stream":${JSON.stringify(streamName)},"seq":`, "utf8")
  }

  /** The PubAck of `seq` (a non-negative safe integer), in a buffer of its own. */
  encode(seq: number): Uint8Array {
    const prefix = this.prefix
    const digits = digitCount(seq)
    const ack = Buffer.allocUnsafe(prefix.length + digits + 1)
    prefix.copy(ack, 0)
    let position = prefix.length + digits
    ack[position] = 125 // }
    let rest = seq
    do {
      const quotient = Math.floor(rest / 10)
      ack[--position] = 48 + (rest - quotient * 10)
      rest = quotient
    } while (rest > 0)
    return ack
  }

  /** The ack of a duplicate publish: `{"stream":"<name>","seq":<seq>,"duplicate":true}`. */
  encodeDuplicate(seq: number): Uint8Array {
    return Buffer.concat([this.prefix, Buffer.from(`${seq},"duplicate":true}`, "latin1")])
  }
}

const digitCount = (value: number): number => {
  let digits = 1
  for (let bound = 10; value >= bound && digits < 16; bound *= 10) digits++
  return digits
}

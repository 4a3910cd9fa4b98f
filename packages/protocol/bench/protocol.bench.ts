// Hot-path micro benchmarks for @nex/protocol: `npx node packages/protocol/bench/protocol.bench.ts`.
// Each case runs for about a second after a warm-up and prints operations per second next to its target.
import { OutboundBuffer, Parser, type ParserHandler, Sublist } from "../src/index.ts"

interface Case {
  readonly name: string
  /** Operations per second aimed for; undefined when there is no goal, only a figure to watch. */
  readonly target: number | undefined
  /** Runs one batch and returns how many operations it did. */
  readonly batch: () => number
}

const measure = ({ name, target, batch }: Case): void => {
  const warmUntil = performance.now() + 300
  while (performance.now() < warmUntil) batch()
  let operations = 0
  const started = performance.now()
  let elapsed = 0
  while (elapsed < 1000) {
    operations += batch()
    elapsed = performance.now() - started
  }
  const perSecond = (operations / elapsed) * 1000
  const goal = target === undefined ? "" : `   target ${target / 1e6} M/s: ${perSecond >= target ? "ok" : "BELOW"}`
  console.log(`${name.padEnd(48)} ${(perSecond / 1e6).toFixed(2).padStart(7)} M/s${goal}`)
}

const chunked = (stream: Buffer, chunkSize: number): Buffer[] => {
  const chunks: Buffer[] = []
  for (let offset = 0; offset < stream.length; offset += chunkSize) {
    chunks.push(Buffer.from(stream.subarray(offset, offset + chunkSize)))
  }
  return chunks
}

class CountingHandler implements ParserHandler {
  messages = 0
  bytes = 0
  connect(): void {}
  pub(_subject: string, _reply: string | undefined, _buffer: Buffer, start: number, end: number): void {
    this.messages++
    this.bytes += end - start
  }
  hpub(_subject: string, _reply: string | undefined, _headerSize: number, _buffer: Buffer, start: number, end: number): void {
    this.messages++
    this.bytes += end - start
  }
  sub(): void {}
  unsub(): void {}
  ping(): void {}
  pong(): void {}
  clientError(): void {}
  protocolError(): void {
    throw new Error("benchmark input must parse")
  }
}

const parseCase = (): Case => {
  const payload = "0123456789abcdef"
  const frames = 100_000
  const chunks = chunked(Buffer.from(`PUB foo.bar 16\r\n${payload}\r\n`.repeat(frames), "latin1"), 64 * 1024)
  const handler = new CountingHandler()
  const parser = new Parser(handler, { maxControlLine: 4096, maxPayload: 1024 * 1024 })
  return {
    name: "parse PUB, 16-byte payload, 64 KiB chunks",
    target: 10e6,
    batch: () => {
      for (const chunk of chunks) parser.parse(chunk)
      return frames
    }
  }
}

const writeMsgCase = (): Case => {
  const payload = Buffer.from("0123456789abcdef")
  const outbound = new OutboundBuffer(64 * 1024)
  return {
    name: "OutboundBuffer.writeMsg, 16-byte payload",
    target: 10e6,
    batch: () => {
      // A flush every 1000 messages stands in for one flush per event-loop turn.
      for (let index = 0; index < 1000; index++) outbound.writeMsg("foo.bar", "1", undefined, payload)
      return outbound.take().length > 0 ? 1000 : 0
    }
  }
}

const writeHmsgCase = (): Case => {
  const message = Buffer.from("NATS/1.0\r\nKey: value\r\n\r\n0123456789abcdef")
  const headerSize = message.length - 16
  const outbound = new OutboundBuffer(64 * 1024)
  return {
    name: "OutboundBuffer.writeHmsg, 24 + 16 bytes, reply",
    target: undefined,
    batch: () => {
      for (let index = 0; index < 1000; index++) outbound.writeHmsg("foo.bar", "1", "_INBOX.abcdefghij.42", headerSize, message)
      return outbound.take().length > 0 ? 1000 : 0
    }
  }
}

interface BenchSubscriber {
  readonly subject: string
  readonly queue: string | undefined
}

const populatedSublist = (): Sublist<BenchSubscriber> => {
  const sublist = new Sublist<BenchSubscriber>()
  for (let index = 0; index < 1000; index++) {
    sublist.insert({ subject: `svc.${index % 50}.req.${index}`, queue: undefined })
    sublist.insert({ subject: `_INBOX.conn${index}.*`, queue: undefined })
  }
  sublist.insert({ subject: "foo.bar", queue: undefined })
  sublist.insert({ subject: "foo.*", queue: undefined })
  sublist.insert({ subject: "foo.>", queue: "workers" })
  return sublist
}

const cachedMatchCase = (): Case => {
  const sublist = populatedSublist()
  return {
    // The parser interns repeated subjects, so a hot subject arrives as the same string each time.
    name: "Sublist.match hot subject (cached)",
    target: 20e6,
    batch: () => {
      let found = 0
      for (let index = 0; index < 10_000; index++) found += sublist.match("foo.bar").plain.length
      return found > 0 ? 10_000 : 0
    }
  }
}

const uncachedMatchCase = (): Case => {
  const sublist = populatedSublist()
  const inboxes = Array.from({ length: 100_000 }, (_, index) => `_INBOX.conn${index % 1000}.${index}`)
  let next = 0
  return {
    name: "Sublist.match unique inbox subjects (uncached)",
    target: undefined,
    batch: () => {
      let found = 0
      for (let index = 0; index < 10_000; index++) {
        found += sublist.match(inboxes[next]).plain.length
        next = next + 1 === inboxes.length ? 0 : next + 1
      }
      return found > 0 ? 10_000 : 0
    }
  }
}

console.log(`@nex/protocol hot paths on Node ${process.version}`)
for (const benchmark of [parseCase(), writeMsgCase(), writeHmsgCase(), cachedMatchCase(), uncachedMatchCase()]) {
  measure(benchmark)
}

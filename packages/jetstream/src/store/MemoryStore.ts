import { MessageIndex } from "./MessageIndex.ts"
import { type MessageStore, noLimits, type StoreLimits, type StoredMessage } from "./MessageStore.ts"
import { type PayloadStore, StoreEngine } from "./StoreEngine.ts"

export interface MemoryStoreOptions {
  readonly limits?: StoreLimits
}

const resolved = Promise.resolve()

class MemoryPayloads implements PayloadStore {
  readonly kind = "memory" as const
  readonly failure = undefined
  private readonly messages = new Map<number, StoredMessage>()
  private lastWritten = 0

  /** nats-server's memory accounting: subject + headers + payload + 16. */
  messageSize(subjectLength: number, headersLength: number, dataLength: number): number {
    return subjectLength + headersLength + dataLength + 16
  }

  write(
    seq: number,
    subject: string,
    _subjectBytes: Uint8Array,
    _subjectLength: number,
    headers: Uint8Array | undefined,
    data: Uint8Array,
    timestamp: number
  ): number {
    // One copy per message, so the store never aliases a caller's (socket) buffer.
    const headersLength = headers === undefined ? 0 : headers.length
    const bytes = new Uint8Array(headersLength + data.length)
    if (headers !== undefined) bytes.set(headers)
    bytes.set(data, headersLength)
    this.messages.set(seq, {
      seq,
      subject,
      headers: headers === undefined ? undefined : bytes.subarray(0, headersLength),
      data: bytes.subarray(headersLength),
      timestamp
    })
    this.lastWritten = seq
    return 0
  }

  read(seq: number): StoredMessage | undefined {
    return this.messages.get(seq)
  }

  removed(seq: number, _location: number, erase: boolean): void {
    const message = this.messages.get(seq)
    if (message === undefined) return
    if (erase) {
      message.headers?.fill(0)
      message.data.fill(0)
    }
    this.messages.delete(seq)
  }

  removedRange(first: number, last: number): void {
    if (last - first + 1 >= this.messages.size) {
      for (const seq of this.messages.keys()) if (seq >= first && seq <= last) this.messages.delete(seq)
    } else {
      for (let seq = first; seq <= last; seq++) this.messages.delete(seq)
    }
  }

  durable(): Promise<void> {
    return resolved
  }

  durableSeq(): number {
    return this.lastWritten
  }

  /** Every append is durable before it returns: there is never anything to tell. */
  setDurabilityListener(): void {}

  flush(): Promise<void> {
    return resolved
  }

  close(): Promise<void> {
    this.messages.clear()
    return resolved
  }
}

/** A store that keeps everything in memory (stream `storage: "memory"`). */
export const openMemoryStore = (options: MemoryStoreOptions = {}): MessageStore =>
  new StoreEngine(new MessageIndex(), new MemoryPayloads(), options.limits ?? noLimits)

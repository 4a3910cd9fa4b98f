/**
 * Byte-exact string conversion: every protocol token (subject, reply, queue, sid) is a JS string
 * holding one char per byte, so UTF-8 subjects survive a decode/encode round trip unchanged.
 * Node's native latin1 codecs are used directly (they accept any Uint8Array as `this`); they are
 * not in @types/node, hence the narrow typed handles below.
 */
interface Latin1Codec {
  latin1Slice(this: Uint8Array, start: number, end: number): string
  latin1Write(this: Uint8Array, text: string, offset: number, length: number): number
}

const codec = Buffer.prototype as unknown as Latin1Codec
const nativeSlice = codec.latin1Slice
const nativeWrite = codec.latin1Write

/** Strings shorter than this are copied by a JS loop: cheaper than a call into C++. */
const shortString = 24

/** The bytes `[start, end)` of `bytes` as a latin1 string. */
export const readLatin1 = (bytes: Uint8Array, start: number, end: number): string =>
  nativeSlice.call(bytes, start, end)

/** Writes `text` as latin1 at `offset` (the caller ensured room) and returns the offset after it. */
export const writeLatin1 = (bytes: Uint8Array, offset: number, text: string): number => {
  const length = text.length
  if (length < shortString) {
    for (let index = 0; index < length; index++) bytes[offset + index] = text.charCodeAt(index)
    return offset + length
  }
  return offset + nativeWrite.call(bytes, text, offset, length)
}

/**
 * Remembers recently decoded short strings in a small direct-mapped table, so a subject that
 * repeats (the common case for publishers) is compared byte by byte instead of decoded again,
 * and keeps being the same string object, whose hash later Map lookups have already computed.
 */
export class Latin1Interner {
  private readonly table: string[]
  private readonly mask: number
  private readonly maxLength: number

  constructor(slots = 1024, maxLength = 64) {
    this.table = new Array<string>(slots).fill("")
    this.mask = slots - 1
    this.maxLength = maxLength
  }

  /** The bytes `[start, end)` as a latin1 string, reusing an earlier equal string when it is cached. */
  read(bytes: Uint8Array, start: number, end: number): string {
    const length = end - start
    if (length > this.maxLength) return nativeSlice.call(bytes, start, end)
    let hash = length
    for (let index = start; index < end; index++) hash = Math.imul(hash, 31) + bytes[index] | 0
    const slot = (hash ^ (hash >>> 15)) & this.mask
    const cached = this.table[slot]
    if (cached.length === length && equalsBytes(cached, bytes, start)) return cached
    const text = nativeSlice.call(bytes, start, end)
    this.table[slot] = text
    return text
  }
}

const equalsBytes = (text: string, bytes: Uint8Array, start: number): boolean => {
  for (let index = 0; index < text.length; index++) {
    if (text.charCodeAt(index) !== bytes[start + index]) return false
  }
  return true
}

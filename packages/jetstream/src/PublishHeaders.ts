/** The headers a stream acts on when a message is published into it, as their latin1 text. */
export interface PublishHeaders {
  expectedStream: string | undefined
  ttl: string | undefined
  expectedLastSubjectSequence: string | undefined
  expectedLastSubjectSequenceSubject: string | undefined
  expectedLastSequence: string | undefined
  messageId: string | undefined
  expectedLastMessageId: string | undefined
  rollup: string | undefined
}

type Field = keyof PublishHeaders

const fieldsByName: ReadonlyArray<readonly [string, Field]> = [
  ["Nats-Expected-Stream", "expectedStream"],
  ["Nats-TTL", "ttl"],
  ["Nats-Expected-Last-Subject-Sequence", "expectedLastSubjectSequence"],
  ["Nats-Expected-Last-Subject-Sequence-Subject", "expectedLastSubjectSequenceSubject"],
  ["Nats-Expected-Last-Sequence", "expectedLastSequence"],
  ["Nats-Msg-Id", "messageId"],
  ["Nats-Expected-Last-Msg-Id", "expectedLastMessageId"],
  ["Nats-Rollup", "rollup"]
]

/** Candidates by name length, so a line is compared with at most a couple of names. */
const fieldsByLength = new Map<number, Array<readonly [string, Field]>>()
for (const entry of fieldsByName) {
  const sameLength = fieldsByLength.get(entry[0].length)
  if (sameLength === undefined) fieldsByLength.set(entry[0].length, [entry])
  else sameLength.push(entry)
}

const lineFeed = 10
const carriageReturn = 13
const colon = 58
const upperN = 78

const isBlank = (code: number): boolean => code === 32 || code === 9

const nameAt = (block: Uint8Array, start: number, name: string): boolean => {
  for (let index = 0; index < name.length; index++) if (block[start + index] !== name.charCodeAt(index)) return false
  return true
}

const latin1 = (block: Uint8Array, start: number, end: number): string => {
  if (end - start > 64) return Buffer.from(block.buffer, block.byteOffset + start, end - start).toString("latin1")
  let text = ""
  for (let index = start; index < end; index++) text += String.fromCharCode(block[index])
  return text
}

/**
 * Finds every publish header in one pass over a header block (`NATS/1.0` line, then `Name: value`
 * lines, then a blank line). Names match exactly, the first occurrence wins and values are trimmed
 * of spaces and tabs, as `findHeader` does for one name.
 */
export const scanPublishHeaders = (block: Uint8Array): PublishHeaders => {
  const found: PublishHeaders = {
    expectedStream: undefined,
    ttl: undefined,
    expectedLastSubjectSequence: undefined,
    expectedLastSubjectSequenceSubject: undefined,
    expectedLastSequence: undefined,
    messageId: undefined,
    expectedLastMessageId: undefined,
    rollup: undefined
  }
  const length = block.length
  let lineStart = block.indexOf(lineFeed) + 1
  if (lineStart === 0) return found
  while (lineStart < length) {
    const first = block[lineStart]
    if (first === carriageReturn || first === lineFeed) break
    let lineEnd = block.indexOf(lineFeed, lineStart)
    if (lineEnd === -1) lineEnd = length
    if (first === upperN) {
      const nameEnd = block.indexOf(colon, lineStart)
      const candidates = nameEnd === -1 || nameEnd > lineEnd ? undefined : fieldsByLength.get(nameEnd - lineStart)
      if (candidates !== undefined) {
        for (const [name, field] of candidates) {
          if (found[field] !== undefined || !nameAt(block, lineStart, name)) continue
          let start = nameEnd + 1
          let end = lineEnd
          if (end > start && block[end - 1] === carriageReturn) end--
          while (start < end && isBlank(block[start])) start++
          while (end > start && isBlank(block[end - 1])) end--
          found[field] = latin1(block, start, end)
          break
        }
      }
    }
    lineStart = lineEnd + 1
  }
  return found
}

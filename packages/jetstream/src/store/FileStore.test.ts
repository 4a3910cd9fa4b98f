import { join } from "node:path"
import { setTimeout as sleep } from "node:timers/promises"
import { afterAll, describe, expect, it } from "vitest"
import { eventually, tempDir } from "../../../../test/support/index.ts"
import { type Disk, type DiskFile, nodeDisk, readWholeFile } from "./Disk.ts"
import { type DurabilityWaiter, durabilityWaiter } from "./durabilityWaiter.ts"
import { type FileMessageStore, type FileStoreOptions, openFileStore } from "./FileStore.ts"
import { noLimits } from "./MessageStore.ts"
import { PowerCutDisk } from "./PowerCutDisk.ts"
import { checkpointFileName } from "./Recovery.ts"
import { segmentFileName, type SyncPolicy } from "./SegmentLog.ts"
import { storeSuite } from "./store.suite.ts"
import { writeFileAtomic } from "./writeFileAtomic.ts"

const directories: Array<{ remove: () => void }> = []
afterAll(() => {
  for (const directory of directories) directory.remove()
})

const freshDirectory = (): string => {
  const directory = tempDir("nex-store-")
  directories.push(directory)
  return directory.path
}

for (const sync of ["always", "interval", "never"] as const satisfies ReadonlyArray<SyncPolicy>) {
  storeSuite(`file store (sync ${sync})`, (limits) => openFileStore(freshDirectory(), { limits, sync, segmentBytes: 64 * 1024 }))
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const bytes = (text: string): Uint8Array => encoder.encode(text)
const text = (data: Uint8Array | undefined): string | undefined => (data === undefined ? undefined : decoder.decode(data))

const appendMany = (store: FileMessageStore, count: number, subject = (index: number) => `t.${index % 4}`): void => {
  for (let index = 0; index < count; index++) {
    const seq = store.state().lastSeq + 1
    const result = store.append(subject(index), undefined, bytes(`message-${seq}`))
    if (!result.ok) throw new Error(result.description)
  }
}

/** Everything the store serves, for comparing before and after a restart. */
const contents = (store: FileMessageStore): Array<[number, string, string | undefined]> => {
  const seen: Array<[number, string, string | undefined]> = []
  for (let message = store.nextMatching(0); message !== undefined; message = store.nextMatching(message.seq + 1)) {
    seen.push([message.seq, message.subject, text(message.data)])
  }
  return seen
}

/** Offsets of the records in a segment file, found by walking their length fields. */
const recordOffsets = (file: Uint8Array): number[] => {
  const view = Buffer.from(file.buffer, file.byteOffset, file.byteLength)
  const offsets: number[] = []
  for (let offset = 16; offset + 8 <= view.length && view.readUInt32LE(offset) !== 0; offset += view.readUInt32LE(offset)) offsets.push(offset)
  return offsets
}

/** Where the last record of a segment file ends. */
const recordsEnd = (file: Uint8Array): number => {
  const last = recordOffsets(file).pop()!
  return last + Buffer.from(file.buffer, file.byteOffset, file.byteLength).readUInt32LE(last)
}

/** `disk` with every file sync, on the thread pool or blocking, passed through `hook`. */
const withSyncHook = (disk: Disk, hook: <T>(sync: () => T, blocking: boolean) => T): Disk => ({
  exists: (path) => disk.exists(path),
  list: (path) => disk.list(path),
  mkdir: (path) => disk.mkdir(path),
  remove: (path) => disk.remove(path),
  rename: (from, to) => disk.rename(from, to),
  syncDirectory: (path) => disk.syncDirectory(path),
  open: (path, options) => {
    const file = disk.open(path, options)
    return {
      size: () => file.size(),
      read: (position, into, offset, length) => file.read(position, into, offset, length),
      write: (data, position) => file.write(data, position),
      truncate: (length) => file.truncate(length),
      sync: () => hook(() => file.sync(), false),
      syncBlocking: () => hook(() => file.syncBlocking(), true),
      close: () => file.close()
    }
  }
})

/** A store on a PowerCutDisk whose syncs on the calling thread take `milliseconds`. */
const openWithBlockingSyncsOf = async (milliseconds: number): Promise<{ store: FileMessageStore; durability: DurabilityWaiter }> => {
  const disk = withSyncHook(new PowerCutDisk(), (sync, blocking) => {
    if (blocking) busyWait(milliseconds)
    return sync()
  })
  const store = await openOn(disk)
  return { store, durability: durabilityWaiter(store) }
}

const busyWait = (milliseconds: number): void => {
  const until = performance.now() + milliseconds
  while (performance.now() < until) {
    // A slow device: the calling thread waits.
  }
}

const directory = "/store"
const segmentPath = (id: number): string => join(directory, segmentFileName(id))

const openOn = (disk: Disk, options: FileStoreOptions = {}): Promise<FileMessageStore> =>
  openFileStore(directory, { disk, ...options })

/** Writes into a file of a PowerCutDisk as if by another process (after a crash). */
const editFile = (disk: PowerCutDisk, path: string, edit: (file: DiskFile, content: Uint8Array) => void): void => {
  const content = readWholeFile(disk, path)!
  const file = disk.open(path)
  edit(file, content)
  file.close()
}

describe("file store: restart", () => {
  it("keeps every message, deletion and subject across a clean restart; sequences continue", async () => {
    const path = freshDirectory()
    const store = await openFileStore(path)
    appendMany(store, 50)
    store.delete(7)
    store.delete(20, { erase: true })
    await store.flush()
    const before = contents(store)
    const state = store.state()
    const subjects = store.subjectsState()
    await store.close()

    const reopened = await openFileStore(path)
    expect(reopened.recovery.checkpointLoaded).toBe(true)
    expect(reopened.recovery.replayedRecords).toBe(0)
    expect(reopened.state()).toEqual(state)
    expect(reopened.subjectsState()).toEqual(subjects)
    expect(contents(reopened)).toEqual(before)
    expect(reopened.deletedSequences()).toEqual([7, 20])
    const next = reopened.append("t.0", undefined, bytes("after"))
    expect(next.ok && next.seq).toBe(51)
    await reopened.close()
  })

  it("remembers which messages have headers, from its checkpoint and from the log", async () => {
    const disk = new PowerCutDisk()
    const store = await openOn(disk)
    appendMany(store, 5000)
    store.append("h", bytes("NATS/1.0\r\n\r\n"), bytes("with headers"))
    await store.close()
    const reopened = await openOn(disk)
    expect(reopened.recovery.checkpointLoaded).toBe(true)
    expect(reopened.nextSeqWithHeaders(1)).toBe(5001)
    reopened.append("h", bytes("NATS/1.0\r\n\r\n"), bytes("after the checkpoint"))
    await reopened.flush()
    disk.crash()
    const replayed = await openOn(disk)
    expect(replayed.recovery.replayedRecords).toBeGreaterThan(0)
    expect(replayed.nextSeqWithHeaders(5002)).toBe(5002)
    expect(replayed.nextSeqWithHeaders(1)).toBe(5001)
    await replayed.close()
  })

  it("continues sequences after a purge of everything, with and without a checkpoint", async () => {
    for (const clean of [true, false]) {
      const disk = new PowerCutDisk()
      const store = await openOn(disk)
      appendMany(store, 5)
      expect(store.purge()).toBe(5)
      await store.flush()
      if (clean) await store.close()
      else disk.crash()
      const reopened = await openOn(disk)
      expect(reopened.state()).toMatchObject({ messages: 0, firstSeq: 6, lastSeq: 5 })
      expect(reopened.recovery.checkpointLoaded).toBe(clean)
      const next = reopened.append("t", undefined, bytes("x"))
      expect(next.ok && next.seq).toBe(6)
      reopened.compact(1000)
      await reopened.flush()
      disk.crash()
      const again = await openOn(disk)
      expect(again.state()).toMatchObject({ messages: 0, firstSeq: 1000, lastSeq: 999 })
      const last = again.append("t", undefined, bytes("y"))
      expect(last.ok && last.seq).toBe(1000)
      await again.close()
    }
  })

  it("holds limits and retention across restarts", async () => {
    const disk = new PowerCutDisk()
    const store = await openOn(disk, { limits: { ...noLimits, maxMsgs: 5 } })
    appendMany(store, 12)
    expect(store.state()).toMatchObject({ messages: 5, firstSeq: 8 })
    await store.flush()
    disk.crash()
    const reopened = await openOn(disk, { limits: { ...noLimits, maxMsgs: 5 } })
    expect(reopened.state()).toMatchObject({ messages: 5, firstSeq: 8, lastSeq: 12 })
    await reopened.close()

    const tighter = await openOn(disk, { limits: { ...noLimits, maxMsgsPerSubject: 1 } })
    expect(tighter.subjectsState()).toEqual(new Map([["t.0", 1], ["t.1", 1], ["t.2", 1], ["t.3", 1]]))
    tighter.purge()
    const old = (Date.now() - 60_000) * 1e6
    for (let index = 0; index < 3; index++) tighter.append("aged", undefined, bytes("old"), old + index)
    await tighter.close()

    const aged = await openOn(disk, { limits: { ...noLimits, maxAgeMs: 1000 } })
    expect(aged.state()).toMatchObject({ messages: 0, firstSeq: 16, lastSeq: 15 })
    await aged.close()
  })
})

describe("file store: checkpoint and tail replay", () => {
  it("loads the checkpoint and replays only the records written after it", async () => {
    const disk = new PowerCutDisk()
    const store = await openOn(disk, { segmentBytes: 4096 })
    appendMany(store, 100)
    await store.checkpoint()
    appendMany(store, 7)
    store.delete(3)
    await store.flush()
    const before = contents(store)
    disk.crash()

    const reopened = await openOn(disk, { segmentBytes: 4096 })
    expect(reopened.recovery.checkpointLoaded).toBe(true)
    // Seven messages and one removal record.
    expect(reopened.recovery.replayedRecords).toBe(8)
    expect(contents(reopened)).toEqual(before)
    expect(reopened.state()).toMatchObject({ messages: 106, lastSeq: 107, numDeleted: 1 })
    await reopened.close()
  })

  it("replays the whole log when there is no checkpoint, or a corrupt one", async () => {
    const disk = new PowerCutDisk()
    const store = await openOn(disk, { segmentBytes: 4096 })
    appendMany(store, 60)
    await store.flush()
    const before = contents(store)
    disk.crash()
    const replayed = await openOn(disk, { segmentBytes: 4096 })
    expect(replayed.recovery.checkpointLoaded).toBe(false)
    expect(replayed.recovery.replayedRecords).toBe(60)
    expect(contents(replayed)).toEqual(before)
    await replayed.close()

    editFile(disk, join(directory, checkpointFileName), (file, content) => {
      file.write(new Uint8Array([content[70] ^ 0xff]), 70)
    })
    const recovered = await openOn(disk, { segmentBytes: 4096 })
    expect(recovered.recovery.checkpointLoaded).toBe(false)
    expect(recovered.recovery.notes.join()).toContain("checksum")
    expect(contents(recovered)).toEqual(before)
    await recovered.close()
  })

  it("checkpoints by itself once enough log is written", async () => {
    const disk = new PowerCutDisk()
    const store = await openOn(disk, { checkpointBytes: 2048 })
    appendMany(store, 200)
    await store.flush()
    await eventually(() => expect(store.stats.checkpoints).toBeGreaterThan(0))
    await store.close()
  })

  it("loses no deletion wherever the power is cut during a checkpoint that removes segments", async () => {
    let removedSegments = false
    for (let turnsBeforeCut = 0; turnsBeforeCut < 12; turnsBeforeCut++) {
      const disk = new PowerCutDisk()
      const store = await openOn(disk, { segmentBytes: 256 })
      appendMany(store, 20)
      await store.flush()
      // The deletion of 3 is logged in the last segment, whose own messages (16-20) go too: that
      // segment becomes removable while message 3's segment stays.
      store.delete(3)
      for (let seq = 11; seq <= 20; seq++) store.delete(seq)
      await store.flush()
      appendMany(store, 10)
      await store.flush()
      const segments = disk.list(directory).filter((name) => name.endsWith(".seg")).length
      const checkpoint = store.checkpoint().catch(() => {})
      for (let turn = 0; turn < turnsBeforeCut; turn++) await new Promise((resolve) => setImmediate(resolve))
      disk.cut()
      await checkpoint
      if (disk.list(directory).filter((name) => name.endsWith(".seg")).length < segments) removedSegments = true
      const reopened = await openOn(disk, { segmentBytes: 256 })
      expect(reopened.get(3)).toBeUndefined()
      expect(reopened.get(16)).toBeUndefined()
      expect(text(reopened.get(4)?.data)).toBe("message-4")
      expect(reopened.state()).toMatchObject({ messages: 19, lastSeq: 30 })
      await reopened.close()
    }
    expect(removedSegments).toBe(true)
  })

  it("deletes segments that no message needs once a checkpoint covers them", async () => {
    const disk = new PowerCutDisk()
    const store = await openOn(disk, { segmentBytes: 512 })
    appendMany(store, 60)
    const segmentsBefore = disk.list(directory).filter((name) => name.endsWith(".seg")).length
    expect(segmentsBefore).toBeGreaterThan(5)
    store.purge({ upToSeq: 55 })
    await store.checkpoint()
    const segmentsAfter = disk.list(directory).filter((name) => name.endsWith(".seg")).length
    expect(segmentsAfter).toBeLessThan(3)
    const before = contents(store)
    await store.close()
    const reopened = await openOn(disk, { segmentBytes: 512 })
    expect(contents(reopened)).toEqual(before)
    expect(reopened.state()).toMatchObject({ messages: 6, firstSeq: 55, lastSeq: 60 })
    await reopened.close()
  })
})

describe("file store: torn and corrupt records", () => {
  const tenMessages = async (): Promise<{ disk: PowerCutDisk; offsets: number[] }> => {
    const disk = new PowerCutDisk()
    // No zeros laid ahead of the log (sync "always" does that): the file ends with the last record.
    const store = await openOn(disk, { sync: "never" })
    appendMany(store, 10, () => "t")
    await store.flush()
    disk.crash()
    return { disk, offsets: recordOffsets(readWholeFile(disk, segmentPath(1))!) }
  }

  it("truncates a torn last record and hands its sequence out again", async () => {
    const { disk } = await tenMessages()
    editFile(disk, segmentPath(1), (file, content) => file.truncate(content.length - 3))
    const store = await openOn(disk)
    expect(store.recovery.truncatedBytes).toBeGreaterThan(0)
    expect(store.state()).toMatchObject({ messages: 9, lastSeq: 9 })
    expect(store.get(10)).toBeUndefined()
    const next = store.append("t", undefined, bytes("again"))
    expect(next.ok && next.seq).toBe(10)
    await store.close()
    const reopened = await openOn(disk)
    expect(text(reopened.get(10)?.data)).toBe("again")
    await reopened.close()
  })

  it("truncates a last record that fails its checksum", async () => {
    const { disk, offsets } = await tenMessages()
    editFile(disk, segmentPath(1), (file, content) => {
      const at = content.length - 2
      file.write(new Uint8Array([content[at] ^ 0x01]), at)
    })
    const length = readWholeFile(disk, segmentPath(1))!.length
    const store = await openOn(disk)
    expect(store.state()).toMatchObject({ messages: 9, lastSeq: 9 })
    expect(store.get(10)).toBeUndefined()
    expect(store.recovery.truncatedBytes).toBe(length - offsets[9])
    expect(readWholeFile(disk, segmentPath(1))!.length).toBe(offsets[9])
    await store.close()
  })

  it("cuts garbage after the last record", async () => {
    const { disk } = await tenMessages()
    editFile(disk, segmentPath(1), (file, content) => file.write(new Uint8Array(100).fill(7), content.length))
    const store = await openOn(disk)
    expect(store.recovery.truncatedBytes).toBe(100)
    expect(store.state()).toMatchObject({ messages: 10, lastSeq: 10 })
    await store.close()
  })

  it("skips a damaged record in the middle of the tail and serves the rest", async () => {
    const { disk, offsets } = await tenMessages()
    editFile(disk, segmentPath(1), (file, content) => {
      const at = offsets[4] + 40
      file.write(new Uint8Array([content[at] ^ 0x20]), at)
    })
    const store = await openOn(disk)
    expect(store.recovery.skippedRecords).toBe(1)
    expect(store.get(5)).toBeUndefined()
    expect(store.state()).toMatchObject({ messages: 9, lastSeq: 10, numDeleted: 1 })
    expect(text(store.get(6)?.data)).toBe("message-6")
    await store.close()
  })

  it("writes small batches into zeros laid ahead of the log under sync always; a restart appends into them", async () => {
    const disk = new PowerCutDisk()
    const store = await openOn(disk)
    appendMany(store, 10, () => "t")
    await store.flush()
    disk.crash()
    const content = readWholeFile(disk, segmentPath(1))!
    const logEnd = recordsEnd(content)
    expect(content.length).toBeGreaterThan(logEnd)
    const reopened = await openOn(disk)
    expect(reopened.recovery).toMatchObject({ truncatedBytes: 0, skippedRecords: 0, notes: [] })
    expect(reopened.state()).toMatchObject({ messages: 10, lastSeq: 10 })
    appendMany(reopened, 1, () => "t")
    await reopened.flush()
    const appended = readWholeFile(disk, segmentPath(1))!
    expect(recordOffsets(appended)).toHaveLength(11)
    expect(appended.length).toBe(content.length)
    await reopened.close()
    const closed = readWholeFile(disk, segmentPath(1))!
    expect(closed.length).toBe(recordsEnd(closed))
  })

  it("cuts a torn record written into those zeros", async () => {
    const disk = new PowerCutDisk()
    const store = await openOn(disk)
    appendMany(store, 10, () => "t")
    await store.flush()
    disk.crash()
    const offsets = recordOffsets(readWholeFile(disk, segmentPath(1))!)
    editFile(disk, segmentPath(1), (file, content) => file.write(new Uint8Array([content[offsets[9] + 40] ^ 0x01]), offsets[9] + 40))
    const reopened = await openOn(disk)
    expect(reopened.recovery.truncatedBytes).toBeGreaterThan(0)
    expect(reopened.state()).toMatchObject({ messages: 9, lastSeq: 9 })
    expect(readWholeFile(disk, segmentPath(1))!.length).toBe(offsets[9])
    await reopened.close()
  })

  it("never serves a record that went bad after its checkpoint", async () => {
    const disk = new PowerCutDisk()
    const store = await openOn(disk)
    appendMany(store, 10, () => "t")
    await store.close()
    const offsets = recordOffsets(readWholeFile(disk, segmentPath(1))!)
    editFile(disk, segmentPath(1), (file, content) => {
      const at = offsets[2] + 36
      file.write(new Uint8Array([content[at] ^ 0x04]), at)
    })
    const reopened = await openOn(disk)
    expect(reopened.get(3)).toBeUndefined()
    expect(reopened.stats.corruptReads).toBe(1)
    expect(reopened.nextMatching(3)?.seq).toBe(4)
    await reopened.close()
  })
})

describe("file store: reads", () => {
  /** A payload whose bytes depend on its sequence, so a read of the wrong bytes shows. */
  const payloadOf = (seq: number, size: number): Buffer => {
    const payload = Buffer.allocUnsafe(size)
    for (let index = 0; index < size; index++) payload[index] = (seq * 31 + index) & 255
    return payload
  }

  it("reads back small and large records in order and out of order, lent or copied", async () => {
    const store = await openFileStore(freshDirectory(), { sync: "never" })
    const random = (() => {
      let state = 7
      return () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648
    })()
    // Sizes around the 256 KiB read window: many small records, and large ones read one by one.
    const sizes = Array.from({ length: 80 }, () => (random() < 0.5 ? Math.floor(random() * 2000) : 100_000 + Math.floor(random() * 300_000)))
    for (const [index, size] of sizes.entries()) {
      const result = store.append(`r.${index % 3}`, index % 5 === 0 ? bytes("NATS/1.0\r\nY: 2\r\n\r\n") : undefined, payloadOf(index + 1, size))
      if (!result.ok) throw new Error(result.description)
    }
    await store.flush()
    const check = (seq: number, mode: "copy" | "lend") => {
      const message = store.get(seq, mode)
      expect(message?.seq).toBe(seq)
      expect(Buffer.compare(message!.data, payloadOf(seq, sizes[seq - 1]))).toBe(0)
      expect(text(message!.headers)).toBe((seq - 1) % 5 === 0 ? "NATS/1.0\r\nY: 2\r\n\r\n" : undefined)
    }
    for (let seq = 1; seq <= sizes.length; seq++) check(seq, "lend")
    for (let seq = sizes.length; seq >= 1; seq--) check(seq, "copy")
    for (let round = 0; round < 200; round++) check(1 + Math.floor(random() * sizes.length), round % 2 === 0 ? "lend" : "copy")
    let seen = 0
    for (let message = store.nextMatching(1, "r.1", "lend"); message !== undefined; message = store.nextMatching(message.seq + 1, "r.1", "lend")) {
      expect(Buffer.compare(message.data, payloadOf(message.seq, sizes[message.seq - 1]))).toBe(0)
      seen++
    }
    expect(seen).toBe(sizes.filter((_, index) => index % 3 === 1).length)
    expect(store.stats.corruptReads).toBe(0)
    await store.close()
  })
})

describe("file store: durability policies", () => {
  it("shares one fdatasync among many concurrent appends (group commit)", async () => {
    let syncs = 0
    const counting = withSyncHook(nodeDisk, (sync) => {
      syncs++
      return sync()
    })
    const store = await openFileStore(freshDirectory(), { disk: counting })
    const durability = durabilityWaiter(store)
    syncs = 0
    const producers = Array.from({ length: 50 }, async (_, producer) => {
      for (let index = 0; index < 20; index++) {
        const result = store.append(`p.${producer}`, undefined, bytes(`m${index}`))
        if (!result.ok) throw new Error(result.description)
        await durability.until(result.seq)
      }
    })
    await Promise.all(producers)
    expect(store.state().messages).toBe(1000)
    expect(syncs).toBeGreaterThan(0)
    expect(syncs).toBeLessThan(100)

    syncs = 0
    appendMany(store, 1000, () => "burst")
    await durability.until(store.state().lastSeq)
    // Mid-burst syncs let the first acks out early; their gaps double from 16 appends: 16, 48, 112, ...
    expect(syncs).toBeLessThanOrEqual(Math.ceil(Math.log2(1000 / 16)) + 2)
    await store.close()
  })

  it("under sync always, tells of the first appends of a burst before it ends, and they survive a power cut", async () => {
    const disk = new PowerCutDisk()
    const store = await openOn(disk)
    const durability = durabilityWaiter(store)
    const told = durability.told
    // The first sync puts the zeros ahead of the log on the device; syncs into them may run at once.
    const first = store.append("t", undefined, bytes("first"))
    if (first.ok) await durability.until(first.seq)
    told.length = 0
    for (let index = 0; index < 64; index++) store.append("t", undefined, bytes(`burst-${index}`))
    // Still inside the burst's code: 16 appends in (and 32 more, unless that came too soon after).
    expect(told[0]).toBe(17)
    const durable = told.at(-1)!
    expect(durable).toBeLessThan(65)
    disk.cut()
    const reopened = await openOn(disk)
    for (let seq = 2; seq <= durable; seq++) expect(text(reopened.get(seq)?.data)).toBe(`burst-${seq - 2}`)
    await reopened.close()
  })

  it("syncs bursts on the thread pool again once the disk proves slow", async () => {
    const { store, durability } = await openWithBlockingSyncsOf(1)
    const told = durability.told
    const inlineBursts: boolean[] = []
    for (let burst = 0; burst < 30; burst++) {
      told.length = 0
      appendMany(store, 16)
      inlineBursts.push(told.length > 0)
      await durability.until(store.state().lastSeq)
      // Beyond the spacing that follows each sync on the calling thread.
      await sleep(5)
    }
    expect(inlineBursts.filter(Boolean).length).toBeGreaterThan(0)
    // Paused for a second: the last bursts all went to the thread pool.
    expect(inlineBursts.slice(-10)).toEqual(Array.from({ length: 10 }, () => false))
    await store.close()
  })

  it("leaves a burst that follows a sync on the calling thread too closely to the thread pool", async () => {
    const { store, durability } = await openWithBlockingSyncsOf(0.2)
    const told = durability.told
    appendMany(store, 1)
    await durability.until(1)
    told.length = 0
    appendMany(store, 16)
    expect(told).toEqual([17])
    // The next read's burst, a microtask later: another connection's, say.
    await null
    appendMany(store, 16)
    expect(told).toEqual([17])
    await eventually(() => expect(told.at(-1)).toBe(33))
    await store.close()
  })

  it("acknowledges under sync always only what survives a power cut", async () => {
    const disk = new PowerCutDisk()
    const store = await openOn(disk)
    const durability = durabilityWaiter(store)
    const first = store.append("t", undefined, bytes("acked"))
    if (!first.ok) throw new Error(first.description)
    await durability.until(first.seq)
    const second = store.append("t", undefined, bytes("not yet"))
    expect(second.ok).toBe(true)
    disk.cut()
    if (second.ok) await expect(durability.until(second.seq)).rejects.toThrow()
    const reopened = await openOn(disk)
    expect(text(reopened.get(1)?.data)).toBe("acked")
    expect(reopened.get(2)).toBeUndefined()
    await reopened.close()
  })

  it("acknowledges after the write under sync interval and syncs on its timer", async () => {
    const disk = new PowerCutDisk()
    const store = await openOn(disk, { sync: "interval", syncIntervalMs: 20 })
    const syncsAtOpen = disk.fileSyncs
    const result = store.append("t", undefined, bytes("x"))
    if (!result.ok) throw new Error(result.description)
    await durabilityWaiter(store).until(result.seq)
    expect(disk.fileSyncs).toBe(syncsAtOpen)
    await eventually(() => expect(disk.fileSyncs).toBeGreaterThan(syncsAtOpen))
    await store.close()
  })

  it("loses acknowledged messages on a power cut under sync never, as nats-server's default can", async () => {
    const disk = new PowerCutDisk()
    const store = await openOn(disk, { sync: "never" })
    await store.flush()
    const result = store.append("t", undefined, bytes("acked but not synced"))
    if (!result.ok) throw new Error(result.description)
    await durabilityWaiter(store).until(result.seq)
    disk.cut()
    const reopened = await openOn(disk)
    expect(reopened.state().messages).toBe(0)
    await reopened.close()
  })

  it("tells its listener under sync interval once appends are written, every 16 within a burst", async () => {
    const disk = new PowerCutDisk()
    const store = await openOn(disk, { sync: "interval" })
    const told: Array<[number, number]> = []
    store.setDurabilityListener({
      durableThrough: (seq) => told.push([seq, recordOffsets(readWholeFile(disk, segmentPath(1))!).length]),
      failed: (error) => {
        throw error
      }
    })
    appendMany(store, 1)
    expect(store.durableSeq()).toBe(0)
    appendMany(store, 39)
    expect(told).toEqual([[16, 16], [32, 32]])
    expect(store.durableSeq()).toBe(32)
    await eventually(() => expect(told).toEqual([[16, 16], [32, 32], [40, 40]]))
    await store.close()
  })

  it("tells its listener under sync always only of appends an fdatasync covers", async () => {
    const disk = new PowerCutDisk()
    const store = await openOn(disk)
    const told: number[] = []
    let failure: Error | undefined
    store.setDurabilityListener({
      durableThrough: (seq) => {
        told.push(seq)
        // Everything it was told of must survive the power going out right now.
        if (told.length === 2) disk.cut()
      },
      failed: (error) => {
        failure = error
      }
    })
    appendMany(store, 5)
    await Promise.resolve()
    expect(told).toEqual([])
    expect(store.durableSeq()).toBe(0)
    await eventually(() => expect(told).toEqual([5]))
    // Appended while nothing syncs, then while the next sync runs: two more syncs.
    appendMany(store, 3)
    await Promise.resolve()
    appendMany(store, 3)
    await eventually(() => expect(failure).toBeDefined())
    expect(told.length).toBe(2)
    expect(told[1]).toBeGreaterThanOrEqual(8)
    const reopened = await openOn(disk)
    expect(reopened.state().lastSeq).toBeGreaterThanOrEqual(told[1])
    await reopened.close()
  })

  it("starts the next fdatasync, with what was appended meanwhile, before telling of the last one", async () => {
    const disk = new PowerCutDisk()
    const store = await openOn(disk)
    await store.flush()
    const syncsBefore = disk.fileSyncs
    const told: Array<[number, number]> = []
    store.setDurabilityListener({
      durableThrough: (seq) => told.push([seq, disk.fileSyncs - syncsBefore]),
      failed: (error) => {
        throw error
      }
    })
    appendMany(store, 5)
    await Promise.resolve()
    expect(disk.fileSyncs - syncsBefore).toBe(1)
    appendMany(store, 3)
    await eventually(() => expect(told).toEqual([[5, 2], [8, 2]]))
    await store.close()
  })

  it("overwrites an erased message's bytes on disk", async () => {
    const disk = new PowerCutDisk()
    const store = await openOn(disk)
    store.append("t", undefined, bytes("top-secret-payload"))
    store.append("t", undefined, bytes("public"))
    await store.flush()
    const onDisk = (): string => Buffer.from(readWholeFile(disk, segmentPath(1))!).toString("latin1")
    expect(onDisk()).toContain("top-secret-payload")
    store.delete(1, { erase: true })
    await store.flush()
    await eventually(() => expect(onDisk()).not.toContain("top-secret-payload"))
    await store.flush()
    disk.crash()
    const reopened = await openOn(disk)
    expect(reopened.get(1)).toBeUndefined()
    expect(text(reopened.get(2)?.data)).toBe("public")
    await reopened.close()
  })
})

describe("writeFileAtomic", () => {
  it("leaves the old or the new content whole after a power cut", async () => {
    const disk = new PowerCutDisk()
    disk.mkdir("/meta")
    const path = "/meta/stream.json"
    await writeFileAtomic(disk, path, bytes("version 1"))
    disk.cut()
    expect(text(readWholeFile(disk, path))).toBe("version 1")
    const pending = writeFileAtomic(disk, path, bytes("version 2")).catch(() => "cut")
    disk.cut()
    expect(await pending).toBe("cut")
    expect(text(readWholeFile(disk, path))).toBe("version 1")
    await writeFileAtomic(disk, path, bytes("version 3"))
    disk.cut()
    expect(text(readWholeFile(disk, path))).toBe("version 3")
  })
})

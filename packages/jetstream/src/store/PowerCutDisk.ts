import { basename, dirname } from "node:path"
import type { Disk, DiskFile } from "./Disk.ts"

/** The content of one file, as the process sees it and as the device holds it. */
class Inode {
  data = new Uint8Array(256)
  length = 0
  synced = new Uint8Array(0)
  /** Which sync call `synced` comes from: a sync that started earlier but ends later must not undo it. */
  syncedCall = 0

  ensure(capacity: number): void {
    if (capacity <= this.data.length) return
    let size = this.data.length
    while (size < capacity) size *= 2
    const grown = new Uint8Array(size)
    grown.set(this.data.subarray(0, this.length))
    this.data = grown
  }
}

export interface CutOptions {
  /**
   * When given, each file also keeps a random prefix of the bytes written since its last sync
   * (from the first byte that differs from the synced content, so overwrites count as well as
   * appends), and sometimes garbage in the last few of those bytes that changed: a torn write.
   * Without it every unsynced byte is dropped.
   */
  readonly random?: () => number
}

/** Thrown by every handle opened before a cut or crash: the process that held it is gone. */
export class DiskGone extends Error {
  constructor() {
    super("disk handle used after a simulated power cut or crash")
  }
}

/**
 * An in-memory disk for crash tests. Each file keeps the bytes the process wrote and, separately,
 * the bytes the device holds (those covered by the last completed sync); a directory keeps its
 * names as of its last `syncDirectory`. `cut()` is a power loss: files go back to their synced
 * bytes and directories to their synced names. `crash()` is a killed process: nothing is lost,
 * but every open handle dies. Syncs complete asynchronously, one or more event-loop turns later;
 * blocking syncs complete at once.
 */
export class PowerCutDisk implements Disk {
  fileSyncs = 0
  directorySyncs = 0
  private names = new Map<string, Inode>()
  private durableNames = new Map<string, Inode>()
  private readonly directories = new Set<string>()
  /** Per directory, which syncDirectory call its durable names come from. */
  private readonly directorySyncedCall = new Map<string, number>()
  /** Numbers sync calls in the order they are made. */
  private syncCalls = 0
  private generation = 0
  private readonly random: (() => number) | undefined

  /** With `random`, each sync takes 1–4 event-loop turns, so syncs can finish out of order. */
  constructor(options: { readonly random?: () => number } = {}) {
    this.random = options.random
  }

  open(path: string, options: { readonly create?: boolean; readonly truncate?: boolean } = {}): DiskFile {
    let inode = this.names.get(path)
    if (inode === undefined) {
      if (!options.create) throw new Error(`ENOENT: no such file '${path}'`)
      if (!this.directories.has(dirname(path))) throw new Error(`ENOENT: no such directory '${dirname(path)}'`)
      inode = new Inode()
      this.names.set(path, inode)
    } else if (options.truncate) {
      inode.length = 0
    }
    return new PowerCutFile(this, inode, this.generation)
  }

  exists(path: string): boolean {
    return this.names.has(path) || this.directories.has(path)
  }

  list(directory: string): ReadonlyArray<string> {
    const names: string[] = []
    for (const path of this.names.keys()) if (dirname(path) === directory) names.push(basename(path))
    return names
  }

  mkdir(directory: string): void {
    for (let path = directory; !this.directories.has(path); path = dirname(path)) {
      this.directories.add(path)
      if (dirname(path) === path) break
    }
  }

  remove(path: string): void {
    this.names.delete(path)
  }

  rename(from: string, to: string): void {
    const inode = this.names.get(from)
    if (inode === undefined) throw new Error(`ENOENT: no such file '${from}'`)
    this.names.delete(from)
    this.names.set(to, inode)
  }

  syncDirectory(directory: string): Promise<void> {
    this.directorySyncs++
    const generation = this.generation
    const entries = [...this.names].filter(([path]) => dirname(path) === directory)
    const call = this.nextSyncCall()
    return this.later(generation, () => {
      if ((this.directorySyncedCall.get(directory) ?? 0) > call) return
      this.directorySyncedCall.set(directory, call)
      for (const path of [...this.durableNames.keys()]) if (dirname(path) === directory) this.durableNames.delete(path)
      for (const [path, inode] of entries) this.durableNames.set(path, inode)
    })
  }

  /** Simulates a power loss: every byte and every name change not yet synced is gone. */
  cut(options: CutOptions = {}): void {
    this.generation++
    this.names = new Map(this.durableNames)
    for (const inode of new Set(this.names.values())) {
      const synced = inode.synced
      let changedFrom = 0
      const common = Math.min(inode.length, synced.length)
      while (changedFrom < common && inode.data[changedFrom] === synced[changedFrom]) changedFrom++
      let keep = 0
      const random = options.random
      if (random !== undefined && inode.length > changedFrom) {
        keep = Math.floor(random() * (inode.length - changedFrom + 1))
      }
      const kept = inode.data.slice(changedFrom, changedFrom + keep)
      inode.length = 0
      inode.ensure(Math.max(synced.length, changedFrom + keep))
      inode.data.set(synced)
      inode.data.set(kept, changedFrom)
      inode.length = Math.max(synced.length, changedFrom + keep)
      if (random !== undefined && keep > 0 && random() < 0.3) {
        const garbage = Math.min(keep, 1 + Math.floor(random() * 8))
        for (let index = changedFrom + keep - garbage; index < changedFrom + keep; index++) {
          // A torn write garbles only what it was writing, never bytes the device already held.
          if (index < synced.length && kept[index - changedFrom] === synced[index]) continue
          inode.data[index] = Math.floor(random() * 256)
        }
      }
    }
  }

  /** Simulates a killed process: the page cache survives, open handles do not. */
  crash(): void {
    this.generation++
  }

  /** @internal */
  checkAlive(generation: number): void {
    if (generation !== this.generation) throw new DiskGone()
  }

  /** @internal */
  nextSyncCall(): number {
    return ++this.syncCalls
  }

  /** @internal Runs `apply` one turn later unless the power was cut in between. */
  later(generation: number, apply: () => void): Promise<void> {
    let turns = this.random === undefined ? 1 : 1 + Math.floor(this.random() * 4)
    return new Promise((resolve, reject) => {
      const tick = (): void => {
        if (generation !== this.generation) {
          reject(new DiskGone())
          return
        }
        if (--turns > 0) {
          setImmediate(tick)
          return
        }
        apply()
        resolve()
      }
      setImmediate(tick)
    })
  }
}

class PowerCutFile implements DiskFile {
  private readonly disk: PowerCutDisk
  private readonly inode: Inode
  private readonly generation: number
  private closed = false

  constructor(disk: PowerCutDisk, inode: Inode, generation: number) {
    this.disk = disk
    this.inode = inode
    this.generation = generation
  }

  size(): number {
    this.check()
    return this.inode.length
  }

  read(position: number, into: Uint8Array, offset: number, length: number): number {
    this.check()
    const count = Math.max(0, Math.min(length, this.inode.length - position))
    into.set(this.inode.data.subarray(position, position + count), offset)
    return count
  }

  write(bytes: Uint8Array, position: number): void {
    this.check()
    const inode = this.inode
    inode.ensure(position + bytes.length)
    if (position > inode.length) inode.data.fill(0, inode.length, position)
    inode.data.set(bytes, position)
    if (position + bytes.length > inode.length) inode.length = position + bytes.length
  }

  truncate(length: number): void {
    this.check()
    const inode = this.inode
    inode.ensure(length)
    if (length > inode.length) inode.data.fill(0, inode.length, length)
    inode.length = length
  }

  sync(): Promise<void> {
    this.check()
    this.disk.fileSyncs++
    const inode = this.inode
    const snapshot = inode.data.slice(0, inode.length)
    const call = this.disk.nextSyncCall()
    return this.disk.later(this.generation, () => {
      if (inode.syncedCall > call) return
      inode.syncedCall = call
      inode.synced = snapshot
    })
  }

  syncBlocking(): void {
    this.check()
    this.disk.fileSyncs++
    const inode = this.inode
    // The newest call: a sync started earlier and ending later leaves it in place.
    inode.syncedCall = this.disk.nextSyncCall()
    inode.synced = inode.data.slice(0, inode.length)
  }

  close(): void {
    this.closed = true
  }

  private check(): void {
    if (this.closed) throw new Error("file is closed")
    this.disk.checkAlive(this.generation)
  }
}

import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { setTimeout as sleep } from "node:timers/promises"
import { afterEach, describe, expect, it } from "vitest"
import { nodeDisk, nodeDiskSyncActive } from "./Disk.ts"

describe("nodeDisk", () => {
  const directories: string[] = []
  afterEach(() => {
    for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true })
  })

  it("counts as syncing while a sync runs on either thread and for 10 ms after", async () => {
    const directory = mkdtempSync(join(tmpdir(), "nex-disk-"))
    directories.push(directory)
    const file = nodeDisk.open(join(directory, "log"), { create: true })
    try {
      file.write(new Uint8Array(4096).fill(1), 0)
      await sleep(20)
      expect(nodeDiskSyncActive()).toBe(false)
      const fileSynced = file.sync()
      const directorySynced = nodeDisk.syncDirectory(directory)
      expect(nodeDiskSyncActive()).toBe(true)
      await fileSynced
      await directorySynced
      expect(nodeDiskSyncActive()).toBe(true)
      await sleep(20)
      expect(nodeDiskSyncActive()).toBe(false)
      file.syncBlocking()
      expect(nodeDiskSyncActive()).toBe(true)
      await sleep(20)
      expect(nodeDiskSyncActive()).toBe(false)
    } finally {
      file.close()
    }
  })

  it("leaves nothing counted when a directory to sync cannot be opened", async () => {
    await sleep(20)
    await expect(nodeDisk.syncDirectory(join(tmpdir(), "nex-disk-missing", "nowhere"))).rejects.toThrow()
    expect(nodeDiskSyncActive()).toBe(false)
  })
})

import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { nodeDisk, nodeDiskSyncing } from "./Disk.ts"

describe("nodeDisk", () => {
  const directories: string[] = []
  afterEach(() => {
    for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true })
  })

  it("says it is syncing exactly while a file or directory sync runs on the thread pool", async () => {
    const directory = mkdtempSync(join(tmpdir(), "nex-disk-"))
    directories.push(directory)
    const file = nodeDisk.open(join(directory, "log"), { create: true })
    try {
      file.write(new Uint8Array(4096).fill(1), 0)
      expect(nodeDiskSyncing()).toBe(false)
      const fileSynced = file.sync()
      const directorySynced = nodeDisk.syncDirectory(directory)
      expect(nodeDiskSyncing()).toBe(true)
      await fileSynced
      await directorySynced
      expect(nodeDiskSyncing()).toBe(false)
      // A blocking sync never leaves the main thread, so there is nothing to wait beside.
      file.syncBlocking()
      expect(nodeDiskSyncing()).toBe(false)
    } finally {
      file.close()
    }
  })

  it("counts a failed sync as finished", async () => {
    await expect(nodeDisk.syncDirectory(join(tmpdir(), "nex-disk-missing", "nowhere"))).rejects.toThrow()
    expect(nodeDiskSyncing()).toBe(false)
  })
})

import { describe, expect, it } from "vitest"
import { readWholeFile } from "./Disk.ts"
import { DiskGone, PowerCutDisk } from "./PowerCutDisk.ts"

const text = (bytes: Uint8Array | undefined): string | undefined => (bytes === undefined ? undefined : new TextDecoder().decode(bytes))
const bytes = (value: string): Uint8Array => new TextEncoder().encode(value)

describe("PowerCutDisk", () => {
  it("drops bytes written after the last sync, and files whose directory entry was never synced", async () => {
    const disk = new PowerCutDisk()
    disk.mkdir("/d")
    const file = disk.open("/d/log", { create: true })
    file.write(bytes("synced"), 0)
    await file.sync()
    await disk.syncDirectory("/d")
    file.write(bytes("+lost"), 6)
    const orphan = disk.open("/d/orphan", { create: true })
    orphan.write(bytes("data"), 0)
    await orphan.sync()
    disk.cut()
    expect(text(readWholeFile(disk, "/d/log"))).toBe("synced")
    expect(disk.exists("/d/orphan")).toBe(false)
    expect(() => file.size()).toThrow(DiskGone)
  })

  it("makes renames and removals durable only with a directory sync", async () => {
    const disk = new PowerCutDisk()
    disk.mkdir("/d")
    const file = disk.open("/d/a", { create: true })
    file.write(bytes("x"), 0)
    await file.sync()
    await disk.syncDirectory("/d")
    disk.rename("/d/a", "/d/b")
    disk.cut()
    expect(disk.list("/d")).toEqual(["a"])
    disk.rename("/d/a", "/d/b")
    await disk.syncDirectory("/d")
    disk.remove("/d/b")
    disk.cut()
    expect(disk.list("/d")).toEqual(["b"])
  })

  it("rejects a sync still in flight when the power goes", async () => {
    const disk = new PowerCutDisk()
    disk.mkdir("/d")
    const file = disk.open("/d/a", { create: true })
    await disk.syncDirectory("/d")
    file.write(bytes("pending"), 0)
    const sync = file.sync()
    disk.cut()
    await expect(sync).rejects.toThrow(DiskGone)
    expect(readWholeFile(disk, "/d/a")?.length).toBe(0)
  })

  it("keeps every written byte through a crash, and can keep a torn prefix through a cut", async () => {
    const disk = new PowerCutDisk()
    disk.mkdir("/d")
    const file = disk.open("/d/a", { create: true })
    await disk.syncDirectory("/d")
    file.write(bytes("written"), 0)
    disk.crash()
    expect(text(readWholeFile(disk, "/d/a"))).toBe("written")
    const reopened = disk.open("/d/a")
    await reopened.sync()
    reopened.write(bytes(" and more"), 7)
    disk.cut({ random: () => 0.5 })
    const survived = text(readWholeFile(disk, "/d/a"))!
    expect(survived.length).toBeGreaterThan(7)
    expect(survived.length).toBeLessThan(16)
    expect(survived.startsWith("written")).toBe(true)
  })

  it("can keep a torn prefix of bytes overwritten since the last sync, and garbles only those", async () => {
    const disk = new PowerCutDisk()
    disk.mkdir("/d")
    const file = disk.open("/d/a", { create: true })
    await disk.syncDirectory("/d")
    file.write(bytes("0000000000"), 0)
    await file.sync()
    file.write(bytes("abcdef"), 2)
    let draws = 0
    // Keep half of the 8 bytes from the first change, then garble (0.1 < 0.3) up to 8 of them.
    disk.cut({ random: () => [0.5, 0.1, 0.99][Math.min(draws++, 2)] })
    const survived = text(readWholeFile(disk, "/d/a"))!
    expect(survived.length).toBe(10)
    expect(survived.slice(0, 2)).toBe("00")
    expect(survived.slice(6)).toBe("0000")
    expect(survived.slice(2, 6)).not.toBe("abcd")
  })

  it("never lets a sync that ends after a later one undo it", async () => {
    const turns = [0, 0.99, 0]
    let draw = 0
    // The directory sync takes one turn, the first file sync four, the second one.
    const disk = new PowerCutDisk({ random: () => turns[draw++] })
    disk.mkdir("/d")
    const file = disk.open("/d/a", { create: true })
    await disk.syncDirectory("/d")
    file.write(bytes("old"), 0)
    const earlier = file.sync()
    file.write(bytes("new"), 0)
    await file.sync()
    await earlier
    disk.cut()
    expect(text(readWholeFile(disk, "/d/a"))).toBe("new")
  })
})

import { dirname } from "node:path"
import type { Disk } from "./Disk.ts"

/**
 * Replaces `path` with `bytes` so that after a crash or power cut the file holds either the old or
 * the new content in full: write a temp file, fdatasync it, rename it over, fsync the directory.
 */
export const writeFileAtomic = async (disk: Disk, path: string, bytes: Uint8Array): Promise<void> => {
  const temporary = `${path}.tmp`
  const file = disk.open(temporary, { create: true, truncate: true })
  try {
    file.write(bytes, 0)
    await file.sync()
  } finally {
    file.close()
  }
  disk.rename(temporary, path)
  await disk.syncDirectory(dirname(path))
}

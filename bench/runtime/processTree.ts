import { readdirSync } from "node:fs"
import { residentBytes, statFields } from "../BenchServer.ts"

/** The parent of each live process (the second field of /proc/<pid>/stat after the command name). */
const parentsOfAll = (): Map<number, number> => {
  const parents = new Map<number, number>()
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    // Undefined when the process exited while we listed /proc.
    const fields = statFields(entry)
    if (fields !== undefined) parents.set(Number(entry), Number(fields[1]))
  }
  return parents
}

/** `pid` and every process below it. */
export const processTree = (pid: number): number[] => {
  const parents = parentsOfAll()
  const tree = [pid]
  for (let index = 0; index < tree.length; index++) {
    for (const [child, parent] of parents) if (parent === tree[index]) tree.push(child)
  }
  return tree
}

/**
 * Resident bytes of `pid` and its descendants (a node and its sandbox host processes). Pages
 * shared between them count once per process, so this errs high.
 */
export const treeResidentBytes = (pid: number): number =>
  processTree(pid)
    .map(residentBytes)
    .filter((bytes) => Number.isFinite(bytes))
    .reduce((sum, bytes) => sum + bytes, 0)

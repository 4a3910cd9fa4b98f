import { join } from "node:path"
import { eventually } from "../../test/support/eventually.ts"
import { type Spawned, spawnProcess } from "../../test/support/process.ts"

/** Starts one of the plain-client reference programs in this folder and waits for its "ready". */
export const startReferenceProcess = async (program: "plainResponder" | "plainConsumer" | "plainConfigResponder", args: ReadonlyArray<string>): Promise<Spawned> => {
  const reference = spawnProcess(process.execPath, [join(import.meta.dirname, `${program}.ts`), ...args])
  try {
    await eventually(
      () => {
        if (reference.child.exitCode !== null) throw new Error(`${program} exited: ${reference.output()}`)
        if (!reference.output().includes("ready")) throw new Error(`${program} is not ready: ${reference.output()}`)
      },
      { timeout: 15_000 }
    )
  } catch (error) {
    await reference.stop("SIGKILL")
    throw error
  }
  return reference
}

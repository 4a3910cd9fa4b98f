import { createInterface } from "node:readline/promises"
import { UsageError } from "./CliError.ts"

/**
 * Asks before a destructive action, as natscli does. `--force` skips the question; without a
 * terminal there is nobody to ask, so the command refuses instead of guessing.
 */
export const confirmed = async (action: string, target: string, force: boolean): Promise<boolean> => {
  if (force) return true
  if (!process.stdin.isTTY) throw new UsageError(`will not ${action} ${target} without confirmation: pass --force (-f) when stdin is not a terminal`)
  const prompt = createInterface({ input: process.stdin, output: process.stderr })
  try {
    const answer = await prompt.question(`? Really ${action} ${target} (y/N) `)
    return /^y(es)?$/i.test(answer.trim())
  } finally {
    prompt.close()
  }
}

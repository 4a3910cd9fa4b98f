import type { KV } from "@nats-io/kv"

export interface CompareAndSetOptions {
  /** Distinct keys, each updated by its own loop, so every update carries the right revision. */
  readonly keys: number
  /** Stops after this many updates in all, or at `timeMs`, whichever comes first. */
  readonly maxUpdates: number
  readonly timeMs: number
}

export interface CompareAndSetResult {
  readonly updates: number
  /** Refusals with 10071 (wrong last sequence): spurious, since no key has two writers. */
  readonly wrongLastSequence: number
  /** Any other failure (timeouts, other API errors). */
  readonly otherErrors: number
  readonly seconds: number
}

const wrongLastSequenceCode = 10071

const errorCode = (error: unknown): number | undefined => {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === "number" ? code : undefined
}

/**
 * Compare-and-set updates (kv.update with the revision the previous update returned) on
 * `keys` keys in parallel, one writer per key. After a failure the loop reads the key's revision
 * again and carries on.
 */
export const compareAndSetLoad = async (kv: KV, options: CompareAndSetOptions): Promise<CompareAndSetResult> => {
  const value = new Uint8Array(16)
  const revisions = await Promise.all(Array.from({ length: options.keys }, (_, key) => kv.put(`cas.${key}`, value)))
  let updates = 0
  let issued = 0
  let wrongLastSequence = 0
  let otherErrors = 0
  const started = performance.now()
  const deadline = started + options.timeMs
  const writer = async (key: number): Promise<void> => {
    let revision = revisions[key]
    while (issued < options.maxUpdates && performance.now() < deadline) {
      issued++
      try {
        revision = await kv.update(`cas.${key}`, value, revision)
        updates++
      } catch (error) {
        if (errorCode(error) === wrongLastSequenceCode) wrongLastSequence++
        else otherErrors++
        revision = (await kv.get(`cas.${key}`))?.revision ?? revision
      }
    }
  }
  await Promise.all(Array.from({ length: options.keys }, (_, key) => writer(key)))
  return { updates, wrongLastSequence, otherErrors, seconds: (performance.now() - started) / 1000 }
}

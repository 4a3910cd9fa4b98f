import type { KV, KvEntry } from "@nats-io/kv"
import { Effect, Runtime, type Scope } from "effect"

/**
 * Hands every entry of a KV bucket to `onEntry`, one at a time: first each current key, then every
 * change, until the scope closes.
 */
export const watchBucket = (bucket: KV, onEntry: (entry: KvEntry) => Effect.Effect<void>, description: string): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function* () {
    const watcher = yield* Effect.promise(() => bucket.watch())
    // A plain loop, ended by stopping the watcher: an async generator cannot be returned from
    // while its next() is pending, so a Stream's finalizer would wait for the next change forever.
    const runPromise = Runtime.runPromise(yield* Effect.runtime<never>())
    yield* Effect.tryPromise(async () => {
      for await (const entry of watcher) await runPromise(onEntry(entry))
    }).pipe(
      Effect.catchAllCause((cause) => Effect.logError(`the ${description} watch ended`, cause)),
      Effect.forkScoped
    )
    yield* Effect.addFinalizer(() => Effect.sync(() => watcher.stop()))
  })

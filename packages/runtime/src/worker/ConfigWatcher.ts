import { type KV, KvWatchInclude, Kvm } from "@nats-io/kv"
import type { NatsConnection } from "@nats-io/transport-node"
import { names } from "./WorkerProtocol.ts"

export type ConfigListener = (text: string) => void

const emptyConfig = "{}"
const decoder = new TextDecoder()

/** The JSON text of a stored value; anything that is not JSON (or a delete) reads as `{}`. */
const configTextOf = (operation: string, value: Uint8Array): string => {
  if (operation !== "PUT") return emptyConfig
  const text = decoder.decode(value)
  try {
    JSON.parse(text)
    return text
  } catch {
    return emptyConfig
  }
}

/**
 * Live config for every workload of this process: one watcher over the whole `nex-config` bucket
 * (one JetStream consumer per process, not one per workload). Values are kept per key with their
 * revision, so a `get` racing the watcher never goes back in time.
 */
export class ConfigWatcher {
  /** Undefined when the bucket could not be opened (no JetStream): every config reads as `{}`. */
  readonly #bucket: KV | undefined
  readonly #values = new Map<string, { readonly revision: number; readonly text: string }>()
  readonly #listeners = new Map<string, Set<ConfigListener>>()
  #stopWatching: (() => void) | undefined

  private constructor(bucket: KV | undefined) {
    this.#bucket = bucket
  }

  /**
   * Opens (creating when missing) the config bucket and starts watching it. Without JetStream the
   * watcher still works, every config reading as `{}`; `onUnavailable` says why.
   */
  static async start(connection: NatsConnection, onUnavailable: (error: unknown) => void): Promise<ConfigWatcher> {
    let bucket: KV
    try {
      bucket = await new Kvm(connection).create(names.configBucket)
    } catch (error) {
      onUnavailable(error)
      return new ConfigWatcher(undefined)
    }
    const watcher = new ConfigWatcher(bucket)
    const updates = await bucket.watch({ include: KvWatchInclude.UpdatesOnly })
    watcher.#stopWatching = () => updates.stop()
    void (async () => {
      for await (const entry of updates) watcher.#apply(entry.key, entry.revision, configTextOf(entry.operation, entry.value))
    })()
    return watcher
  }

  /** The config text stored under `key` now. */
  async current(key: string): Promise<string> {
    const known = this.#values.get(key)
    if (known !== undefined || this.#bucket === undefined) return known?.text ?? emptyConfig
    const entry = await this.#bucket.get(key)
    if (entry !== null) this.#apply(key, entry.revision, configTextOf(entry.operation, entry.value))
    return this.#values.get(key)?.text ?? emptyConfig
  }

  /** Calls `listener` with every later change of `key`; returns the unsubscribe function. */
  subscribe(key: string, listener: ConfigListener): () => void {
    let listeners = this.#listeners.get(key)
    if (listeners === undefined) {
      listeners = new Set()
      this.#listeners.set(key, listeners)
    }
    listeners.add(listener)
    return () => {
      listeners.delete(listener)
      if (listeners.size === 0) this.#listeners.delete(key)
    }
  }

  stop(): void {
    this.#stopWatching?.()
  }

  #apply(key: string, revision: number, text: string): void {
    const known = this.#values.get(key)
    if (known !== undefined && known.revision >= revision) return
    this.#values.set(key, { revision, text })
    if (known !== undefined && known.text === text) return
    for (const listener of this.#listeners.get(key) ?? []) listener(text)
  }
}

/**
 * The contract between a workload and the nex runtime. A workload is one module whose default
 * export is a `Handler`; `nex deploy` bundles it (with any npm packages it imports) and the runtime
 * runs it in a V8 isolate. Everything here is types apart from `defineHandler`, so importing this
 * package adds nothing to a bundle.
 *
 * The isolate has the ECMAScript built-ins plus console, TextEncoder/TextDecoder and setTimeout
 * (while an invocation runs); no Node APIs, fetch, WebAssembly or SharedArrayBuffer. Its module
 * may not use top-level await. Everything outside goes through the context.
 */

/** A value that survives `JSON.stringify` and `JSON.parse` unchanged. */
export type JsonValue = string | number | boolean | null | ReadonlyArray<JsonValue> | { readonly [key: string]: JsonValue }

/** The message that invoked the handler. Its bytes are a copy: the handler may keep them. */
export interface Message extends Body {
  readonly subject: string
  /** Where a reply goes; undefined for a plain publish, a job or a schedule tick. */
  readonly reply: string | undefined
  /** Header names as sent; a header sent several times has its values joined with ", ". */
  readonly headers: Readonly<Record<string, string>>
}

/**
 * What a handler returns becomes the reply (when the message has a reply subject): a string or
 * bytes as they are, any other value as JSON, undefined as an empty reply. A handler that throws
 * answers with an empty payload and a `Nex-Error` header (`user_error: <message>`; other codes say
 * the platform stopped it: `timeout`, `memory_limit`, `mailbox_full`, ...); a job message whose
 * handler throws is redelivered with backoff, and copied to the dead-letter stream NEX_DEAD_LETTERS
 * after its last attempt.
 */
export type Reply = string | Uint8Array | JsonValue | undefined | void

export type Handler = (message: Message, context: Context) => Reply | Promise<Reply>

/** Lines go to the NEX_LOGS stream (`nex logs <name>`), tagged with the workload and its revision. */
export interface Logger {
  debug(...values: ReadonlyArray<unknown>): void
  info(...values: ReadonlyArray<unknown>): void
  warn(...values: ReadonlyArray<unknown>): void
  error(...values: ReadonlyArray<unknown>): void
}

/** Bytes, a string (stored as UTF-8) or a JSON value (stored as its JSON text); null and undefined store nothing. */
export type Payload = string | Uint8Array | ArrayBuffer | JsonValue | undefined

/** Bytes received from the host, with decoding helpers. */
export interface Body {
  readonly data: Uint8Array
  /** The bytes decoded as UTF-8. */
  text(): string
  /** The bytes parsed as JSON; throws a SyntaxError when they are not JSON. */
  json<T = JsonValue>(): T
}

export interface KvEntry extends Body {
  readonly key: string
  /** Bucket-wide sequence of this write. */
  readonly revision: number
}

/**
 * A JetStream key-value bucket, opened (created when missing) by the host. Buckets whose name
 * starts with `nex-` belong to the platform and are refused.
 */
export interface KvBucket {
  /** Null when the key is absent or deleted. */
  get(key: string): Promise<KvEntry | null>
  /** Returns the new revision. */
  put(key: string, value: Payload): Promise<number>
  delete(key: string): Promise<void>
  /** Keys, optionally matching a filter with `*` and `>` wildcards (default all). */
  keys(filter?: string): Promise<ReadonlyArray<string>>
}

export interface ObjectInfo {
  readonly name: string
  readonly size: number
  /** `SHA-256=<base64url>`, as the object store records it. */
  readonly digest: string
  /** ISO-8601 time of the last write. */
  readonly modified: string
}

export interface StoredObject extends Body {
  readonly name: string
  readonly size: number
}

/** A JetStream object store bucket (created when missing; `nex-*` buckets are refused). */
export interface ObjectBucket {
  put(name: string, data: Payload): Promise<ObjectInfo>
  /** Null when there is no such object. */
  get(name: string): Promise<StoredObject | null>
  info(name: string): Promise<ObjectInfo | null>
  list(): Promise<ReadonlyArray<ObjectInfo>>
  /** Resolves true when there was an object to delete. */
  delete(name: string): Promise<boolean>
}

/**
 * Outputs of a workload, kept in object store bucket `nex-artifacts` under `<workload>/<name>`
 * (`ctx.artifacts.put("receipts/1.json", ...)` in workload `orders` stores `orders/receipts/1.json`).
 * Names are 1-255 of A-Z a-z 0-9 . _ - / without "..".
 */
export interface Artifacts {
  put(name: string, data: Payload): Promise<ObjectInfo>
  get(name: string): Promise<StoredObject | null>
}

/** Header values; several values of one name may be given as an array. */
export type OutgoingHeaders = Readonly<Record<string, string | ReadonlyArray<string>>>

export interface PublishOptions {
  readonly headers?: OutgoingHeaders
}

export interface RequestOptions extends PublishOptions {
  /** Milliseconds to wait for the reply (default 5000, never past the invocation's own deadline). */
  readonly timeout?: number
}

/** A reply to `ctx.request`. */
export interface ReplyMessage extends Body {
  readonly subject: string
  readonly headers: Readonly<Record<string, string>>
}

/** What the runtime offers a handler. Every call is checked against the workload's permissions. */
export interface Context {
  /** The workload's name, as deployed. */
  readonly name: string
  /** The node running this instance. */
  readonly node: string
  /** Log lines go to NEX_LOGS (`nex logs <name>`); `console.log` and friends do the same. */
  readonly log: Logger
  /**
   * The workload's configuration: the JSON value of its key (the workload's name unless deployed
   * with `--config KEY`) in KV bucket `nex-config`, or an empty object when the key is absent. It
   * is live: `nats kv put nex-config <key> ...` reaches the running workload without a redeploy.
   */
  config<T = { readonly [key: string]: JsonValue }>(): T
  /**
   * Called after each change of the configuration; returns a function that stops the calls. A
   * module may also export `onConfig(config, context)` to the same effect.
   */
  onConfig<T = { readonly [key: string]: JsonValue }>(callback: (config: T, context: Context) => void | Promise<void>): () => void
  kv(bucket: string): KvBucket
  objects(bucket: string): ObjectBucket
  readonly artifacts: Artifacts
  /** Publishes to a subject the workload may publish to (`--allow-pub`), or to the message's reply subject. */
  publish(subject: string, data?: Payload, options?: PublishOptions): Promise<void>
  /** Sends a request (`--allow-pub` must cover the subject) and waits for the first reply; rejects on timeout or when nobody answers. */
  request(subject: string, data?: Payload, options?: RequestOptions): Promise<ReplyMessage>
}

/** Types a handler; returns it unchanged: `export default defineHandler(async (msg, ctx) => ...)`. */
export const defineHandler = <H extends Handler>(handler: H): H => handler

/** The header a failed invocation's reply carries, holding the error's message. */
export const errorHeader = "Nex-Error"

import { Kvm, type KV } from "@nats-io/kv"
import { type ObjectInfo, type ObjectStore, Objm } from "@nats-io/obj"
import { type NatsConnection, RequestError, TimeoutError } from "@nats-io/transport-node"
import { z } from "zod"
import type { Invocation } from "./Invocation.ts"
import { bytesOf, exactBytes, headerPairsOf, natsHeadersOf } from "./MessageParts.ts"
import { isPublishSubject, isReservedBucket, type Permissions } from "./Permissions.ts"
import type { LogLevel, LogPublisher } from "./LogPublisher.ts"
import type { HeaderPairs, HostCall } from "./Sandbox.ts"
import { names } from "./WorkerProtocol.ts"

/** Stable codes the guest sees as `error.code`. */
export type HostErrorCode = "E_INVALID" | "E_DENIED" | "E_ENDED" | "E_TIMEOUT" | "E_NO_RESPONDERS" | "E_QUOTA" | "E_FAILED"

export type Envelope = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly code: HostErrorCode; readonly message: string }

/** A workload as its host calls see it. */
export interface WorkloadScope {
  readonly name: string
  readonly revision: number
  readonly permissions: Permissions
  /** The running invocation with this id (0 = module evaluation), or undefined once it ended. */
  invocation(id: number): Invocation | undefined
}

export interface HostServicesOptions {
  readonly connection: NatsConnection
  readonly logs: LogPublisher
  /** Largest body for objects and artifacts (publish, request and KV use the server's max_payload). */
  readonly maximumObjectBytes?: number
  /** Log lines one invocation may write; the rest are dropped with one warning. */
  readonly maximumLogLines?: number
  /** Request timeout when the guest gives none (still capped by the invocation's deadline). */
  readonly defaultRequestTimeoutMs?: number
}

class HostCallError extends Error {
  readonly code: HostErrorCode
  constructor(code: HostErrorCode, message: string) {
    super(message)
    this.code = code
  }
}

const denied = (what: string): HostCallError => new HostCallError("E_DENIED", `permission denied: ${what}`)

const byteLength = (body: string | Uint8Array): number => (typeof body === "string" ? Buffer.byteLength(body) : body.byteLength)

/** Most keys or objects one listing returns. */
const maximumKeys = 10_000

interface ObjectSummary {
  readonly name: string
  readonly size: number
  readonly digest: string
  readonly modified: string
}

const summaryOf = (info: ObjectInfo): ObjectSummary => ({ name: info.name, size: info.size, digest: info.digest, modified: info.mtime })

interface Operation {
  readonly schema: z.ZodType<ReadonlyArray<unknown>>
  readonly run: (scope: WorkloadScope, invocation: Invocation, args: never) => unknown
}

const operation = <Schema extends z.ZodType<ReadonlyArray<unknown>>>(
  schema: Schema,
  run: (scope: WorkloadScope, invocation: Invocation, args: z.infer<Schema>) => unknown
): Operation => ({ schema, run })

/**
 * The host side of the guest's single host-call Reference: each call is parsed with zod, checked
 * against the workload's permissions and charged to a running invocation, and always resolves to
 * an envelope (a rejection would reach Node's unhandledRejection, and a host Error would carry host
 * stack frames into the guest).
 */
export class HostServices {
  readonly #connection: NatsConnection
  readonly #logs: LogPublisher
  readonly #kvm: Kvm
  readonly #objm: Objm
  readonly #buckets = new Map<string, Promise<KV>>()
  readonly #stores = new Map<string, Promise<ObjectStore>>()
  readonly #maximumLogLines: number
  readonly #defaultRequestTimeoutMs: number
  readonly #operations: ReadonlyMap<string, Operation>

  constructor(options: HostServicesOptions) {
    this.#connection = options.connection
    this.#logs = options.logs
    this.#kvm = new Kvm(options.connection)
    this.#objm = new Objm(options.connection)
    this.#maximumLogLines = options.maximumLogLines ?? 1000
    this.#defaultRequestTimeoutMs = options.defaultRequestTimeoutMs ?? 5000
    this.#operations = this.#buildOperations(this.#connection.info?.max_payload ?? 1024 * 1024, options.maximumObjectBytes ?? 16 * 1024 * 1024)
  }

  /** The function behind one isolate's host-call Reference. */
  hostCallFor(scope: WorkloadScope): HostCall {
    return async (operationName, invocationId, ...args): Promise<Envelope> => {
      try {
        const definition = typeof operationName === "string" ? this.#operations.get(operationName) : undefined
        if (definition === undefined) return { ok: false, code: "E_INVALID", message: "unknown host operation" }
        const invocation = typeof invocationId === "number" ? scope.invocation(invocationId) : undefined
        if (invocation === undefined) return { ok: false, code: "E_ENDED", message: `${operationName}: the invocation has ended` }
        const parsed = definition.schema.safeParse(args)
        if (!parsed.success) {
          const issue = parsed.error.issues[0]
          const where = issue?.path.length ? `argument ${Number(issue.path[0]) + 1}: ` : ""
          return { ok: false, code: "E_INVALID", message: `${operationName}: ${where}${issue?.message ?? "invalid arguments"}` }
        }
        const value = await definition.run(scope, invocation, parsed.data as never)
        return { ok: true, value }
      } catch (error) {
        if (error instanceof HostCallError) return { ok: false, code: error.code, message: error.message }
        const message = error instanceof Error ? error.message : String(error)
        return { ok: false, code: "E_FAILED", message: `${String(operationName)} failed: ${message}` }
      }
    }
  }

  #buildOperations(maximumPayload: number, maximumObjectBytes: number): ReadonlyMap<string, Operation> {
    const body = (limit: number) =>
      z
        .union([z.string(), z.instanceof(Uint8Array)])
        .refine((value) => byteLength(value) <= limit, { message: `body larger than ${limit} bytes` })
    const payload = body(maximumPayload)
    const objectBody = body(maximumObjectBytes)
    const subject = z.string().refine(isPublishSubject, { message: "not a valid subject (no wildcards, no spaces, no empty tokens)" })
    const headerPairs = z
      .array(z.tuple([z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}$/), z.string().max(4096).regex(/^[^\r\n]*$/)]))
      .max(64)
    const bucket = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { message: "a bucket name is 1-64 of A-Z a-z 0-9 _ -" })
    const key = z.string().min(1).max(1024)
    const objectName = z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[^\x00-\x1f]+$/)
    const artifactName = z
      .string()
      .regex(/^[A-Za-z0-9._-][A-Za-z0-9._/-]{0,254}$/, { message: "an artifact name is 1-255 of A-Z a-z 0-9 . _ - /" })
      .refine((name) => !name.split("/").includes(".."), { message: "an artifact name cannot contain '..'" })
    const level = z.enum(["debug", "info", "warn", "error"])

    const openBucket = (name: string): Promise<KV> => {
      if (isReservedBucket(name)) throw denied(`kv bucket '${name}' is reserved`)
      return this.#bucket(name)
    }
    const openStore = (name: string): Promise<ObjectStore> => {
      if (isReservedBucket(name)) throw denied(`object store '${name}' is reserved`)
      return this.#store(name)
    }
    const getObject = async (store: ObjectStore, name: string) => {
      const info = await store.info(name)
      if (info === null || info.deleted) return null
      if (info.size > maximumObjectBytes) throw new HostCallError("E_QUOTA", `object '${name}' has ${info.size} bytes, more than ${maximumObjectBytes}`)
      const data = await store.getBlob(name)
      return data === null ? null : { name, size: data.byteLength, data: exactBytes(data) }
    }

    return new Map<string, Operation>([
      [
        "log",
        operation(z.tuple([level, z.string().max(20_000)]), (scope, invocation, [logLevel, text]) => {
          invocation.logLines++
          if (invocation.logLines > this.#maximumLogLines) {
            if (invocation.logLines === this.#maximumLogLines + 1) {
              this.#logs.log(scope.name, scope.revision, "warn", `log quota of ${this.#maximumLogLines} lines per invocation exceeded; dropping the rest`)
            }
            return
          }
          this.#logs.log(scope.name, scope.revision, logLevel as LogLevel, text)
        })
      ],
      [
        "sleep",
        operation(z.tuple([z.number().int().min(0).max(600_000)]), (_scope, invocation, [milliseconds]) => {
          return new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => {
              cancel()
              resolve()
            }, milliseconds)
            const cancel = invocation.onEnd(() => {
              clearTimeout(timer)
              reject(new HostCallError("E_ENDED", "timer cancelled: the invocation has ended"))
            })
          })
        })
      ],
      [
        "publish",
        operation(z.tuple([subject, payload, headerPairs]), (scope, invocation, [target, data, pairs]) => {
          if (target !== invocation.reply && !scope.permissions.mayPublish(target)) throw denied(`publish to '${target}'`)
          this.#connection.publish(target, bytesOf(data), { headers: natsHeadersOf(pairs) })
        })
      ],
      [
        "request",
        operation(
          z.tuple([subject, payload, headerPairs, z.number().int().min(0).max(600_000)]),
          async (scope, invocation, [target, data, pairs, requestedTimeout]) => {
            if (!scope.permissions.mayPublish(target)) throw denied(`request to '${target}'`)
            const timeout = Math.min(requestedTimeout > 0 ? requestedTimeout : this.#defaultRequestTimeoutMs, invocation.remainingMs())
            if (timeout <= 0) throw new HostCallError("E_TIMEOUT", `request to '${target}': no time left in this invocation`)
            try {
              const reply = await this.#connection.request(target, bytesOf(data), { timeout, headers: natsHeadersOf(pairs) })
              return { subject: reply.subject, data: exactBytes(reply.data), headers: headerPairsOf(reply.headers) as HeaderPairs | undefined }
            } catch (error) {
              if (error instanceof RequestError && error.isNoResponders()) {
                throw new HostCallError("E_NO_RESPONDERS", `no responders for '${target}'`)
              }
              if (error instanceof TimeoutError || (error instanceof RequestError && error.cause instanceof TimeoutError)) {
                throw new HostCallError("E_TIMEOUT", `request to '${target}' timed out after ${timeout} ms`)
              }
              throw error
            }
          }
        )
      ],
      [
        "kv.get",
        operation(z.tuple([bucket, key]), async (_scope, _invocation, [name, entryKey]) => {
          const entry = await (await openBucket(name)).get(entryKey)
          if (entry === null || entry.operation !== "PUT") return null
          return { key: entry.key, revision: entry.revision, data: exactBytes(entry.value) }
        })
      ],
      [
        "kv.put",
        operation(z.tuple([bucket, key, payload]), async (_scope, _invocation, [name, entryKey, data]) =>
          (await openBucket(name)).put(entryKey, bytesOf(data))
        )
      ],
      [
        "kv.delete",
        operation(z.tuple([bucket, key]), async (_scope, _invocation, [name, entryKey]) => {
          await (await openBucket(name)).delete(entryKey)
        })
      ],
      [
        "kv.keys",
        operation(z.tuple([bucket, key]), async (_scope, _invocation, [name, filter]) => {
          const found: string[] = []
          for await (const entryKey of await (await openBucket(name)).keys(filter)) {
            found.push(entryKey)
            if (found.length >= maximumKeys) break
          }
          return found
        })
      ],
      [
        "objects.put",
        operation(z.tuple([bucket, objectName, objectBody]), async (_scope, _invocation, [name, object, data]) =>
          summaryOf(await (await openStore(name)).putBlob({ name: object }, bytesOf(data)))
        )
      ],
      [
        "objects.get",
        operation(z.tuple([bucket, objectName]), async (_scope, _invocation, [name, object]) => getObject(await openStore(name), object))
      ],
      [
        "objects.info",
        operation(z.tuple([bucket, objectName]), async (_scope, _invocation, [name, object]) => {
          const info = await (await openStore(name)).info(object)
          return info === null || info.deleted ? null : summaryOf(info)
        })
      ],
      [
        "objects.list",
        operation(z.tuple([bucket]), async (_scope, _invocation, [name]) =>
          (await (await openStore(name)).list())
            .filter((info) => !info.deleted)
            .slice(0, maximumKeys)
            .map(summaryOf)
        )
      ],
      [
        "objects.delete",
        operation(z.tuple([bucket, objectName]), async (_scope, _invocation, [name, object]) => {
          const store = await openStore(name)
          const info = await store.info(object)
          if (info === null || info.deleted) return false
          await store.delete(object)
          return true
        })
      ],
      [
        "artifacts.put",
        operation(z.tuple([artifactName, objectBody]), async (scope, _invocation, [name, data]) => {
          const store = await this.#store(names.artifactsBucket)
          return summaryOf(await store.putBlob({ name: `${scope.name}/${name}` }, bytesOf(data)))
        })
      ],
      [
        "artifacts.get",
        operation(z.tuple([artifactName]), async (scope, _invocation, [name]) =>
          getObject(await this.#store(names.artifactsBucket), `${scope.name}/${name}`)
        )
      ]
    ])
  }

  /** Opens (creating when missing) a KV bucket, once per process. */
  #bucket(name: string): Promise<KV> {
    let bucket = this.#buckets.get(name)
    if (bucket === undefined) {
      bucket = this.#kvm.create(name)
      this.#buckets.set(name, bucket)
      bucket.catch(() => this.#buckets.delete(name))
    }
    return bucket
  }

  /** Opens (creating when missing) an object store, once per process. */
  #store(name: string): Promise<ObjectStore> {
    let store = this.#stores.get(name)
    if (store === undefined) {
      store = this.#objm.create(name)
      this.#stores.set(name, store)
      store.catch(() => this.#stores.delete(name))
    }
    return store
  }
}

import { jetstreamManager, JetStreamApiCodes, JetStreamApiError, StorageType } from "@nats-io/jetstream"
import type { KV, KvEntry } from "@nats-io/kv"
import type { NatsConnection, Subscription } from "@nats-io/transport-node"
import { Data, Effect } from "effect"
import { WorkloadEvent } from "./api.ts"
import { type Bundle, bundleWorkload, displayPath } from "./Bundler.ts"
import { type DeploymentOrigin, DeploymentSpec, type DeploymentSpecInput } from "./DeploymentSpec.ts"
import { ensureKv, ensureObjectStore, replicasFor } from "./Infrastructure.ts"
import { reservedSubjectProblem, subjects } from "./subjects.ts"
import { subjectCovers } from "./worker/Permissions.ts"
import { names } from "./worker/WorkerProtocol.ts"
import { WorkloadConfig, type WorkloadConfigInput } from "./WorkloadConfig.ts"

export class DeployError extends Data.TaggedError("DeployError")<{
  readonly reason: "Invalid" | "Bundle" | "Storage" | "Conflict" | "StartFailed" | "Timeout" | "NotFound"
  /** One sentence (a bundle error may add one line per problem). */
  readonly message: string
  readonly cause?: unknown
}> {}

/** What `deployWorkload` reports as it goes, for progress lines. */
export type DeployStep =
  | { readonly step: "bundled"; readonly file: string; readonly size: number; readonly sha256: string }
  | { readonly step: "uploaded"; readonly sha256: string; readonly alreadyStored: boolean }
  | { readonly step: "streamCreated"; readonly stream: string; readonly subjects: ReadonlyArray<string> }
  | { readonly step: "stored"; readonly name: string; readonly revision: number }
  | { readonly step: "unchanged"; readonly name: string; readonly revision: number }
  | { readonly step: "accepted"; readonly name: string; readonly revision: number; readonly node: string }

export interface DeployOptions {
  /** Where relative `file` paths start (default: the process's working directory). */
  readonly workingDirectory?: string
  /** Milliseconds to wait for a node to report the new revision started; 0 returns once stored. Default 30000. */
  readonly waitMs?: number
  /** When the stored spec already has this bundle and these options, keep its revision (nex up's configured workloads). */
  readonly keepUnchanged?: boolean
  /** Recorded in the spec (default "cli"); `nex up` deploys its config's workloads as "config". */
  readonly origin?: DeploymentOrigin
  readonly onProgress?: (step: DeployStep) => void
}

export interface DeployResult {
  readonly spec: DeploymentSpec
  /** The node that reported it started; undefined when not waited for or unchanged. */
  readonly node: string | undefined
  readonly unchanged: boolean
}

const storageError = (what: string) => (cause: unknown) =>
  new DeployError({ reason: "Storage", message: `${what}: ${cause instanceof Error ? cause.message : String(cause)}`, cause })

const subjectProblems = (config: WorkloadConfig): ReadonlyArray<string> => {
  const checks: Array<[string, ReadonlyArray<string>]> = [
    ["trigger", config.triggers],
    ["allowed publish subject", config.allowPublish],
    ["allowed subscribe subject", config.allowSubscribe]
  ]
  const reserved = checks.flatMap(([what, list]) =>
    list.flatMap((subject) => {
      const problem = reservedSubjectProblem(subject)
      return problem === undefined ? [] : [`${what} ${problem}`]
    })
  )
  // The sandbox refuses these too, but only once the deploy is stored; say it before.
  const uncovered =
    config.allowSubscribe.length === 0
      ? []
      : config.triggers
          .filter((trigger) => !config.allowSubscribe.some((pattern) => subjectCovers(pattern, trigger)))
          .map((trigger) => `trigger "${trigger}" is not covered by allowSubscribe (${config.allowSubscribe.join(", ")})`)
  return [...reserved, ...uncovered]
}

const hasAnyTrigger = (config: WorkloadConfig): boolean =>
  config.triggers.length > 0 || config.job !== undefined || config.every !== undefined || config.cron !== undefined

/** The platform's own streams (its KV buckets, object stores and NEX_* streams) are not job sources. */
const isPlatformStream = (stream: string): boolean => /^(KV_nex-|OBJ_nex-|NEX_)/.test(stream)

/** Checks a workload's options before anything is bundled or stored; the message names the field. */
export const checkWorkloadConfig = (config: WorkloadConfig): Effect.Effect<void, DeployError> => {
  if (config.job !== undefined && isPlatformStream(config.job.stream)) {
    return Effect.fail(new DeployError({ reason: "Invalid", message: `${config.name}: job stream ${config.job.stream} belongs to the platform` }))
  }
  const problems = subjectProblems(config)
  if (problems.length > 0) return Effect.fail(new DeployError({ reason: "Invalid", message: `${config.name}: ${problems[0]}` }))
  if (!hasAnyTrigger(config)) {
    return Effect.fail(new DeployError({ reason: "Invalid", message: `${config.name}: nothing would invoke it: give a trigger subject, a job stream, or a schedule (every or cron)` }))
  }
  return Effect.void
}

/** The spec a config and a bundle make; the spec's own schema checks every limit. */
export const specFor = (
  config: WorkloadConfig,
  bundle: Pick<Bundle, "sha256" | "size">,
  revision: number,
  source: string,
  origin: DeploymentOrigin = "cli"
): Effect.Effect<DeploymentSpec, DeployError> => {
  const input: DeploymentSpecInput = {
    name: config.name,
    revision,
    bundle: { sha256: bundle.sha256, size: bundle.size },
    triggers: config.triggers,
    queue: config.queue,
    job: config.job,
    schedule: config.every !== undefined ? { everyMs: config.every } : config.cron !== undefined ? { cron: config.cron } : undefined,
    configKey: config.config,
    memoryMiB: config.memory,
    timeoutMs: config.timeout,
    concurrency: config.concurrency,
    mailbox: config.mailbox,
    replicas: config.replicas,
    tags: config.tags === undefined || config.tags.length === 0 ? undefined : config.tags,
    allowPublish: config.allowPublish,
    allowSubscribe: config.allowSubscribe,
    source,
    origin,
    deployedAt: new Date().toISOString()
  }
  const result = DeploymentSpec.safeParse(input)
  if (result.success) return Effect.succeed(result.data)
  const issue = result.error.issues[0]
  return Effect.fail(new DeployError({ reason: "Invalid", message: `${config.name}: ${issue.path.join(".")}: ${issue.message}` }))
}

const parseStoredSpec = (entry: KvEntry): DeploymentSpec | undefined => {
  try {
    const result = DeploymentSpec.safeParse(entry.json())
    return result.success ? result.data : undefined
  } catch {
    return undefined
  }
}

/** The revision the last stored spec of `name` had (0 if none): undeploy then deploy keeps counting. */
const lastRevision = (kv: KV, name: string): Effect.Effect<number, DeployError> =>
  Effect.tryPromise({
    try: async () => {
      let revision = 0
      for await (const entry of await kv.history({ key: name })) {
        if (entry.operation === "PUT") revision = Math.max(revision, parseStoredSpec(entry)?.revision ?? 0)
      }
      return revision
    },
    catch: storageError(`could not read the history of ${name}`)
  })

/** Whether two specs run the same thing (who deployed them aside). */
const sameDeployment = (stored: DeploymentSpec, next: DeploymentSpec): boolean => {
  const comparable = (spec: DeploymentSpec) => JSON.stringify({ ...spec, revision: 0, deployedAt: "", origin: "cli" })
  return comparable(stored) === comparable(next)
}

/** Watches one workload's lifecycle events until `settle` returns a verdict; closed by the scope. */
const watchEvents = (connection: NatsConnection, name: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const received: Array<WorkloadEvent> = []
      let notify: (() => void) | undefined
      const subscription: Subscription = connection.subscribe(subjects.workloadEvents(name), {
        callback: (error, message) => {
          if (error !== null) return
          try {
            const parsed = WorkloadEvent.safeParse(message.json())
            if (parsed.success) received.push(parsed.data)
          } catch {
            return
          }
          notify?.()
        }
      })
      const next = (): Promise<WorkloadEvent> =>
        received.length > 0 ? Promise.resolve(received.shift()!) : new Promise((resolve) => (notify = () => { notify = undefined; resolve(received.shift()!) }))
      return { subscription, next }
    }),
    ({ subscription }) => Effect.sync(() => subscription.unsubscribe())
  )

/**
 * A job's stream must exist before a node can consume it. When it is missing and the job has a
 * filter, the stream is created to capture that filter (what `--job ORDERS --filter 'orders.>'`
 * asks for); without a filter there is nothing to say what it should hold.
 */
const ensureJobStream = (connection: NatsConnection, config: WorkloadConfig, progress: (step: DeployStep) => void): Effect.Effect<void, DeployError> => {
  const job = config.job
  if (job === undefined) return Effect.void
  return Effect.tryPromise({
    try: async () => {
      const manager = await jetstreamManager(connection)
      try {
        await manager.streams.info(job.stream)
        return
      } catch (error) {
        if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound)) throw error
      }
      if (job.filter === undefined) return "missing"
      await manager.streams.add({ name: job.stream, subjects: [job.filter], storage: StorageType.File, num_replicas: replicasFor(connection) })
      progress({ step: "streamCreated", stream: job.stream, subjects: [job.filter] })
    },
    catch: storageError(`could not check job stream ${job.stream}`)
  }).pipe(
    Effect.flatMap((outcome) =>
      outcome === "missing"
        ? Effect.fail(new DeployError({ reason: "Invalid", message: `${config.name}: job stream ${job.stream} does not exist; create it, or give a filter so that it is created for that subject` }))
        : Effect.void
    )
  )
}

/**
 * Deploys one workload: bundles its file, stores the bundle in `nex-bundles` (named by its
 * SHA-256; skipped when already there), writes the spec with the next revision to
 * `nex-deployments` (compare-and-set, so two deploys of one name cannot both win), then waits for
 * a node to report that revision started, or fails with the reason the node gave.
 */
export const deployWorkload = (connection: NatsConnection, config: WorkloadConfig, options: DeployOptions = {}): Effect.Effect<DeployResult, DeployError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const workingDirectory = options.workingDirectory ?? process.cwd()
      const progress = options.onProgress ?? (() => {})
      yield* checkWorkloadConfig(config)
      const bundle = yield* bundleWorkload(config.file, workingDirectory).pipe(
        Effect.mapError((error) => new DeployError({ reason: "Bundle", message: error.message, cause: error }))
      )
      const source = displayPath(config.file, workingDirectory)
      progress({ step: "bundled", file: source, size: bundle.size, sha256: bundle.sha256 })
      // Checked before any upload, so an invalid deploy leaves nothing behind.
      const origin = options.origin ?? "cli"
      yield* specFor(config, bundle, 1, source, origin)

      const bundles = yield* ensureObjectStore(connection, names.bundlesBucket).pipe(Effect.mapError(storageError("could not open the bundle store")))
      const stored = yield* Effect.tryPromise({ try: () => bundles.info(bundle.sha256), catch: storageError("could not read the bundle store") })
      if (stored === null) {
        yield* Effect.tryPromise({
          try: () => bundles.putBlob({ name: bundle.sha256, description: `${config.name} (${source})` }, bundle.bytes),
          catch: storageError("could not upload the bundle")
        })
      }
      progress({ step: "uploaded", sha256: bundle.sha256, alreadyStored: stored !== null })
      yield* ensureJobStream(connection, config, progress)

      const deployments = yield* ensureKv(connection, names.deploymentsBucket).pipe(Effect.mapError(storageError("could not open the deployments bucket")))
      const events = yield* watchEvents(connection, config.name)
      const spec = yield* writeSpec(deployments, config, bundle, source, origin, options.keepUnchanged === true)
      if (spec.unchanged) {
        progress({ step: "unchanged", name: spec.spec.name, revision: spec.spec.revision })
        return { spec: spec.spec, node: undefined, unchanged: true }
      }
      progress({ step: "stored", name: spec.spec.name, revision: spec.spec.revision })
      const waitMs = options.waitMs ?? 30_000
      if (waitMs === 0) return { spec: spec.spec, node: undefined, unchanged: false }
      const node = yield* awaitStart(events.next, spec.spec, progress).pipe(
        Effect.timeoutFail({
          duration: waitMs,
          onTimeout: () =>
            new DeployError({
              reason: "Timeout",
              message: `${config.name} revision ${spec.spec.revision} is stored, but no node reported it started within ${waitMs / 1000}s (is \`nex up\` running?)`
            })
        })
      )
      return { spec: spec.spec, node, unchanged: false }
    })
  )

const writeSpec = (kv: KV, config: WorkloadConfig, bundle: Bundle, source: string, origin: DeploymentOrigin, keepUnchanged: boolean) =>
  Effect.gen(function* () {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = yield* Effect.tryPromise({ try: () => kv.get(config.name), catch: storageError(`could not read the deployment of ${config.name}`) })
      const currentSpec = current?.operation === "PUT" ? parseStoredSpec(current) : undefined
      const previousRevision = currentSpec?.revision ?? (yield* lastRevision(kv, config.name))
      const fresh = yield* specFor(config, bundle, previousRevision + 1, source, origin)
      const unchanged = keepUnchanged && currentSpec !== undefined && sameDeployment(currentSpec, fresh)
      if (unchanged && currentSpec.origin === origin) return { spec: currentSpec, unchanged }
      // Unchanged but changing hands: the revision stays, so no node restarts it.
      const spec = unchanged ? { ...currentSpec, origin } : fresh
      const payload = JSON.stringify(spec)
      const written = yield* Effect.tryPromise({
        try: () => (current === null ? kv.create(config.name, payload) : kv.update(config.name, payload, current.revision)),
        catch: (cause) => cause
      }).pipe(
        Effect.as(true),
        // Someone else wrote the key between our read and our write: read again and retry.
        Effect.catchIf(isWrongLastSequence, () => Effect.succeed(false)),
        Effect.mapError(storageError(`could not store the deployment of ${config.name}`))
      )
      if (written) return { spec, unchanged }
    }
    return yield* new DeployError({ reason: "Conflict", message: `${config.name}: other deploys of this name kept winning; try again` })
  })

const isWrongLastSequence = (error: unknown): boolean =>
  error instanceof Error && "code" in error && ((error as { code: unknown }).code === 10071 || (error as { code: unknown }).code === 10164)

const awaitStart = (next: () => Promise<WorkloadEvent>, spec: DeploymentSpec, progress: (step: DeployStep) => void): Effect.Effect<string, DeployError> =>
  Effect.gen(function* () {
    for (;;) {
      const event = yield* Effect.promise(next)
      if (event.revision !== spec.revision) continue
      switch (event.kind) {
        case "deployed":
          progress({ step: "accepted", name: spec.name, revision: spec.revision, node: event.node })
          break
        case "started":
        case "restarted":
          return event.node
        case "failed":
        case "quarantined":
          return yield* new DeployError({ reason: "StartFailed", message: `${spec.name} revision ${spec.revision} failed to start on ${event.node}: ${event.reason ?? "no reason given"}` })
        default:
          break
      }
    }
  })

/** The stored deployments that validate (a spec written by hand that does not is left out). */
export const listDeployments = (connection: NatsConnection): Effect.Effect<ReadonlyArray<DeploymentSpec>, DeployError> =>
  Effect.gen(function* () {
    const kv = yield* ensureKv(connection, names.deploymentsBucket).pipe(Effect.mapError(storageError("could not open the deployments bucket")))
    return yield* Effect.tryPromise({
      try: async () => {
        const specs: Array<DeploymentSpec> = []
        for await (const name of await kv.keys()) {
          const entry = await kv.get(name)
          const spec = entry?.operation === "PUT" ? parseStoredSpec(entry) : undefined
          if (spec !== undefined) specs.push(spec)
        }
        return specs
      },
      catch: storageError("could not list the deployments")
    })
  })

/** Removes a workload from the desired state; nodes stop it. Fails when there is no such workload. */
export const undeployWorkload = (connection: NatsConnection, name: string, options: { readonly waitMs?: number } = {}): Effect.Effect<{ readonly revision: number; readonly confirmedBy: string | undefined }, DeployError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const kv = yield* ensureKv(connection, names.deploymentsBucket).pipe(Effect.mapError(storageError("could not open the deployments bucket")))
      const current = yield* Effect.tryPromise({ try: () => kv.get(name), catch: storageError(`could not read the deployment of ${name}`) })
      if (current === null || current.operation !== "PUT") return yield* new DeployError({ reason: "NotFound", message: `no workload named ${name} is deployed` })
      const revision = parseStoredSpec(current)?.revision ?? 0
      const events = yield* watchEvents(connection, name)
      yield* Effect.tryPromise({ try: () => kv.delete(name, { previousSeq: current.revision }), catch: storageError(`could not remove ${name}`) })
      const waitMs = options.waitMs ?? 10_000
      if (waitMs === 0) return { revision, confirmedBy: undefined }
      const waitForUndeployed = Effect.gen(function* () {
        for (;;) {
          const event = yield* Effect.promise(events.next)
          if (event.kind === "undeployed") return event.node
        }
      })
      const confirmedBy = yield* waitForUndeployed.pipe(Effect.timeout(waitMs), Effect.orElseSucceed(() => undefined))
      return { revision, confirmedBy }
    })
  )

/**
 * `deployWorkload` for scripts that do not use Effect: takes the config as `nex.config.ts` would
 * write it and rejects with a DeployError whose message names the problem.
 */
export const deployWorkloadAsync = (connection: NatsConnection, workload: WorkloadConfigInput, options: DeployOptions = {}): Promise<DeployResult> => {
  const parsed = WorkloadConfig.safeParse(workload)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    return Promise.reject(new DeployError({ reason: "Invalid", message: `${issue.path.join(".") || "workload"}: ${issue.message}` }))
  }
  return Effect.runPromise(deployWorkload(connection, parsed.data, options))
}

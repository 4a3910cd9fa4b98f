import type { KvEntry } from "@nats-io/kv"
import type { NatsConnection } from "@nats-io/transport-node"
import { createHash } from "node:crypto"
import type { ObjectStore } from "@nats-io/obj"
import { Effect, type Scope } from "effect"
import { watchBucket } from "./BucketWatch.ts"
import { DeploymentSpec } from "./DeploymentSpec.ts"
import { ensureKv, ensureObjectStore, type InfrastructureError } from "./Infrastructure.ts"
import type { Supervisor } from "./Supervisor.ts"
import { names } from "./worker/WorkerProtocol.ts"

/** A stored deployment: a valid spec, or why it cannot run. */
export type Verdict = { readonly ok: true; readonly spec: DeploymentSpec } | { readonly ok: false; readonly revision: number | undefined; readonly reason: string }

export const checkEntry = (entry: KvEntry): Verdict => {
  let value: unknown
  try {
    value = entry.json()
  } catch {
    return { ok: false, revision: undefined, reason: "invalid deployment spec: not JSON" }
  }
  const revision = typeof (value as { revision?: unknown })?.revision === "number" ? (value as { revision: number }).revision : undefined
  const result = DeploymentSpec.safeParse(value)
  if (!result.success) {
    const issue = result.error.issues[0]
    return { ok: false, revision, reason: `invalid deployment spec: ${issue.path.length === 0 ? "" : `${issue.path.join(".")}: `}${issue.message}` }
  }
  if (result.data.name !== entry.key) return { ok: false, revision, reason: `invalid deployment spec: name "${result.data.name}" differs from its key "${entry.key}"` }
  return { ok: true, spec: result.data }
}

export type LoadedBundle = { readonly ok: true; readonly code: string } | { readonly ok: false; readonly reason: string }

/** Reads a spec's bundle from the object store and checks its SHA-256. */
export const bundleLoader =
  (bundles: ObjectStore) =>
  (spec: DeploymentSpec): Effect.Effect<LoadedBundle> =>
    Effect.tryPromise(() => bundles.getBlob(spec.bundle.sha256)).pipe(
      Effect.map((bytes): LoadedBundle => {
        if (bytes === null) return { ok: false, reason: `bundle ${spec.bundle.sha256} is not in ${names.bundlesBucket}` }
        const digest = createHash("sha256").update(bytes).digest("hex")
        if (digest !== spec.bundle.sha256) return { ok: false, reason: `bundle ${spec.bundle.sha256} is corrupt (its SHA-256 is ${digest})` }
        return { ok: true, code: new TextDecoder().decode(bytes) }
      }),
      Effect.catchAll((error) => Effect.succeed<LoadedBundle>({ ok: false, reason: `could not read bundle ${spec.bundle.sha256}: ${error.message}` }))
    )

/**
 * Watches the desired state (KV bucket `nex-deployments`) and hands every change to the
 * supervisor: a put starts or replaces, a delete stops. The watch first replays every current
 * key, which is how deployments come back after a node restart.
 */
export const watchDeployments = (connection: NatsConnection, supervisor: Supervisor): Effect.Effect<void, InfrastructureError, Scope.Scope> =>
  Effect.gen(function* () {
    const deployments = yield* ensureKv(connection, names.deploymentsBucket)
    const loadBundle = bundleLoader(yield* ensureObjectStore(connection, names.bundlesBucket))

    const onEntry = (entry: KvEntry) =>
      Effect.gen(function* () {
        if (entry.operation !== "PUT") return yield* supervisor.remove(entry.key)
        const verdict = checkEntry(entry)
        if (!verdict.ok) return yield* supervisor.reject(entry.key, verdict.revision, verdict.reason)
        const bundle = yield* loadBundle(verdict.spec)
        if (!bundle.ok) return yield* supervisor.reject(entry.key, verdict.spec.revision, bundle.reason)
        yield* supervisor.apply(verdict.spec, bundle.code)
      })

    yield* watchBucket(deployments, onEntry, "deployments")
  })

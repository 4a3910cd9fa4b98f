import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  type JsMsg,
  StorageType
} from "@nats-io/jetstream"
import { headers as createHeaders, nanos } from "@nats-io/transport-node"
import type { DeploymentSpec, JobTrigger as JobSpec } from "../DeploymentSpec.ts"
import { subjects } from "../subjects.ts"
import { errorHeader, failureText } from "./Failure.ts"
import type { LogPublisher } from "./LogPublisher.ts"
import { exactBytes, headerPairsOf } from "./MessageParts.ts"
import { invocationKind } from "./Sandbox.ts"
import type { Trigger } from "./Triggers.ts"
import type { ActorItem, Outcome, WorkloadActor } from "./WorkloadActor.ts"
import { names } from "./WorkerProtocol.ts"

export interface JobTriggerEnvironment {
  readonly jetstream: JetStreamClient
  readonly manager: JetStreamManager
  readonly logs: LogPublisher
}

/** Streams backing the platform's own state; a job may not read them. */
const isReservedStream = (stream: string): boolean => /^(KV_nex-|OBJ_nex-|NEX_)/.test(stream)

/** Delay before redelivering a failed message: 250 ms, doubling per attempt, at most 30 s. */
export const retryDelayMs = (attempt: number): number => Math.min(30_000, 250 * 2 ** (attempt - 1))

const fetchExpiresMs = 5000

/**
 * How many messages a replica holds (queued or running): enough that the next batch arrives while
 * the current one runs. Other replicas cannot take what one holds, hence the cap.
 */
export const prefetchOf = (spec: Pick<DeploymentSpec, "concurrency" | "mailbox">): number =>
  Math.max(1, Math.min(spec.mailbox, Math.max(2 * spec.concurrency, 64)))

const isStreamNotFound = (error: unknown): boolean => error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound

/**
 * The node normally creates NEX_DEAD_LETTERS with its retention limits (Infrastructure.ts); when
 * it is missing (a bare NATS server) the job creates it with default limits. Concurrent creators
 * agree on the configuration, so a lost race is fine.
 */
const ensureDeadLetterStream = async (manager: JetStreamManager): Promise<void> => {
  try {
    await manager.streams.info(names.deadLetterStream)
  } catch (error) {
    if (!isStreamNotFound(error)) throw error
    await manager.streams.add({ name: names.deadLetterStream, subjects: [subjects.allDeadLetters], storage: StorageType.File })
  }
}

/** The dead letter keeps the original headers except JetStream's own (Nats-Msg-Id, Nats-Expected-…), which would change how it is stored. */
const deadLetterHeaders = (message: JsMsg, job: JobSpec, name: string, attempt: number, reason: string) => {
  const headers = createHeaders()
  for (const [key, value] of headerPairsOf(message.headers) ?? []) {
    if (!key.toLowerCase().startsWith("nats-")) headers.append(key, value)
  }
  headers.set("Nex-Workload", name)
  headers.set(errorHeader, reason)
  headers.set("Nex-Stream", job.stream)
  headers.set("Nex-Sequence", String(message.info.streamSequence))
  headers.set("Nex-Subject", message.subject)
  headers.set("Nex-Attempts", String(attempt))
  return headers
}

/**
 * A job: the durable pull consumer `nex-<name>` on `job.stream` (shared by the workload's replicas),
 * delivering at least once. Success acks; a failure naks with a growing delay; the `maxAttempts`-th
 * failure copies the message to NEX_DEAD_LETTERS (`$NEX.deadletters.<name>`) and terminates it.
 * Messages are fetched ahead, up to `prefetchOf(spec)` queued, in batches of at least half that, so
 * a fast handler never waits for a fetch round trip; a full mailbox leaves them unacknowledged in
 * the stream rather than dropping them. Queued messages are kept from redelivery by +WPI.
 */
export const startJobTrigger = async (spec: DeploymentSpec, actor: WorkloadActor, environment: JobTriggerEnvironment): Promise<Trigger> => {
  const job = spec.job
  if (job === undefined) return { stop: async () => undefined }
  if (isReservedStream(job.stream)) throw new Error(`job stream '${job.stream}' belongs to the platform`)
  const { jetstream, manager, logs } = environment
  const durable = names.jobConsumer(spec.name)

  await ensureDeadLetterStream(manager)

  // `working()` restarts the clock when a message starts, and every third of it while it waits.
  const ackWaitMs = Math.max(30_000, 2 * spec.timeoutMs + 10_000)
  const config = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(ackWaitMs),
    // Attempts are counted here, so a message whose handler kills the process is still dead-lettered.
    max_deliver: -1,
    ...(job.filter === undefined ? {} : { filter_subject: job.filter })
  }
  try {
    await manager.consumers.add(job.stream, config)
  } catch (error) {
    if (isStreamNotFound(error)) throw new Error(`job stream '${job.stream}' does not exist`)
    await manager.consumers.update(job.stream, durable, { ack_wait: config.ack_wait, max_deliver: -1, filter_subject: job.filter })
  }
  const consumer = await jetstream.consumers.get(job.stream, durable)

  const prefetch = prefetchOf(spec)
  const refillAt = Math.ceil(prefetch / 2)
  let queued = 0
  /** Fetched, not yet started: told the server they are in progress until they start. */
  const waiting = new Set<JsMsg>()
  const keepWaitingAlive = setInterval(() => {
    for (const message of waiting) message.working()
  }, ackWaitMs / 3)
  let stopped = false
  let batch: ConsumerMessages | undefined
  let wake: (() => void) | undefined

  const deadLetter = async (message: JsMsg, attempt: number, reason: string): Promise<void> => {
    try {
      await jetstream.publish(subjects.deadLetter(spec.name), message.data, { headers: deadLetterHeaders(message, job, spec.name, attempt, reason) })
      // No reason text: nats-server before 2.10 ignores a "+TERM <reason>" ack.
      message.term()
      logs.log(spec.name, spec.revision, "error", `job message ${job.stream}#${message.info.streamSequence} dead-lettered after ${attempt} attempts: ${reason}`)
    } catch (error) {
      // Not copied: keep it in the stream and try again later.
      message.nak(retryDelayMs(attempt))
      logs.log(spec.name, spec.revision, "error", `could not dead-letter ${job.stream}#${message.info.streamSequence}: ${String(error)}`)
    }
  }

  const settle = (message: JsMsg, attempt: number, outcome: Outcome): void => {
    if (outcome.ok) return message.ack()
    if (outcome.failure.code === "unavailable") return message.nak()
    if (attempt >= job.maxAttempts) return void deadLetter(message, attempt, failureText(outcome.failure))
    message.nak(retryDelayMs(attempt))
  }

  const deliver = (message: JsMsg): void => {
    const attempt = message.info.deliveryCount
    if (attempt > job.maxAttempts) {
      void deadLetter(message, attempt - 1, "attempts exhausted: the sandbox process was lost while handling it")
      return
    }
    queued++
    const item: ActorItem = {
      kind: invocationKind.message,
      subject: message.subject,
      reply: undefined,
      data: exactBytes(message.data),
      headers: headerPairsOf(message.headers),
      serialKey: job.serializePerSubject ? message.subject : undefined,
      started: () => {
        waiting.delete(message)
        message.working()
      },
      complete: (outcome) => {
        waiting.delete(message)
        queued--
        wake?.()
        settle(message, attempt, outcome)
      }
    }
    if (actor.offer(item)) waiting.add(message)
    else {
      queued--
      message.nak(1000)
    }
  }

  const pull = async (): Promise<void> => {
    while (!stopped) {
      const room = prefetch - queued
      if (room < refillAt) {
        await new Promise<void>((resolve) => (wake = resolve))
        wake = undefined
        continue
      }
      try {
        batch = await consumer.fetch({ max_messages: room, expires: fetchExpiresMs })
        for await (const message of batch) {
          if (stopped) message.nak()
          else deliver(message)
        }
      } catch (error) {
        if (stopped) return
        logs.log(spec.name, spec.revision, "warn", `job consumer ${durable}: ${error instanceof Error ? error.message : String(error)}`)
        await new Promise((resolve) => setTimeout(resolve, 1000))
      }
    }
  }
  void pull()

  return {
    stop: async () => {
      stopped = true
      clearInterval(keepWaitingAlive)
      batch?.stop()
      wake?.()
    }
  }
}

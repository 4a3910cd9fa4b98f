import { headers as createHeaders, type Msg, type NatsConnection } from "@nats-io/transport-node"
import type { DeploymentSpec } from "../DeploymentSpec.ts"
import { Cron } from "./Cron.ts"
import { errorHeader, type Failure, failure, failureText } from "./Failure.ts"
import { exactBytes, headerPairsOf } from "./MessageParts.ts"
import type { PeriodClaim } from "./PeriodClaim.ts"
import { type HeaderPairs, invocationKind } from "./Sandbox.ts"
import type { ActorItem, Outcome, WorkloadActor } from "./WorkloadActor.ts"
import { names } from "./WorkerProtocol.ts"

/** Something that feeds a workload's mailbox. */
export interface Trigger {
  stop(): Promise<void>
}

/** In a cluster, the header of a scheduled message naming the period it fires for (ISO-8601). */
export const periodHeader = "Nex-Period"

/** The subject a scheduled invocation's (empty) message carries. */
export const scheduleSubject = (name: string): string => `$NEX.schedule.${name}`

/**
 * The sender chooses the reply subject and the host publishes the reply with its own connection:
 * a reply into a `$` system space ($KV, $JS, $NEX …) would let any sender make the host write there,
 * so such messages are handled as if they had no reply subject.
 */
const isReplySubject = (reply: string | undefined): reply is string => reply !== undefined && reply !== "" && !reply.startsWith("$")

const empty = new Uint8Array(0)
const ignoreOutcome = (): void => undefined

/** Replies with the body, or with an empty body and a Nex-Error header. Never throws. */
export const respond = (connection: NatsConnection, reply: string, outcome: Outcome): void => {
  const maximumPayload = connection.info?.max_payload ?? Number.POSITIVE_INFINITY
  let problem: Failure | undefined = outcome.ok ? undefined : outcome.failure
  if (outcome.ok && outcome.body.byteLength > maximumPayload) {
    problem = failure("payload_too_large", `reply of ${outcome.body.byteLength} bytes exceeds max_payload ${maximumPayload}`)
  }
  try {
    if (problem === undefined && outcome.ok) {
      connection.publish(reply, outcome.body)
    } else if (problem !== undefined) {
      const headers = createHeaders()
      headers.set(errorHeader, failureText(problem))
      connection.publish(reply, empty, { headers })
    }
  } catch {
    // The connection is closing; the requester's timeout reports it.
  }
}

/**
 * Core-subject triggers: one queue subscription per subject (queue `spec.queue` or `nex.<name>`,
 * so replicas share the load). A message with a reply subject gets the handler's result as reply;
 * when the mailbox is full it gets `Nex-Error: mailbox_full` at once.
 */
export const startCoreTriggers = (connection: NatsConnection, spec: DeploymentSpec, actor: WorkloadActor): Trigger => {
  const queue = spec.queue ?? names.defaultQueue(spec.name)
  const deliver = (message: Msg): void => {
    const reply = isReplySubject(message.reply) ? message.reply : undefined
    const item: ActorItem = {
      kind: invocationKind.message,
      subject: message.subject,
      reply,
      data: exactBytes(message.data),
      headers: headerPairsOf(message.headers),
      complete: reply === undefined ? ignoreOutcome : (outcome) => respond(connection, reply, outcome)
    }
    if (!actor.offer(item) && reply !== undefined) respond(connection, reply, { ok: false, failure: failure("mailbox_full") })
  }
  const subscriptions = spec.triggers.map((subject) =>
    connection.subscribe(subject, {
      queue,
      callback: (error, message) => {
        if (error === null) deliver(message)
      }
    })
  )
  return {
    // Drain: messages the server already routed here still reach the mailbox.
    stop: async () => {
      await Promise.all(subscriptions.map((subscription) => subscription.drain().catch(() => undefined)))
    }
  }
}

/**
 * Scheduled invocations (`everyMs` or a UTC cron expression) with an empty message on
 * `$NEX.schedule.<name>`. At most one tick is queued or running: a slow handler skips ticks rather
 * than piling them up.
 */
export const startSchedule = (spec: DeploymentSpec, actor: WorkloadActor, claim?: PeriodClaim): Trigger => {
  const schedule = spec.schedule
  if (schedule === undefined) return { stop: async () => undefined }
  const subject = scheduleSubject(spec.name)
  let pending = false
  const invoke = (headers: HeaderPairs | undefined): void => {
    if (pending) return
    pending = true
    const accepted = actor.offer({
      kind: invocationKind.message,
      subject,
      reply: undefined,
      data: empty,
      headers,
      complete: () => (pending = false)
    })
    if (!accepted) pending = false
  }
  const fire = (periodStart: number): void => {
    if (claim === undefined) invoke(undefined)
    // The period it fires for, as the cluster agreed on it (the handler may run a little later).
    else void claim(spec.name, periodStart).then((won) => won && invoke([[periodHeader, new Date(periodStart).toISOString()]]))
  }
  if ("everyMs" in schedule) {
    const everyMs = schedule.everyMs
    if (claim === undefined) {
      const interval = setInterval(() => fire(Date.now()), everyMs)
      return { stop: async () => clearInterval(interval) }
    }
    // In a cluster the periods are aligned to the epoch, so every replica names the same period.
    let timer: NodeJS.Timeout | undefined
    const armAligned = (after: number): void => {
      const due = (Math.floor(Math.max(after, Date.now()) / everyMs) + 1) * everyMs
      timer = setTimeout(() => {
        fire(due)
        armAligned(due)
      }, due - Date.now())
    }
    armAligned(Date.now())
    return { stop: async () => clearTimeout(timer) }
  }
  const cron = new Cron(schedule.cron)
  let upcoming = cron.next(new Date())
  let timer: NodeJS.Timeout | undefined
  const arm = (): void => {
    if (upcoming === undefined) return
    const due = upcoming.getTime()
    // setTimeout caps at 2^31-1 ms (~24.8 days) and may fire a little early: re-arm until due.
    timer = setTimeout(
      () => {
        if (Date.now() + 5 >= due) {
          fire(due)
          upcoming = cron.next(new Date(Math.max(due, Date.now())))
        }
        arm()
      },
      Math.min(Math.max(0, due - Date.now()), 2 ** 31 - 1)
    )
  }
  arm()
  return {
    stop: async () => {
      upcoming = undefined
      if (timer !== undefined) clearTimeout(timer)
    }
  }
}

import { type NatsConnection, NoRespondersError, RequestError } from "@nats-io/transport-node"
import { Api } from "@nex/runtime"
import { Effect } from "effect"
import type { z } from "zod"
import { CommandFailure } from "./CommandFailure.ts"

const isNoResponders = (error: unknown): boolean =>
  error instanceof NoRespondersError || (error instanceof RequestError && error.cause instanceof NoRespondersError)

/** One control-API request; no node, a timeout, or an `{error}` answer become one line. */
export const requestApi = <Body extends z.ZodType>(connection: NatsConnection, subject: string, request: unknown, body: Body): Effect.Effect<z.infer<Body>, CommandFailure> =>
  Effect.gen(function* () {
    const reply = yield* Effect.tryPromise({
      try: () => connection.request(subject, JSON.stringify(request), { timeout: 5000 }),
      catch: (error) =>
        new CommandFailure({
          message: isNoResponders(error) ? `no node answered on ${subject} (is \`nex up\` running?)` : `${subject}: ${error instanceof Error ? error.message : String(error)}`
        })
    })
    const parsed = Api.responseOf(body).safeParse(yield* Effect.try({ try: () => reply.json(), catch: () => new CommandFailure({ message: `${subject}: the answer is not JSON` }) }))
    if (!parsed.success) return yield* new CommandFailure({ message: `${subject}: unexpected answer: ${parsed.error.issues[0].message}` })
    const answer = parsed.data as z.infer<Body> | Api.ApiError
    if (typeof answer === "object" && answer !== null && "error" in answer && typeof answer.error === "string") return yield* new CommandFailure({ message: answer.error })
    return answer as z.infer<Body>
  })

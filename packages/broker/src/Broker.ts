import { Context, Data, Effect, Layer } from "effect"
import type { BrokerConfigInput } from "./BrokerConfig.ts"

/** Why the broker could not start; `message` is one sentence for the user. */
export class BrokerStartError extends Data.TaggedError("BrokerStartError")<{
  readonly reason: "PortInUse" | "InvalidConfig" | "Listen"
  readonly message: string
  readonly cause?: unknown
}> {}

export interface BrokerShape {
  readonly host: string
  /** The bound port (differs from the configured one when that was 0). */
  readonly port: number
  readonly url: string
  readonly serverId: string
}

export class Broker extends Context.Tag("@nex/broker/Broker")<Broker, BrokerShape>() {}

/** Listens on the configured address; closing the scope drains and closes every connection. */
export const layer = (_config: BrokerConfigInput): Layer.Layer<Broker, BrokerStartError> =>
  Layer.fail(new BrokerStartError({ reason: "Listen", message: "not implemented yet" }))

export const _unused = Effect.void

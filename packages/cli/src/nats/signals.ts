import type { NatsConnection } from "@nats-io/transport-node"

export interface SignalWatch {
  /** Whether SIGINT or SIGTERM arrived (the connection is then closing). */
  readonly signalled: () => boolean
  readonly dispose: () => void
}

/** Ctrl-C or SIGTERM closes the connection, which ends the command's message loop cleanly. */
export const closeOnSignal = (connection: NatsConnection): SignalWatch => {
  let signalled = false
  const onSignal = (): void => {
    signalled = true
    void connection.close()
  }
  process.once("SIGINT", onSignal)
  process.once("SIGTERM", onSignal)
  return {
    signalled: () => signalled,
    dispose: () => {
      process.off("SIGINT", onSignal)
      process.off("SIGTERM", onSignal)
    }
  }
}

import type { NatsConnection } from "@nats-io/transport-node"
import { names } from "./WorkerProtocol.ts"

export type LogLevel = "debug" | "info" | "warn" | "error"

const encoder = new TextEncoder()

/**
 * Publishes workload log lines as JSON (the `LogLine` shape of the control API) on
 * `$NEX.logs.<name>`; the node's NEX_LOGS stream keeps them. Fire-and-forget: a line that cannot
 * be published (connection down, too large) never fails an invocation.
 */
export class LogPublisher {
  readonly #connection: NatsConnection
  readonly #node: string

  constructor(connection: NatsConnection, node: string) {
    this.#connection = connection
    this.#node = node
  }

  log(name: string, revision: number, level: LogLevel, message: string): void {
    const line = { time: new Date().toISOString(), name, level, message, revision, node: this.#node }
    try {
      this.#connection.publish(names.logsSubject(name), encoder.encode(JSON.stringify(line)))
    } catch {
      // See the class comment.
    }
  }
}

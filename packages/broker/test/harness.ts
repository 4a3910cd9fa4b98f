import { connect as connectSocket, type Socket } from "node:net"
import { Effect, Exit, Layer, Logger, LogLevel, Scope } from "effect"
import { Broker, type BrokerConfigInput, type BrokerShape, layer } from "../src/index.ts"

/** Tests read the broker's logs only when something fails. */
export const quiet = Logger.minimumLogLevel(LogLevel.Warning)

export interface RunningBroker {
  readonly broker: BrokerShape
  readonly close: () => Promise<void>
}

/** Starts the broker layer in this process on a free port; `close` closes its scope. */
export const startBroker = async (config: BrokerConfigInput = {}, options: { readonly held?: boolean } = {}): Promise<RunningBroker> => {
  const scope = await Effect.runPromise(Scope.make())
  const context = await Effect.runPromise(Layer.buildWithScope(layer({ port: 0, ...config }, options).pipe(Layer.provide(quiet)), scope))
  const broker = context.unsafeMap.get(Broker.key) as BrokerShape
  return { broker, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

/** A raw protocol socket that collects everything the server sends. */
export class RawClient {
  readonly socket: Socket
  received = ""
  closed = false

  private constructor(socket: Socket) {
    this.socket = socket
    socket.on("data", (chunk: Buffer) => (this.received += chunk.toString("latin1")))
    socket.on("close", () => (this.closed = true))
    socket.on("error", () => {})
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connectSocket(port, "127.0.0.1")
      socket.once("connect", () => resolve(new RawClient(socket)))
      socket.once("error", reject)
    })
  }

  send(text: string): void {
    this.socket.write(text)
  }

  /** Everything received after the INFO line. */
  get afterInfo(): string {
    const end = this.received.indexOf("\r\n")
    return end === -1 ? "" : this.received.slice(end + 2)
  }

  close(): void {
    this.socket.destroy()
  }
}

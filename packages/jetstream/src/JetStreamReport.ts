import type { JetStreamEngine } from "./JetStreamEngine.ts"
import { formatTimestamp, nowNanos } from "./Time.ts"

const truthy = (value: string | null): boolean => value === "" || value === "true" || value === "1"

/** The `jetstream` block of /varz and the /jsz body, in nats-server's shapes. */
export const jetStreamReport = (engine: JetStreamEngine) => {
  const config = () => ({
    max_memory: engine.options.maxMemory ?? -1,
    max_storage: engine.options.maxStorage ?? -1,
    store_dir: engine.options.storeDir,
    sync_interval: 0,
    compress_ok: false
  })
  const stats = () => {
    const account = engine.accountInfo() as { memory: number; storage: number; reserved_memory: number; reserved_storage: number }
    return {
      memory: account.memory,
      storage: account.storage,
      reserved_memory: account.reserved_memory,
      reserved_storage: account.reserved_storage,
      accounts: 1,
      ha_assets: 0,
      api: { total: engine.dispatcher.total, errors: engine.dispatcher.errors }
    }
  }
  return {
    varz: () => ({ config: config(), stats: stats() }),
    jsz: (query: URLSearchParams) => {
      let messages = 0
      let bytes = 0
      for (const stream of engine.streams.values()) {
        const state = stream.store.state()
        messages += state.messages
        bytes += state.bytes
      }
      const body: Record<string, unknown> = {
        server_id: engine.server.serverId,
        now: formatTimestamp(nowNanos()),
        config: config(),
        ...stats(),
        streams: engine.streams.size,
        consumers: engine.consumerCount(),
        messages,
        bytes
      }
      const wantStreams = truthy(query.get("streams")) || truthy(query.get("consumers"))
      if (truthy(query.get("accounts")) || wantStreams || query.get("acc") !== null) {
        const streamDetail = [...engine.streams.values()].map((stream) => {
          const info = stream.info()
          return {
            name: stream.name,
            created: info.created,
            cluster: info.cluster,
            ...(truthy(query.get("config")) ? { config: info.config } : {}),
            state: info.state,
            ...(truthy(query.get("consumers")) ? { consumer_detail: [...stream.consumers.values()].map((consumer) => consumer.info()) } : {})
          }
        })
        body.account_details = [{ name: "$G", id: "$G", ...stats(), ...(wantStreams ? { stream_detail: streamDetail } : {}) }]
      }
      return body
    }
  }
}

import { apiError, isApiError } from "./ApiErrors.ts"
import type { ApiRequest, Route } from "./ApiDispatcher.ts"
import { type ApiResponse, ConsumerCreateRequest, ConsumerListRequest, readBody, responseType } from "./api.ts"
import type { JetStreamEngine } from "./JetStreamEngine.ts"
import type { Stream } from "./Stream.ts"
import { hasPathSeparator } from "./StreamConfig.ts"

const namesLimit = 1024
const listLimit = 256


/** `$JS.API.CONSUMER.*` (MSG.NEXT is served on the read loop by the engine). */
export const consumerRoutes = (engine: JetStreamEngine): Route[] => {
  const withStream = (type: ApiResponse["type"], name: string, handle: (stream: Stream) => ApiResponse): ApiResponse => {
    const stream = engine.streams.get(name)
    return stream === undefined ? { type, error: apiError("JSStreamNotFoundErr") } : handle(stream)
  }

  /**
   * The four create subjects (nats-server jsConsumerCreateRequest): `CREATE.<s>` (legacy,
   * ephemeral or named in the body), `DURABLE.CREATE.<s>.<c>`, `CREATE.<s>.<c>` and
   * `CREATE.<s>.<c>.<filter…>`.
   */
  const create = (request: ApiRequest): ApiResponse => {
    const type = responseType.consumerCreate
    const body = readBody(ConsumerCreateRequest, request.payload, false)
    if (!body.ok) return { type, error: body.error }
    const tokens = request.tokens
    const legacyDurable = tokens[3] === "DURABLE"
    const streamName = legacyDurable ? tokens[5] : tokens[4]
    const consumerName = legacyDurable ? tokens[6] : tokens[5]
    const filter = !legacyDurable && tokens.length > 6 ? tokens.slice(6).join(".") : undefined
    const config = body.value.config ?? {}
    if (legacyDurable && tokens.length !== 7) return { type, error: apiError("JSConsumerDurableNameNotInSubjectErr") }
    if (streamName !== (body.value.stream_name ?? "")) return { type, error: apiError("JSStreamMismatchErr") }
    if (consumerName !== undefined && hasPathSeparator(consumerName)) return { type, error: apiError("JSConsumerNameContainsPathSeparatorsErr") }
    let name: string | undefined
    if (legacyDurable) {
      if (!config.durable_name) return { type, error: apiError("JSConsumerDurableNameNotSetErr") }
      if (consumerName !== config.durable_name) return { type, error: apiError("JSConsumerDurableNameNotMatchSubjectErr") }
      name = consumerName
    } else if (consumerName !== undefined) {
      if (config.durable_name && consumerName !== config.durable_name) return { type, error: apiError("JSConsumerDurableNameNotMatchSubjectErr") }
      name = consumerName
    } else {
      if (config.durable_name) return { type, error: apiError("JSConsumerEphemeralWithDurableNameErr") }
      name = config.name || undefined
    }
    if (filter !== undefined && (config.filter_subjects?.length ?? 0) > 0) return { type, error: apiError("JSConsumerMultipleFiltersNotAllowed") }
    if (filter !== undefined && config.filter_subject !== filter) return { type, error: apiError("JSConsumerCreateFilterSubjectMismatchErr") }
    if ((config.num_replicas ?? 0) > 1) return { type, error: apiError("JSStreamReplicasNotSupportedErr") }
    return withStream(type, streamName, (stream) => {
      const input = name !== undefined && !config.durable_name ? { ...config, name } : config
      const consumer = stream.createConsumer(input, name, body.value.action ?? "")
      if (isApiError(consumer)) return { type, error: consumer }
      return { type, ...consumer.info() }
    })
  }

  const info = (request: ApiRequest): ApiResponse => {
    const type = responseType.consumerInfo
    return withStream(type, request.tokens[4], (stream) => {
      const consumer = stream.consumers.get(request.tokens[5])
      return consumer === undefined ? { type, error: apiError("JSConsumerNotFoundErr") } : { type, ...consumer.info() }
    })
  }

  const remove = (request: ApiRequest): ApiResponse => {
    const type = responseType.consumerDelete
    return withStream(type, request.tokens[4], (stream) =>
      stream.deleteConsumer(request.tokens[5]) ? { type, success: true } : { type, error: apiError("JSConsumerNotFoundErr") }
    )
  }

  const sortedNames = (stream: Stream): string[] => [...stream.consumers.keys()].sort((left, right) => (left < right ? -1 : left > right ? 1 : 0))

  const names = (request: ApiRequest): ApiResponse => {
    const type = responseType.consumerNames
    const body = readBody(ConsumerListRequest, request.payload, true)
    if (!body.ok) return { type, error: body.error }
    return withStream(type, request.tokens[4], (stream) => {
      const all = sortedNames(stream)
      const offset = body.value.offset ?? 0
      return { type, total: all.length, offset, limit: namesLimit, consumers: all.slice(offset, offset + namesLimit) }
    })
  }

  const list = (request: ApiRequest): ApiResponse => {
    const type = responseType.consumerList
    const body = readBody(ConsumerListRequest, request.payload, true)
    if (!body.ok) return { type, error: body.error }
    return withStream(type, request.tokens[4], (stream) => {
      const all = sortedNames(stream)
      const offset = body.value.offset ?? 0
      const consumers = all.slice(offset, offset + listLimit).map((name) => (stream.consumers.get(name) as NonNullable<ReturnType<typeof stream.consumers.get>>).info())
      return { type, total: all.length, offset, limit: listLimit, consumers }
    })
  }

  return [
    { pattern: "CONSUMER.CREATE.*", handler: create },
    { pattern: "CONSUMER.CREATE.*.>", handler: create },
    { pattern: "CONSUMER.DURABLE.CREATE.*.*", handler: create },
    { pattern: "CONSUMER.INFO.*.*", handler: info },
    { pattern: "CONSUMER.DELETE.*.*", handler: remove },
    { pattern: "CONSUMER.NAMES.*", handler: names },
    { pattern: "CONSUMER.LIST.*", handler: list }
  ]
}

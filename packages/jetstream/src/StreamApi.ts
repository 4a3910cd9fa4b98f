import { subjectsOverlap } from "@nex/protocol"
import { apiError, isApiError } from "./ApiErrors.ts"
import type { ApiRequest, Route } from "./ApiDispatcher.ts"
import { type ApiResponse, NamesRequest, PurgeRequest, readBody, responseType, StreamConfigInput, StreamInfoRequest } from "./api.ts"
import type { JetStreamEngine } from "./JetStreamEngine.ts"
import type { Stream } from "./Stream.ts"
import { checkStreamUpdate, hasPathSeparator, normalizeStreamConfig, sameStreamConfig } from "./StreamConfig.ts"

const namesLimit = 1024
const listLimit = 256

/** The stream name token of `$JS.API.STREAM.<op>.<name>`. */
const streamToken = (request: ApiRequest): string => request.tokens[4]

const sortedStreams = (engine: JetStreamEngine, subject: string | null | undefined): Stream[] =>
  [...engine.streams.values()]
    .filter((stream) => !subject || stream.config.subjects.some((own) => subjectsOverlap(own, subject)))
    .sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0))

/** `$JS.API.INFO` and the `$JS.API.STREAM.*` endpoints. */
export const streamRoutes = (engine: JetStreamEngine): Route[] => {
  const withStream = (type: ApiResponse["type"], request: ApiRequest, handle: (stream: Stream) => ApiResponse | Promise<ApiResponse>) => {
    const stream = engine.streams.get(streamToken(request))
    return stream === undefined ? { type, error: apiError("JSStreamNotFoundErr") } : handle(stream)
  }

  const create = async (request: ApiRequest): Promise<ApiResponse> => {
    const type = responseType.streamCreate
    const body = readBody(StreamConfigInput, request.payload, false)
    if (!body.ok) return { type, error: body.error }
    const name = streamToken(request)
    if (name !== body.value.name) return { type, error: apiError("JSStreamMismatchErr") }
    if (hasPathSeparator(name)) return { type, error: apiError("JSStreamNameContainsPathSeparatorsErr") }
    if (body.value.sealed === true) return { type, error: apiError("JSStreamInvalidConfigF", { err: "stream configuration for create can not be sealed" }) }
    const config = normalizeStreamConfig(body.value)
    if (isApiError(config)) return { type, error: config }
    if (config.num_replicas > 1) return { type, error: apiError("JSStreamReplicasNotSupportedErr") }
    const existing = engine.streams.get(name)
    if (existing !== undefined) {
      if (!sameStreamConfig(existing.config, config)) return { type, error: apiError("JSStreamNameExistErr") }
      return { type, ...existing.info(), did_create: true }
    }
    const refused = engine.reservationRefused(config)
    if (refused !== undefined) return { type, error: refused }
    if (engine.overlapsAnotherStream(config)) return { type, error: apiError("JSStreamSubjectOverlapErr") }
    try {
      const stream = await engine.createStream(config)
      return { type, ...stream.info(), did_create: true }
    } catch (error) {
      return { type, error: apiError("JSStreamCreateErrF", { err: (error as Error).message }) }
    }
  }

  const update = (request: ApiRequest): ApiResponse | Promise<ApiResponse> => {
    const type = responseType.streamUpdate
    const body = readBody(StreamConfigInput, request.payload, false)
    if (!body.ok) return { type, error: body.error }
    if (streamToken(request) !== body.value.name) return { type, error: apiError("JSStreamMismatchErr") }
    return withStream(type, request, async (stream) => {
      const normalized = normalizeStreamConfig(body.value)
      if (isApiError(normalized)) return { type, error: normalized }
      const config = checkStreamUpdate(stream.config, normalized)
      if (isApiError(config)) return { type, error: config }
      if (engine.overlapsAnotherStream(config)) return { type, error: apiError("JSStreamSubjectOverlapErr") }
      const refused = engine.reservationRefused(config, stream.config)
      if (refused !== undefined) return { type, error: refused }
      await engine.updateStream(stream, config)
      return { type, ...stream.info() }
    })
  }

  const remove = (request: ApiRequest) =>
    withStream(responseType.streamDelete, request, async (stream) => {
      await engine.deleteStream(stream)
      return { type: responseType.streamDelete, success: true }
    })

  const info = (request: ApiRequest) => {
    const type = responseType.streamInfo
    const body = readBody(StreamInfoRequest, request.payload, true)
    if (!body.ok) return { type, error: body.error }
    return withStream(type, request, (stream) => ({
      type,
      ...stream.info({
        deletedDetails: body.value.deleted_details === true,
        subjectsFilter: body.value.subjects_filter ?? undefined,
        offset: body.value.offset ?? 0
      })
    }))
  }

  const names = (request: ApiRequest): ApiResponse => {
    const type = responseType.streamNames
    const body = readBody(NamesRequest, request.payload, true)
    if (!body.ok) return { type, error: body.error }
    const all = sortedStreams(engine, body.value.subject)
    const offset = body.value.offset ?? 0
    return { type, total: all.length, offset, limit: namesLimit, streams: all.slice(offset, offset + namesLimit).map((stream) => stream.name) }
  }

  const list = (request: ApiRequest): ApiResponse => {
    const type = responseType.streamList
    const body = readBody(NamesRequest, request.payload, true)
    if (!body.ok) return { type, error: body.error }
    const all = sortedStreams(engine, body.value.subject)
    const offset = body.value.offset ?? 0
    const streams = all.slice(offset, offset + listLimit).map((stream) => {
      const { total: _total, offset: _offset, limit: _limit, ...info } = stream.info()
      return info
    })
    return { type, total: all.length, offset, limit: listLimit, streams }
  }

  const purge = (request: ApiRequest) => {
    const type = responseType.streamPurge
    const body = readBody(PurgeRequest, request.payload, true)
    if (!body.ok) return { type, error: body.error }
    return withStream(type, request, (stream) => {
      const purged = stream.purge({ filter: body.value.filter ?? undefined, seq: body.value.seq ?? undefined, keep: body.value.keep ?? undefined })
      return isApiError(purged) ? { type, error: purged } : { type, success: true, purged }
    })
  }

  return [
    { pattern: "INFO", handler: () => ({ type: responseType.accountInfo, ...engine.accountInfo() }) },
    { pattern: "STREAM.CREATE.*", handler: create },
    { pattern: "STREAM.UPDATE.*", handler: update },
    { pattern: "STREAM.DELETE.*", handler: remove },
    { pattern: "STREAM.INFO.*", handler: info },
    { pattern: "STREAM.NAMES", handler: names },
    { pattern: "STREAM.LIST", handler: list },
    { pattern: "STREAM.PURGE.*", handler: purge }
  ]
}

export { type ApiError, apiError, type ApiErrorName, apiErrors, isApiError } from "./ApiErrors.ts"
export {
  ConsumerConfigInput,
  ConsumerCreateRequest,
  MessageDeleteRequest,
  MessageGetRequest,
  NamesRequest,
  PurgeRequest,
  type PubAck,
  responseType,
  StreamConfigInput,
  StreamInfoRequest
} from "./api.ts"
export type { ConsumerConfig } from "./ConsumerConfig.ts"
export { JetStream, JetStreamStartError, type JetStreamShape, layer } from "./JetStream.ts"
export { JetStreamEngine, type JetStreamOptions } from "./JetStreamEngine.ts"
export type { StreamConfig } from "./StreamConfig.ts"
export { formatTimestamp, parseTimestamp } from "./Time.ts"

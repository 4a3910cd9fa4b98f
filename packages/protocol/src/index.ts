export { Parser, type ParserHandler, type ProtocolViolation } from "./Parser.ts"
export { encodeError, encodeInfo, OK, OutboundBuffer, PING, PONG } from "./Encoder.ts"
export {
  isSubsetOf,
  isValidLiteralSubject,
  isValidQueueName,
  isValidSubject,
  subjectMatches,
  subjectsOverlap
} from "./Subject.ts"
export { decodeHeaders, encodeHeaders, findHeader, type HeaderBlock, HeaderFormatError, statusMessage } from "./Headers.ts"
export { type MatchResult, type Subscriber, Sublist, type SublistStats } from "./Sublist.ts"

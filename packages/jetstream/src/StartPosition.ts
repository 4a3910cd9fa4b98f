import type { ConsumerConfig } from "./ConsumerConfig.ts"
import type { MessageStore, SubjectFilter } from "./store/index.ts"
import { parseTimestamp } from "./Time.ts"

/** The last message of each subject, delivered first by a `last_per_subject` consumer. */
export interface LastPerSubject {
  readonly seqs: number[]
  index: number
  /** The stream's last sequence when the consumer was created; delivery continues after it. */
  readonly resume: number
}

export interface StartPosition {
  /** The first stream sequence to look at. */
  readonly position: number
  readonly lastPerSubject: LastPerSubject | undefined
}

/** Where a new consumer starts reading (nats-server selectStartingSeqNo). */
export const selectStartPosition = (store: MessageStore, config: ConsumerConfig, filter: SubjectFilter, maxMsgsPerSubject: number): StartPosition => {
  const state = store.state()
  let position: number
  let lastPerSubject: LastPerSubject | undefined
  switch (config.deliver_policy) {
    case "all":
      position = state.firstSeq
      break
    case "last":
      position = filter.matchesAll ? state.lastSeq : store.lastSeqBySubject(filter) || state.lastSeq + 1
      break
    case "new":
      position = state.lastSeq + 1
      break
    case "by_start_sequence":
      position = config.opt_start_seq ?? 1
      break
    case "by_start_time":
      position = store.firstSeqAtOrAfter(parseTimestamp(config.opt_start_time ?? "") ?? 0) ?? state.lastSeq + 1
      break
    case "last_per_subject":
      // With one message per subject every message is the last of its subject.
      if (maxMsgsPerSubject === 1) {
        position = state.firstSeq
        break
      }
      lastPerSubject = { seqs: store.lastSeqsBySubject(filter), index: 0, resume: state.lastSeq }
      position = lastPerSubject.seqs.length === 0 ? state.lastSeq + 1 : lastPerSubject.seqs[0]
      break
  }
  if (state.firstSeq === 0) position = 1
  else if (position < state.firstSeq) position = state.firstSeq
  else if (position > state.lastSeq) position = state.lastSeq + 1
  return { position, lastPerSubject }
}

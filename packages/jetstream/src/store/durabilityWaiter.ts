import type { MessageStore } from "./MessageStore.ts"

/** Promises over a store's durability listener, for tests and benches that await their appends. */
export interface DurabilityWaiter {
  /** Resolves once `seq` is durable; rejects if the store fails before. */
  until(seq: number): Promise<void>
  /** Every sequence the store told of, in order. */
  readonly told: number[]
}

/** Takes the store's one durability listener (a stream holds it in production). */
export const durabilityWaiter = (store: Pick<MessageStore, "durableSeq" | "setDurabilityListener">): DurabilityWaiter => {
  let waiting: Array<{ readonly seq: number; readonly resolve: () => void; readonly reject: (error: Error) => void }> = []
  let failure: Error | undefined
  const told: number[] = []
  store.setDurabilityListener({
    durableThrough: (seq) => {
      told.push(seq)
      const stillWaiting: typeof waiting = []
      for (const waiter of waiting) {
        if (waiter.seq <= seq) waiter.resolve()
        else stillWaiting.push(waiter)
      }
      waiting = stillWaiting
    },
    failed: (error) => {
      failure = error
      const durable = store.durableSeq()
      for (const waiter of waiting) {
        if (waiter.seq <= durable) waiter.resolve()
        else waiter.reject(error)
      }
      waiting = []
    }
  })
  return {
    told,
    until: (seq) => {
      if (store.durableSeq() >= seq) return Promise.resolve()
      if (failure !== undefined) return Promise.reject(failure)
      return new Promise((resolve, reject) => waiting.push({ seq, resolve, reject }))
    }
  }
}

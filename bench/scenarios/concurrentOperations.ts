/**
 * Runs up to `count` operations, `inFlight` at a time, until `timeMs` passes; the i-th completed
 * operation's latency (ms) goes to `latencies[i]` when given. Returns how many completed.
 */
export const runConcurrently = async (
  operate: (index: number) => Promise<void>,
  options: { readonly count: number; readonly inFlight: number; readonly timeMs: number; readonly latencies?: Float64Array }
): Promise<number> => {
  const { count, inFlight, latencies } = options
  let issued = 0
  let completed = 0
  const deadline = Date.now() + options.timeMs
  const worker = async (): Promise<void> => {
    while (issued < count && Date.now() < deadline) {
      const sent = performance.now()
      await operate(issued++)
      if (latencies !== undefined) latencies[completed] = performance.now() - sent
      completed++
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
  return completed
}

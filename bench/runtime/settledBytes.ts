/**
 * `read()` once two readings `intervalMs` apart differ by less than 1% (memory has stopped moving
 * after a burst of work), or the last reading after `timeoutMs`.
 */
export const settledBytes = async (read: () => number, intervalMs = 500, timeoutMs = 15_000): Promise<number> => {
  const deadline = performance.now() + timeoutMs
  let previous = read()
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
    const current = read()
    if (Math.abs(current - previous) / previous < 0.01 || performance.now() > deadline) return current
    previous = current
  }
}

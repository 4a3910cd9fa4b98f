/** Retries `check` until it stops throwing or `timeout` ms pass; then rethrows the last failure. */
export const eventually = async <A>(
  check: () => A | Promise<A>,
  options: { timeout?: number; interval?: number } = {}
): Promise<A> => {
  const timeout = options.timeout ?? 5000
  const interval = options.interval ?? 20
  const deadline = Date.now() + timeout
  for (;;) {
    try {
      return await check()
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, interval))
    }
  }
}

/** Counts deliveries from a subscription callback and lets the bench wait for a given count. */
export class DeliveryCounter {
  count = 0
  #target = Number.POSITIVE_INFINITY
  #wake: (() => void) | undefined

  /** Pass as the subscription callback: one increment per message, no allocation. */
  readonly onMessage = (): void => {
    this.count++
    if (this.count >= this.#target) {
      this.#target = Number.POSITIVE_INFINITY
      this.#wake?.()
    }
  }

  /** Resolves true once `target` messages arrived, or false at `deadline` (a Date.now() value). */
  reached(target: number, deadline: number): Promise<boolean> {
    if (this.count >= target) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined
        this.#target = Number.POSITIVE_INFINITY
        resolve(false)
      }, Math.max(0, deadline - Date.now()))
      this.#target = target
      this.#wake = () => {
        clearTimeout(timer)
        resolve(true)
      }
    })
  }
}

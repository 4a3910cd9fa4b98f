/** The last `capacity` durations of a workload, for the p50/p99 of its heartbeat stats. */
export class LatencyWindow {
  readonly #samples: Float64Array
  #next = 0
  #count = 0
  #changed = false
  #percentiles = { p50: 0, p99: 0 }

  constructor(capacity = 256) {
    this.#samples = new Float64Array(capacity)
  }

  record(milliseconds: number): void {
    this.#samples[this.#next] = milliseconds
    this.#next = (this.#next + 1) % this.#samples.length
    if (this.#count < this.#samples.length) this.#count++
    this.#changed = true
  }

  /** Sorted only when something was recorded since the last call (heartbeats ask every second). */
  percentiles(): { readonly p50: number; readonly p99: number } {
    if (!this.#changed) return this.#percentiles
    this.#changed = false
    const sorted = this.#samples.slice(0, this.#count).sort()
    const at = (fraction: number) => sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]
    this.#percentiles = { p50: round(at(0.5)), p99: round(at(0.99)) }
    return this.#percentiles
  }
}

const round = (milliseconds: number): number => Math.round(milliseconds * 1000) / 1000

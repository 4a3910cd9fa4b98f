import { formatBytes } from "./size.ts"

/** Progress of one transfer: `advance` as bytes move, `finish` once they all have. */
export interface TransferProgress {
  readonly advance: (bytes: number) => void
  readonly finish: () => void
}

export interface ProgressOptions {
  /** Whether progress was asked for at all (natscli's --progress, on by default). */
  readonly enabled: boolean
  /** Where progress goes; a terminal gets a redrawn bar, anything else plain lines. */
  readonly terminal: boolean
  readonly write: (text: string) => void
  readonly now?: () => number
}

// natscli draws no bar for objects up to 20 KiB; without a terminal, lines only pay off for large ones.
const barThreshold = 20 * 1024
const lineThreshold = 1024 * 1024
const barInterval = 100
const lineInterval = 1000
const barWidth = 30

const silent: TransferProgress = { advance: () => {}, finish: () => {} }

const percentOf = (done: number, total: number): number => Math.floor((done / total) * 100)

/**
 * Reports a transfer of `total` bytes named `label`: on a terminal a bar redrawn at most ten times
 * a second, otherwise a percentage line at most once a second and a last one at 100%.
 */
export const transferProgress = (label: string, total: number | undefined, options: ProgressOptions): TransferProgress => {
  if (!options.enabled || total === undefined) return silent
  const now = options.now ?? Date.now
  const started = now()
  let done = 0
  if (options.terminal) {
    if (total <= barThreshold) return silent
    let drawn = -Infinity
    const draw = (): void => {
      const filled = Math.round((done / total) * barWidth)
      options.write(`\r${label} [${"#".repeat(filled)}${".".repeat(barWidth - filled)}] ${String(percentOf(done, total)).padStart(3)}% ${formatBytes(done)} / ${formatBytes(total)}`)
      drawn = now()
    }
    return {
      advance: (bytes) => {
        done += bytes
        if (now() - drawn >= barInterval) draw()
      },
      finish: () => {
        draw()
        options.write("\n")
      }
    }
  }
  if (total < lineThreshold) return silent
  let reported = started
  const line = (): void => options.write(`${label}: ${formatBytes(done)} of ${formatBytes(total)} (${percentOf(done, total)}%)\n`)
  return {
    advance: (bytes) => {
      done += bytes
      if (now() - reported < lineInterval) return
      reported = now()
      line()
    },
    finish: line
  }
}

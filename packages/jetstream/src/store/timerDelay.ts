/** The longest delay setTimeout honours (about 24.8 days); a longer one fires at once, in a loop. */
const maxTimerDelayMs = 2 ** 31 - 1

/** A setTimeout delay for `ms`, capped: the callback re-checks its deadline when it fires early. */
export const timerDelay = (ms: number): number => Math.min(Math.max(0, ms), maxTimerDelayMs)

/**
 * Runs `measure` for each side in `rounds` rounds, the order reversed every other round (ABBA…),
 * so that a change in the machine's load (shared with other work) falls on every side alike.
 */
export const interleaved = async <Side extends string>(sides: ReadonlyArray<Side>, rounds: number, measure: (side: Side) => Promise<void>): Promise<void> => {
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse()
    for (const side of order) await measure(side)
  }
}

import { defineHandler } from "@nex/sdk"

/** A CPU-bound request: about a millisecond of arithmetic, then the node's name. */
export default defineHandler((_message, context) => {
  let sum = 0
  for (let index = 0; index < 200_000; index++) sum = (sum + index * index) % 1_000_003
  return `${context.node} ${sum}`
})

import { hasNatsServer, startNatsServer } from "./natsServer.ts"
import { startNex } from "./nexNode.ts"
import type { DiffTarget } from "./targets.ts"

const allJetStreamTargets: ReadonlyArray<DiffTarget> = [
  { name: "nats-server", available: hasNatsServer, start: () => startNatsServer({ jetstream: true }) },
  // `nex up` serves JetStream from the --store directory startNex already gives it.
  { name: "nex", available: true, start: () => startNex() }
]

/**
 * The servers every JetStream differential test runs against, reference first: nats-server with
 * -js and a temp store, and nex. `DIFF_TARGETS=nats-server` (comma-separated names) narrows it.
 */
export const jetStreamTargets = (): ReadonlyArray<DiffTarget> => {
  const selected = process.env.DIFF_TARGETS?.split(",").map((name) => name.trim()).filter((name) => name !== "")
  if (selected === undefined || selected.length === 0) return allJetStreamTargets
  return allJetStreamTargets.filter((target) => selected.includes(target.name))
}

// Deploys the counter with concurrency 1 and sends it 50 concurrent requests for one key:
// they run one at a time, so the final count is exactly 50.
// Run against a node: `npm start` in one terminal, `npx node examples/counter.ts` in another.
import { join } from "node:path"
import { Kvm } from "@nats-io/kv"
import { connect } from "@nats-io/transport-node"
import { deployWorkloadAsync } from "@nex/runtime"

const file = join(import.meta.dirname, "..", "workloads", "counter", "index.ts")

export const counterExample = async (servers: string, print: (line: string) => void = console.log): Promise<void> => {
  const connection = await connect({ servers })
  try {
    const counters = await new Kvm(connection).create("counters")
    await counters.purge("apples")
    const deployed = await deployWorkloadAsync(connection, { file, name: "counter", triggers: ["count.*"], concurrency: 1 })
    print(`counter revision ${deployed.spec.revision} is running on ${deployed.node}`)

    const replies = await Promise.all(Array.from({ length: 50 }, () => connection.request("count.apples", "", { timeout: 10_000 })))
    const counts = replies.map((reply) => reply.json<{ count: number }>().count).sort((left, right) => left - right)
    print(`50 requests saw counts ${counts[0]}..${counts.at(-1)}, each once: ${new Set(counts).size === 50}`)
    print(`stored count: ${(await counters.get("apples"))?.string()}`)
  } finally {
    await connection.close()
  }
}

if (import.meta.main) await counterExample(process.env.NATS_URL ?? "nats://127.0.0.1:4222")

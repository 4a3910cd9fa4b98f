// Uploads a CSV to object store bucket "sales", deploys the report workload and asks for a summary.
// Run against a node: `npm start` in one terminal, `npx node examples/report.ts` in another.
import { join } from "node:path"
import { Objm } from "@nats-io/obj"
import { connect } from "@nats-io/transport-node"
import { deployWorkloadAsync } from "@nex/runtime"

const file = join(import.meta.dirname, "..", "workloads", "report", "index.ts")

const csv = ["region,amount", "north,120.50", "south,80", "north,19.50", "west,42.25"].join("\n")

export const reportExample = async (servers: string, print: (line: string) => void = console.log): Promise<void> => {
  const connection = await connect({ servers })
  try {
    const sales = await new Objm(connection).create("sales")
    await sales.putBlob({ name: "2026-q3.csv" }, new TextEncoder().encode(csv))
    const deployed = await deployWorkloadAsync(connection, { file, name: "report", triggers: ["report.generate"] })
    print(`report revision ${deployed.spec.revision} is running on ${deployed.node}`)

    const reply = await connection.request("report.generate", JSON.stringify({ bucket: "sales", object: "2026-q3.csv" }), { timeout: 5000 })
    const failure = reply.headers?.get("Nex-Error")
    if (failure) throw new Error(`report failed: ${failure}`)
    const summary = reply.json<{ rows: number; total: number; byRegion: Record<string, number> }>()
    print(`${summary.rows} rows, total ${summary.total}, north ${summary.byRegion.north}`)

    const artifact = await (await new Objm(connection).open("nex-artifacts")).info("report/reports/2026-q3.csv.summary.json")
    print(`summary artifact: ${artifact?.name} (${artifact?.size} bytes)`)
  } finally {
    await connection.close()
  }
}

if (import.meta.main) await reportExample(process.env.NATS_URL ?? "nats://127.0.0.1:4222")

// Deploys the orders job, publishes orders to stream ORDERS, and reads the receipts it writes.
// Run against a node: `npm start` in one terminal, `npx node examples/orders.ts` in another.
import { join } from "node:path"
import { jetstream } from "@nats-io/jetstream"
import { Objm } from "@nats-io/obj"
import { connect } from "@nats-io/transport-node"
import { deployWorkloadAsync } from "@nex/runtime"

const file = join(import.meta.dirname, "..", "workloads", "orders", "index.ts")

export const ordersExample = async (servers: string, print: (line: string) => void = console.log): Promise<void> => {
  const connection = await connect({ servers })
  try {
    // Creates stream ORDERS for orders.> when it does not exist yet.
    const deployed = await deployWorkloadAsync(connection, { file, name: "orders", job: { stream: "ORDERS", filter: "orders.>", maxAttempts: 2 } })
    print(`orders revision ${deployed.spec.revision} consumes ORDERS on ${deployed.node}`)

    const order = { id: 123, customer: "ada", items: [{ sku: "tea", quantity: 2, price: 3.5 }] }
    const ack = await jetstream(connection).publish("orders.new", JSON.stringify(order))
    print(`published order ${order.id} as ORDERS #${ack.seq}`)

    // Artifacts are kept in bucket nex-artifacts under <workload>/<name>.
    const artifacts = await new Objm(connection).open("nex-artifacts")
    for (let attempt = 0; attempt < 100; attempt++) {
      const receipt = await artifacts.getBlob(`orders/receipts/${order.id}.json`)
      if (receipt !== null) {
        const { orderId, lines, total } = JSON.parse(new TextDecoder().decode(receipt))
        print(`receipt for order ${orderId}: ${lines} line(s), total ${total}`)
        return
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    throw new Error("no receipt after 10 s")
  } finally {
    await connection.close()
  }
}

if (import.meta.main) await ordersExample(process.env.NATS_URL ?? "nats://127.0.0.1:4222")

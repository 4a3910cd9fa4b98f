import { defineHandler } from "@nex/sdk"
import * as z from "zod/mini"

// An npm package, bundled into the workload by `nex deploy` (zod's tree-shakable build: ~40 KB).
const Order = z.object({
  id: z.number().check(z.int(), z.positive()),
  customer: z.optional(z.string().check(z.minLength(1))),
  items: z._default(
    z.array(
      z.object({
        sku: z.string().check(z.minLength(1)),
        quantity: z.number().check(z.int(), z.positive()),
        price: z.number().check(z.nonnegative())
      })
    ),
    []
  )
})

/**
 * A job on stream ORDERS: each order message is validated and gets a receipt artifact
 * `receipts/<id>.json`. An invalid order throws, so the message is retried and finally
 * dead-lettered; a valid one is acknowledged once its receipt is stored.
 */
export default defineHandler(async (message, context) => {
  const result = Order.safeParse(message.json())
  if (!result.success) throw new Error(`invalid order: ${result.error.issues.map((issue) => `${issue.path.join(".") || "order"}: ${issue.message}`).join("; ")}`)
  const order = result.data
  const receipt = {
    orderId: order.id,
    customer: order.customer ?? null,
    lines: order.items.length,
    total: Math.round(order.items.reduce((sum, item) => sum + item.quantity * item.price, 0) * 100) / 100,
    subject: message.subject,
    processedBy: context.node,
    processedAt: new Date().toISOString()
  }
  const name = `receipts/${order.id}.json`
  await context.artifacts.put(name, receipt)
  context.log.info(`order ${order.id}: receipt ${name} written (total ${receipt.total})`)
  return receipt
})

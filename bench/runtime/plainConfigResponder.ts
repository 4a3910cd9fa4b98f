import { Kvm } from "@nats-io/kv"
import { connect } from "@nats-io/transport-node"

// The reference for a workload's live config: a plain client in its own process that watches one
// key of a KV bucket and answers requests with the `version` it last saw, as the bench workload
// configVersion.ts does. Usage: plainConfigResponder.ts URL BUCKET KEY SUBJECT; prints "ready".
const [url, bucketName, key, subject] = process.argv.slice(2)
const connection = await connect({ servers: url, name: "plain config responder" })
const bucket = await new Kvm(connection).open(bucketName)
let version = "0"
const updates = await bucket.watch({ key })
connection.subscribe(subject, { callback: (_error, message) => void message.respond(version) })
await connection.flush()
console.log("ready")
process.once("SIGTERM", () => void connection.close().then(() => process.exit(0)))
for await (const entry of updates) {
  if (entry.operation === "PUT") version = String(entry.json<{ version?: number }>().version ?? 0)
}

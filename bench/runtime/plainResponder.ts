import { connect } from "@nats-io/transport-node"

// The reference for a workload's request/reply: a plain client in its own process answering with
// the request's bytes. Usage: plainResponder.ts URL SUBJECT; prints "ready" once subscribed.
const [url, subject] = process.argv.slice(2)
const connection = await connect({ servers: url, name: "plain responder" })
connection.subscribe(subject, { callback: (_error, message) => void message.respond(message.data) })
await connection.flush()
console.log("ready")
process.once("SIGTERM", () => void connection.close().then(() => process.exit(0)))

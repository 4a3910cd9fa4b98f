import { jetstream } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"

// The reference for a workload's job: a plain @nats-io/jetstream pull consumer in its own process
// that acks each message, on a durable the bench created as the runtime creates a job's.
// Usage: plainConsumer.ts URL STREAM DURABLE; prints "ready" once consuming.
const [url, stream, durable] = process.argv.slice(2)
const connection = await connect({ servers: url, name: "plain consumer" })
const consumer = await jetstream(connection).consumers.get(stream, durable)
const messages = await consumer.consume()
console.log("ready")
process.once("SIGTERM", () => void connection.close().then(() => process.exit(0)))
for await (const message of messages) message.ack()

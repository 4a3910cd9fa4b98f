import { defineHandler } from "@nex/sdk"

/** Its configuration: the JSON value of key `greeter` in KV bucket `nex-config`. */
interface GreeterConfig {
  readonly greeting?: string
}

/**
 * `greet.<name>` -> "Hello, <name>!". The greeting comes from the live config, so
 * `nats kv put nex-config greeter '{"greeting":"Hi"}'` changes the answer without a redeploy.
 */
export default defineHandler((message, context) => {
  const name = message.subject.split(".").slice(1).join(".") || message.text() || "world"
  const greeting = context.config<GreeterConfig>().greeting ?? "Hello"
  return `${greeting}, ${name}!`
})

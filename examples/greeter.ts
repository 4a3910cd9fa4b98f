// Deploys the greeter, asks it to greet, then changes its greeting through live config.
// Run against a node: `npm start` in one terminal, `npx node examples/greeter.ts` in another.
import { join } from "node:path"
import { Kvm } from "@nats-io/kv"
import { connect } from "@nats-io/transport-node"
import { deployWorkloadAsync } from "@nex/runtime"

const file = join(import.meta.dirname, "..", "workloads", "greeter", "index.ts")

export const greeterExample = async (servers: string, print: (line: string) => void = console.log): Promise<void> => {
  const connection = await connect({ servers })
  try {
    const deployed = await deployWorkloadAsync(connection, { file, name: "greeter", triggers: ["greet.*"] })
    print(`greeter revision ${deployed.spec.revision} is running on ${deployed.node}`)
    print((await connection.request("greet.world", "", { timeout: 5000 })).string())

    // The workload reads key "greeter" of bucket nex-config; a change reaches it without a redeploy.
    const config = await new Kvm(connection).open("nex-config")
    await config.put("greeter", JSON.stringify({ greeting: "Hi" }))
    for (let attempt = 0; attempt < 50; attempt++) {
      const reply = (await connection.request("greet.world", "", { timeout: 5000 })).string()
      if (reply.startsWith("Hi")) {
        print(reply)
        break
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    await config.delete("greeter")
  } finally {
    await connection.close()
  }
}

if (import.meta.main) await greeterExample(process.env.NATS_URL ?? "nats://127.0.0.1:4222")

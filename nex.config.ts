import { defineConfig } from "@nex/cli"

// The node `npm start` runs: NATS clients on 127.0.0.1:4222, monitoring on http://127.0.0.1:8222,
// JetStream in .nex-data, and the greeter workload answering `greet.*` from an isolated-vm sandbox.
export default defineConfig({
  server: {
    host: "127.0.0.1",
    port: 4222
  },
  monitoring: {
    port: 8222
  },
  jetstream: {
    storeDir: ".nex-data"
  },
  workloads: [{ file: "workloads/greeter/index.ts", name: "greeter", triggers: ["greet.*"] }]
})

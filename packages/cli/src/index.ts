// Type-only apart from defineConfig, so `import { defineConfig } from "@nex/cli"` in a config file
// stays instant; the zod schema itself is exported from "@nex/cli/config".
export type { JetStreamConfig, MonitoringConfig, NexConfig, NexConfigInput } from "./config.ts"
export { defineConfig } from "./defineConfig.ts"

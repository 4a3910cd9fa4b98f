import type { NexConfigInput } from "./config.ts"

/**
 * Types a `nex.config.ts` default export; returns its argument unchanged. It lives apart from the
 * schema so that a config file importing it loads nothing else (`nex up` validates the export).
 */
export const defineConfig = (config: NexConfigInput): NexConfigInput => config

import { defineHandler } from "@nex/sdk"

/** Answers with the `version` of its live config, so the bench sees when a KV change arrived. */
export default defineHandler((_message, context) => context.config<{ version?: number }>().version ?? 0)
